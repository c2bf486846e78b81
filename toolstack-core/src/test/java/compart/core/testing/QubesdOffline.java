package compart.core.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Qubes' own Admin API daemon code (qubes-core-admin R4.3, unmodified) served in offline mode on a Unix socket, as
 * the specification compartd is held against. The pinned tarballs come from {@code <project root>/../shared}
 * ({@code -Dqubes.sources=DIR} names that folder instead), are checked against their {@code SOURCES.tsv} sha256,
 * unpacked into a temporary folder and run by our own harness script ({@code qubesd_offline.py}) with Debian's
 * Python 3 and packages.
 *
 * <p>Not thread safe: one test owns one instance.
 */
public final class QubesdOffline implements AutoCloseable {
    private static final String ADMIN = "qubes-core-admin-4.3.50";
    private static final String QREXEC = "qubes-core-qrexec-4.3.12";
    private static final String MODULES = "import lxml, libvirt, jinja2, docutils, pyinotify, yaml";

    private final Path dir;
    private final Process process;

    private QubesdOffline(Path dir, Process process) {
        this.dir = dir;
        this.process = process;
    }

    /**
     * Why Qubes' daemon cannot run here, or empty when it can.
     *
     * @return the reason to skip, naming what is missing and how to get it
     */
    public static Optional<String> unavailable() {
        Path shared = shared();
        for (Path p : List.of(shared.resolve("qubes-dom0-src/" + ADMIN + ".tar.gz"),
                shared.resolve("qubes-guest-src/" + QREXEC + ".tar.gz"))) {
            if (!Files.isRegularFile(p)) {
                return Optional.of("Qubes' sources are not here: " + p + " is missing (-Dqubes.sources=DIR names the "
                        + "folder holding qubes-dom0-src/ and qubes-guest-src/)");
            }
        }
        if (python().isEmpty()) {
            return Optional.of("no python3 with Debian's python3-lxml python3-libvirt python3-jinja2 python3-docutils "
                    + "python3-pyinotify python3-yaml (.ci/run installs them; -Dqubes.python=PATH names another)");
        }
        return Optional.empty();
    }

    /** @return the folder holding {@code qubes-dom0-src/} and {@code qubes-guest-src/} */
    public static Path shared() {
        String p = System.getProperty("qubes.sources");
        if (p != null) {
            return Path.of(p);
        }
        Path here = Path.of("").toAbsolutePath();
        Path root = Files.isRegularFile(here.resolve("mvnw")) ? here : here.getParent();
        return root.resolveSibling("shared");
    }

    public static Optional<String> python() {
        String chosen = System.getProperty("qubes.python");
        List<String> candidates = chosen != null ? List.of(chosen) : List.of("/usr/bin/python3", "python3");
        for (String py : candidates) {
            try {
                var p = new ProcessBuilder(py, "-c", MODULES).redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                if (p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    return Optional.of(py);
                }
            } catch (IOException e) {
                // not this one
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    /**
     * Unpacks the checked sources and starts Qubes' daemon code on {@code dir/qubesd.sock}.
     *
     * @param dir an empty folder of the test's
     * @return the running daemon, its socket answering
     * @throws IOException when a tarball's checksum is wrong or the daemon does not come up
     */
    public static QubesdOffline start(Path dir) throws IOException, InterruptedException {
        String py = python().orElseThrow(() -> new IllegalStateException(unavailable().orElse("no python3")));
        Path shared = shared();
        Path src = Files.createDirectories(dir.resolve("src"));
        unpack(shared.resolve("qubes-dom0-src"), ADMIN, src);
        unpack(shared.resolve("qubes-guest-src"), QREXEC, src);
        Path admin = src.resolve(ADMIN);
        // Its extensions (automatic tags, features, services) are found through the package's entry points.
        run(admin, py, "setup.py", "-q", "egg_info");
        Path script = dir.resolve("qubesd_offline.py");
        try (InputStream in = QubesdOffline.class.getResourceAsStream("/compart/core/api/fidelity/qubesd_offline.py")) {
            Files.write(script, in.readAllBytes());
        }
        var pb = new ProcessBuilder(py, script.toString(), dir.resolve("qubesd.sock").toString(),
                dir.resolve("var-lib-qubes").toString());
        pb.environment().put("PYTHONPATH", admin + ":" + src.resolve(QREXEC));
        pb.redirectError(dir.resolve("qubesd.log").toFile());
        Process p = pb.start();
        var out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        if (!"serving".equals(line)) {
            p.destroyForcibly();
            throw new IOException("Qubes' daemon did not start (" + line + "): " + Files.readString(
                    dir.resolve("qubesd.log")));
        }
        return new QubesdOffline(dir, p);
    }

    public static void unpack(Path folder, String name, Path into) throws IOException, InterruptedException {
        Path tarball = folder.resolve(name + ".tar.gz");
        String expected = Files.readAllLines(folder.resolve("SOURCES.tsv")).stream().map(l -> l.split("\t"))
                .filter(f -> f.length > 4 && f[3].equals(tarball.getFileName().toString())).map(f -> f[4])
                .findFirst().orElseThrow(() -> new IOException(tarball + " is not listed in SOURCES.tsv"));
        String actual;
        try (InputStream in = Files.newInputStream(tarball)) {
            var md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            actual = HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        if (!actual.equals(expected)) {
            throw new IOException(tarball + ": sha256 " + actual + ", SOURCES.tsv says " + expected);
        }
        run(into, "tar", "xzf", tarball.toString());
    }

    private static void run(Path cwd, String... command) throws IOException, InterruptedException {
        var p = new ProcessBuilder(new ArrayList<>(List.of(command))).directory(cwd.toFile())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(Duration.ofMinutes(2).toSeconds(), TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + out);
        }
    }

    /** @return a client of Qubes' daemon */
    public Wire admin() {
        return new Wire(dir.resolve("qubesd.sock"));
    }

    /** @return the folder Qubes' daemon keeps its qubes.xml and pools in (its {@code /var/lib/qubes}) */
    public Path baseDir() {
        return dir.resolve("var-lib-qubes");
    }

    /** @return what the daemon logged so far */
    public String log() {
        try {
            return Files.readString(dir.resolve("qubesd.log"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
