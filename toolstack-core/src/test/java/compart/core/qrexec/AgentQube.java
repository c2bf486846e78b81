package compart.core.qrexec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Test support: one pretend qube, a directory and Qubes' unmodified {@code qrexec-agent} running in it with domain
 * id {@code domid} over the vchan-over-socket shim; its qrexec services are the executable files in
 * {@code rpc/}. {@link #clientVm} runs Qubes' {@code qrexec-client-vm} in it, as a program in the qube would.
 */
final class AgentQube implements AutoCloseable {
    private final UpstreamQrexec upstream;
    private final String name;
    private final int domid;
    private final Path vchans;
    private final Path dir;
    private Process agent;

    AgentQube(UpstreamQrexec upstream, String name, int domid, Path vchans) throws IOException {
        this.upstream = upstream;
        this.name = name;
        this.domid = domid;
        this.vchans = vchans;
        this.dir = Files.createDirectories(vchans.getParent().resolve(name));
        Files.createDirectories(dir.resolve("rpc"));
        Files.createDirectories(dir.resolve("rpc-config"));
    }

    String name() {
        return name;
    }

    int domid() {
        return domid;
    }

    /** Installs the service {@code service} (a shell script body) in the qube. */
    AgentQube service(String service, String script) throws IOException {
        Path file = dir.resolve("rpc").resolve(service);
        Files.writeString(file, "#!/bin/sh\n" + script + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        return this;
    }

    private Map<String, String> env(ProcessBuilder pb) {
        var env = pb.environment();
        env.put("VCHAN_SOCKET_DIR", vchans.toString());
        env.put("VCHAN_DOMID", Integer.toString(domid));
        env.put("QREXEC_SERVICE_PATH", dir.resolve("rpc").toString());
        env.put("QUBES_RPC_CONFIG_PATH", dir.resolve("rpc-config").toString());
        env.put("QREXEC_MULTIPLEXER_PATH", upstream.multiplexer().toString());
        env.remove("NOTIFY_SOCKET");
        return env;
    }

    /** Starts (or restarts) the agent; it publishes its control vchan and waits for dom0. */
    AgentQube start() throws IOException {
        var pb = new ProcessBuilder(upstream.agent().toString(), "--agent-socket", dir.resolve("agent.sock")
                .toString(), "--no-fork-server");
        env(pb);
        pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("agent.log")
                .toFile()));
        agent = pb.start();
        return this;
    }

    /** Kills the agent (as a crash would). */
    void kill() throws InterruptedException {
        agent.destroyForcibly();
        agent.waitFor(10, TimeUnit.SECONDS);
    }

    boolean agentAlive() {
        return agent.isAlive();
    }

    /** What a program in the qube got back. */
    record Run(int exitCode, String stdout, String stderr) {
    }

    /** Runs {@code qrexec-client-vm TARGET SERVICE} in the qube with {@code stdin}. */
    Run clientVm(String target, String service, String stdin) throws IOException, InterruptedException {
        var cmd = new ArrayList<>(List.of(upstream.clientVm().toString(), "--agent-socket",
                dir.resolve("agent.sock").toString(), target, service));
        var pb = new ProcessBuilder(cmd);
        env(pb);
        Path err = Files.createTempFile(dir, "stderr", ".txt");
        pb.redirectError(err.toFile());
        var p = pb.start();
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Run(-1, out, "timed out");
        }
        return new Run(p.exitValue(), out, Files.readString(err));
    }

    /** Starts {@code qrexec-client-vm} without waiting for it (its stdin stays open until closed). */
    Process clientVmInBackground(String target, String service) throws IOException {
        var pb = new ProcessBuilder(upstream.clientVm().toString(), "--agent-socket",
                dir.resolve("agent.sock").toString(), target, service);
        env(pb);
        pb.redirectError(ProcessBuilder.Redirect.DISCARD);
        return pb.start();
    }

    String log() throws IOException {
        Path log = dir.resolve("agent.log");
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Override
    public void close() throws InterruptedException {
        if (agent != null) {
            agent.destroy();
            if (!agent.waitFor(5, TimeUnit.SECONDS)) {
                kill();
            }
        }
    }
}
