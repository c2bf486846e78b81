package compart.xl.libxl;

import compart.xl.foreign.Gcc;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The real {@code libxl_domain_config_from_json} / {@code _to_json} (and the device variants) accept the JSON
 * our {@link LibxlJson} generates, whole, and our round-trip check catches what libxl drops. libxl needs a ctx for
 * {@code from_json}, and a ctx needs Xen; so a child JVM runs {@link FakeXenRoundTripMain} with the TEST-ONLY
 * preload {@code src/test/c/fake_xen_preload.c}, which fakes the privcmd and xenstore handles. The same child
 * checks the SIGCHLD set-up: libxl's handler is installed and the JDK still gets its own children's exit codes.
 */
class FakeXenRoundTripTest {
    private static Map<String, String> results;

    @BeforeAll
    static void runChildJvmUnderFakeXen() throws Exception {
        assumeTrue(Gcc.xenHeadersAvailable(), "gcc or the Xen libraries are missing: apt-get install gcc libxen-dev");
        Path preload = Gcc.compile("fake_xen_preload.c", "libfakexen-test.so", "-shared", "-fPIC");
        String classPath = String.join(File.pathSeparator,
                System.getProperty("jdk.module.path", ""), System.getProperty("java.class.path", ""),
                Gcc.MODULE.resolve("target/test-classes").toString());
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder builder = new ProcessBuilder(java.toString(), "--enable-native-access=ALL-UNNAMED",
                "-XX:TieredStopAtLevel=1", "-cp", classPath, FakeXenRoundTripMain.class.getName(),
                LibxlJsonTest.GOLDEN.toString()).redirectErrorStream(true);
        builder.environment().put("LD_PRELOAD", preload.toString());
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
        Files.writeString(Gcc.TARGET.resolve("fake-xen-round-trip.log"), output);
        assertThat(process.exitValue()).as(output).isZero();
        results = new LinkedHashMap<>();
        for (String line : output.lines().toList()) {
            for (String check : List.of("open", "sigchld", "jdk-child", "sigchld-after-child", "domain pvh-work-vm.json",
                    "domain hvm-win-vm.json", "domain hvm-direct-kernel.json", "disk disk-xvdc.json", "nic nic-bridged.json",
                    "silent-drop", "bad-enum", "nic-typo", "closed")) {
                if (line.startsWith(check + " ")) {
                    results.put(check, line.substring(check.length() + 1));
                }
            }
        }
    }

    private static String result(String check) {
        assertThat(results).containsKey(check);
        return results.get(check);
    }

    @Test
    void ctxAlloc_underFakeXen_succeedsAndFreesCleanly() {
        assertThat(result("open")).startsWith("OK");
        assertThat(result("closed")).startsWith("OK");
    }

    @Test
    void selectiveReap_installsLibxlsSigchldHandler_andJdkChildrenKeepTheirExitCodes() {
        assertThat(result("sigchld")).startsWith("OK");
        assertThat(result("jdk-child")).isEqualTo("OK exit=7");
        assertThat(result("sigchld-after-child")).startsWith("OK");
    }

    @Test
    void pvhGolden_isAcceptedWholeByLibxl() {
        assertThat(result("domain pvh-work-vm.json")).startsWith("OK ")
                .contains("\"kernel\": \"/var/lib/qubes/vm-kernels/6.6/vmlinuz\"")
                .contains("\"backend_domid\": 1").contains("\"script\": \"vif-route\"");
    }

    @Test
    void hvmGoldens_areAcceptedWholeByLibxl() {
        assertThat(result("domain hvm-win-vm.json")).startsWith("OK ").contains("\"is_cdrom\": 1").contains("e1000");
        assertThat(result("domain hvm-direct-kernel.json")).startsWith("OK ")
                .contains("\"serial\": \"file:/var/log/xen/hvm-test-serial.log\"");
    }

    @Test
    void deviceGoldens_areAcceptedWholeByLibxl() {
        assertThat(result("disk disk-xvdc.json")).startsWith("OK ").contains("\"vdev\": \"xvdc\"")
                .contains("\"script\": \"/usr/lib/compart/xen/block-loop\"");
        assertThat(result("nic nic-bridged.json")).startsWith("OK ").contains("\"bridge\": \"xenbr0\"");
    }

    @Test
    void silentlyDroppedFields_areRefusedNamingEachField() {
        assertThat(result("silent-drop")).startsWith("OK INVALID_VALUE")
                .contains("/c_info/nmae").contains("/b_info/max_memkb");
        assertThat(result("nic-typo")).startsWith("OK INVALID_VALUE").contains("/brige");
    }

    @Test
    void aBadEnumValue_isRefusedWithLibxlsReturnCode() {
        assertThat(result("bad-enum")).startsWith("OK INVALID_VALUE")
                .contains("libxl_domain_config_from_json rejected 'y': rc=-3 (ERROR_FAIL)");
    }
}
