package compart.core.qrexec;

import compart.core.qubesdb.UpstreamQubesDb;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Test support: Qubes' unmodified VM-side qrexec ({@code qrexec-agent}, {@code qrexec-client-vm} and libqrexec)
 * of one release, compiled from {@code ../shared/qubes-guest-src} under {@code target/upstream-qrexec/} against
 * the vchan-over-socket shim instead of libvchan-xen. Built without PAM: the agent then runs commands with
 * {@code su - USER -c} and services directly, so the tests run it as root. Nothing of upstream enters the
 * repository.
 */
record UpstreamQrexec(String release, int protocol, Path agent, Path clientVm, Path multiplexer) {
    static final Path TARGET = Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
            .resolve("target/upstream-qrexec");
    private static final String VCHAN = "qubes-core-vchan-xen-4.2.8";

    /** @return the R4.3 (protocol 4) or R4.2 (protocol 3) release, built once */
    static synchronized UpstreamQrexec build(String release) throws IOException, InterruptedException {
        Path src = unpacked("qubes-core-qrexec-" + release);
        Path vchan = unpacked(VCHAN).resolve("vchan");
        Path shim = Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
                .resolve("src/test/c/vchan-over-socket/vchan-over-socket.c");
        Path bin = Files.createDirectories(TARGET.resolve("bin-" + release));
        var lib = new ArrayList<String>();
        try (var files = Files.list(src.resolve("libqrexec"))) {
            files.filter(f -> f.toString().endsWith(".c")).sorted().forEach(f -> lib.add(f.toString()));
        }
        for (String program : List.of("qrexec-agent", "qrexec-client-vm")) {
            Path out = bin.resolve(program);
            if (Files.isExecutable(out)) {
                continue;
            }
            var cmd = new ArrayList<>(List.of("gcc", "-O1", "-std=gnu11", "-D_GNU_SOURCE", "-I",
                    src.resolve("libqrexec").toString(), "-I", src.resolve("agent").toString(), "-I",
                    vchan.toString(), "-o", out + ".tmp", src.resolve("agent/" + program + ".c").toString(),
                    src.resolve("agent/qrexec-agent-data.c").toString(), shim.toString()));
            cmd.addAll(lib);
            UpstreamQubesDb.run(cmd);
            Files.move(out.resolveSibling(program + ".tmp"), out);
        }
        int protocol = Files.readString(src.resolve("libqrexec/qrexec.h")).contains("QREXEC_PROTOCOL_VERSION 4") ? 4
                : 3;
        return new UpstreamQrexec(release, protocol, bin.resolve("qrexec-agent"), bin.resolve("qrexec-client-vm"),
                src.resolve("lib/qubes-rpc-multiplexer"));
    }

    /** @return whether gcc, tar and the sources are here, and this is root (the agent runs {@code su}) */
    static boolean available() {
        return UpstreamQubesDb.available() && UpstreamQubesDb.sources().map(d -> Files.exists(d.resolve(
                "qubes-core-qrexec-4.3.12.tar.gz"))).orElse(false) && "root".equals(System.getProperty("user.name"));
    }

    static String missing() {
        return "needs root, gcc, tar and ../shared/qubes-guest-src/qubes-core-qrexec-{4.3.12,4.2.25}.tar.gz "
                + "(or -Dqubes.guest.src=DIR)";
    }

    private static Path unpacked(String name) throws IOException, InterruptedException {
        Path dir = TARGET.resolve(name);
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(TARGET);
            UpstreamQubesDb.run(List.of("tar", "xzf", UpstreamQubesDb.sources().orElseThrow()
                    .resolve(name + ".tar.gz").toString(), "-C", TARGET.toString()));
        }
        return dir;
    }
}
