package compart.xenhost.dom0;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The host itself: this is Xen's control domain, Xen 4.17 with HVM and HAP, its daemons running. */
class XenHostIT {

    @Test
    void procXen_saysThisKernelIsTheControlDomain() throws Exception {
        assertThat(Path.of("/proc/xen/capabilities")).exists();
        assertThat(Files.readString(Path.of("/proc/xen/capabilities"))).contains("control_d");
        assertThat(Path.of("/dev/xen/privcmd")).exists();
    }

    @Test
    void xlInfo_reportsXen417_withPvHvmAndHap() {
        Map<String, String> info = fields(Dom0Host.xl("info"));

        assertThat(info).containsEntry("xen_major", "4").containsEntry("xen_minor", "17");
        assertThat(info.get("virt_caps").split("\\s+")).contains("pv", "hvm", "hap");
        assertThat(info).containsEntry("nr_cpus", "1");
        assertThat(Long.parseLong(info.get("free_memory"))).as("MiB free for guests").isGreaterThan(1024);
    }

    @Test
    void xlList_showsDomain0_running() {
        List<String> rows = Dom0Host.xl("list").lines().skip(1).toList();

        assertThat(rows).anySatisfy(row -> assertThat(row.split("\\s+")).startsWith("Domain-0", "0"));
    }

    @Test
    void toolstackDaemons_xenstoredAndXenconsoled_areRunning() {
        String processes = Dom0Host.run(List.of("ps", "-eo", "comm"), Duration.ofMinutes(1)).output();

        assertThat(processes.lines()).contains("xenstored", "xenconsoled");
        assertThat(Dom0Host.xl("uptime")).contains("Domain-0");
        assertThat(Dom0Host.run(List.of("xenstore-read", "/local/domain/0/name"), Duration.ofMinutes(1)).output())
                .isEqualToIgnoringWhitespace("Domain-0");
    }

    @Test
    void testsRunAsRoot_onJava25() {
        assertThat(System.getProperty("user.name")).isEqualTo("root");
        assertThat(Runtime.version().feature()).isGreaterThanOrEqualTo(25);
    }

    /** {@code key : value} lines of xl info. */
    private static Map<String, String> fields(String text) {
        return text.lines().filter(line -> line.contains(":"))
                .collect(Collectors.toMap(line -> line.substring(0, line.indexOf(':')).trim(),
                        line -> line.substring(line.indexOf(':') + 1).trim(), (first, second) -> first));
    }
}
