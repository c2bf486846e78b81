package compart.xl.libxl;

import compart.xl.foreign.Gcc;
import compart.xl.foreign.XenHost;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Test support for the guest tests on the Xen host: events, console output, and the xl comparison. */
final class GuestRun {
    /** The marker the devhost test guest's /init prints (override with -Dcompart.test.consoleMarker). */
    static final String MARKER = System.getProperty("compart.test.consoleMarker", "DOMU-MARKER");
    static final Path CONSOLE_LOGS = Path.of(System.getProperty("compart.test.consoleLogDir", "/var/log/xen/console"));

    final LinkedBlockingQueue<DomainEvent> events = new LinkedBlockingQueue<>();
    private final StringBuffer ttyOutput = new StringBuffer();
    private long createStarted;
    private long createdMs;

    private GuestRun() {
    }

    static GuestRun start() {
        return new GuestRun();
    }

    /** Creates the domain paused ({@link LibxlContext#createPaused}), timing it; @return its domid */
    int createPaused(LibxlContext ctx, DomainConfig config) {
        createStarted = System.nanoTime();
        int domid = ctx.createPaused(config);
        createdMs = (System.nanoTime() - createStarted) / 1_000_000;
        return domid;
    }

    /** @return how long {@link #createPaused} took, in ms */
    long createdMs() {
        return createdMs;
    }

    /** @return the ms since {@link #createPaused} began */
    long msSinceCreate() {
        return (System.nanoTime() - createStarted) / 1_000_000;
    }

    /** Reads the console tty on a daemon thread (the pty xenconsoled exposes, as {@code xl console} does). */
    void readConsole(Path tty) {
        Thread.ofPlatform().daemon(true).name("console-" + tty.getFileName()).start(() -> {
            try (InputStream in = Files.newInputStream(tty)) {
                byte[] buffer = new byte[4096];
                int n;
                while ((n = in.read(buffer)) > 0) {
                    ttyOutput.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                ttyOutput.append("\n[console read ended: ").append(e.getMessage()).append("]\n");
            }
        });
    }

    /** @return where the marker was seen ("tty" or the log file), waiting up to {@code timeout}; null when not */
    String awaitMarker(String domainName, Path extraLog, Duration timeout) throws InterruptedException {
        Path log = extraLog != null ? extraLog : CONSOLE_LOGS.resolve("guest-" + domainName + ".log");
        String[] where = new String[1];
        XenHost.await(timeout, () -> {
            if (ttyOutput.indexOf(MARKER) >= 0) {
                where[0] = "tty";
                return true;
            }
            try {
                if (Files.isRegularFile(log) && Files.readString(log, StandardCharsets.ISO_8859_1).contains(MARKER)) {
                    where[0] = log.toString();
                    return true;
                }
            } catch (IOException ignored) {
                // not there yet
            }
            return false;
        });
        return where[0];
    }

    String ttyOutput() {
        return ttyOutput.toString();
    }

    DomainEvent nextEvent(Duration timeout) throws InterruptedException {
        return events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** @return {@code xl create} wall time in ms for an xl config equivalent to {@code config}, or -1 without xl */
    static long timeXlCreate(DomainConfig config) throws IOException, InterruptedException {
        if (!Gcc.onPath("xl")) {
            return -1;
        }
        StringBuilder cfg = new StringBuilder();
        cfg.append("name = \"").append(config.name()).append("\"\n");
        cfg.append("type = \"").append(config.type().jsonName()).append("\"\n");
        cfg.append("memory = ").append(config.memoryKib() / 1024).append('\n');
        cfg.append("vcpus = ").append(config.vcpus()).append('\n');
        cfg.append("on_poweroff = \"destroy\"\non_crash = \"destroy\"\n");
        switch (config.boot()) {
            case DomainConfig.Boot.Pvh pvh -> {
                cfg.append("kernel = \"").append(pvh.kernel()).append("\"\n");
                pvh.ramdisk().ifPresent(r -> cfg.append("ramdisk = \"").append(r).append("\"\n"));
                cfg.append("extra = \"").append(pvh.cmdline()).append("\"\n");
            }
            case DomainConfig.Boot.Hvm hvm -> {
                hvm.kernel().ifPresent(k -> cfg.append("kernel = \"").append(k).append("\"\n"));
                hvm.ramdisk().ifPresent(r -> cfg.append("ramdisk = \"").append(r).append("\"\n"));
                cfg.append("extra = \"").append(hvm.cmdline()).append("\"\n");
                hvm.serial().ifPresent(s -> cfg.append("serial = \"").append(s).append("\"\n"));
                cfg.append("vnc = 0\nsdl = 0\nvga = \"none\"\n");
            }
        }
        if (!config.disks().isEmpty()) {
            cfg.append("disk = [ ");
            for (DiskConfig d : config.disks()) {
                cfg.append("\"format=").append(d.format().jsonName()).append(", vdev=").append(d.vdev())
                        .append(", access=").append(d.writable() ? "rw" : "ro").append(", backendtype=")
                        .append(d.backend().jsonName()).append(", target=").append(d.target()).append("\", ");
            }
            cfg.append("]\n");
        }
        if (!config.nics().isEmpty()) {
            cfg.append("vif = [ ");
            for (NicConfig n : config.nics()) {
                cfg.append("\"mac=").append(n.mac()).append(n.bridge().map(b -> ",bridge=" + b).orElse(""))
                        .append(",backend=").append(n.backendDomid()).append("\", ");
            }
            cfg.append("]\n");
        }
        Path file = Files.createTempFile("compart-xl-", ".cfg");
        Files.writeString(file, cfg);
        long started = System.nanoTime();
        Gcc.run(List.of("xl", "create", file.toString()));
        long ms = (System.nanoTime() - started) / 1_000_000;
        try {
            Gcc.run(List.of("xl", "destroy", config.name()));
        } finally {
            Files.deleteIfExists(file);
        }
        return ms;
    }
}
