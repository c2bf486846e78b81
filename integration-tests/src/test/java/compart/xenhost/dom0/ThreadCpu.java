package compart.xenhost.dom0;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The CPU time a process's threads have used, from {@code /proc/PID/task/TID/stat} (utime + stime, in clock ticks
 * of 10 ms), grouped by thread name (a JVM names its native threads after its Java threads, cut to 15 characters).
 * The scenario takes one before and one after each step to say where compartd spent its CPU.
 *
 * @param pid the process
 * @param totalTicks the process's CPU ticks, those of threads that ended included
 * @param ticksByName CPU ticks per thread name, summed over the threads of one name (living threads only)
 */
record ThreadCpu(long pid, long totalTicks, Map<String, Long> ticksByName) {
    /** Linux's USER_HZ on every architecture we run on. */
    static final int TICKS_PER_SECOND = 100;

    /** @return compartd's threads now, or empty when the service has no main process */
    static Optional<ThreadCpu> ofCompartd() {
        String pid = Dom0Host.run(java.util.List.of("systemctl", "show", "-p", "MainPID", "--value", "compartd"),
                java.time.Duration.ofSeconds(30)).output().strip();
        if (!pid.matches("[1-9][0-9]*")) {
            return Optional.empty();
        }
        return of(Long.parseLong(pid));
    }

    /** @return the threads of {@code pid} now, or empty when it is gone */
    static Optional<ThreadCpu> of(long pid) {
        var ticks = new HashMap<String, Long>();
        long total;
        try {
            total = usedTicks(Files.readString(Path.of("/proc", Long.toString(pid), "stat")));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : tasks.toList()) {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
                            .replaceAll("[0-9]+$", "#");
                    ticks.merge(name, usedTicks(stat), Long::sum);
                } catch (IOException | RuntimeException e) {
                    // the thread ended between the listing and the read
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.of(new ThreadCpu(pid, total, Map.copyOf(ticks)));
    }

    /** @return utime + stime of a {@code stat} line: "PID (COMM) STATE ...", COMM may hold spaces and ')' */
    private static long usedTicks(String stat) {
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // fields[0] is field 3 (state): utime is field 14, stime field 15
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    /** @return the CPU seconds the process used since {@code earlier} (all of it when that was another process) */
    double secondsSince(ThreadCpu earlier) {
        return (totalTicks - (earlier.pid == pid ? earlier.totalTicks : 0)) / (double) TICKS_PER_SECOND;
    }

    /**
     * @return e.g. "12.3 s CPU (C1 CompilerThre 5.0 s, compartd-accept 1.2 s, ...)": the process's CPU and the top
     *     {@code n} names among the threads living at both ends (a thread that ended counts in the total only)
     */
    String summarySince(ThreadCpu earlier, int n) {
        Map<String, Long> used = since(earlier);
        String top = used.entrySet().stream().filter(e -> e.getValue() > 0)
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(n)
                .map(e -> String.format("%s %.1f s", e.getKey(), e.getValue() / (double) TICKS_PER_SECOND))
                .collect(Collectors.joining(", "));
        return String.format("%.1f s CPU (%s)", secondsSince(earlier), top.isEmpty() ? "none" : top);
    }

    private Map<String, Long> since(ThreadCpu earlier) {
        var used = new HashMap<String, Long>();
        ticksByName.forEach((name, ticks) -> {
            long before = earlier.pid == pid ? earlier.ticksByName.getOrDefault(name, 0L) : 0L;
            used.put(name, Math.max(0, ticks - before));
        });
        return used;
    }
}
