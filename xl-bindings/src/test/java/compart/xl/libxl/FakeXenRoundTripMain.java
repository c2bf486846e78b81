package compart.xl.libxl;

import compart.errors.CompartException;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * TEST ONLY: runs in a child JVM started by {@link FakeXenRoundTripTest} with the fake-Xen LD_PRELOAD, so that
 * {@code libxl_ctx_alloc} succeeds without a hypervisor. Calls only functions that make no hypercall. Prints one
 * line per check: {@code <check> OK <detail>} or {@code <check> FAIL <detail>}.
 *
 * <p>Arguments: the golden directory.
 */
public final class FakeXenRoundTripMain {
    private FakeXenRoundTripMain() {
    }

    public static void main(String[] args) throws Exception {
        Path golden = Path.of(args[0]);
        try (LibxlContext ctx = LibxlContext.open()) {
            System.out.println("open OK ctx allocated");
            System.out.println("sigchld " + (ctx.sigchldHandlerInstalled() ? "OK" : "FAIL") + " after setmode");
            Process child = new ProcessBuilder("sh", "-c", "exit 7").start();
            int status = child.waitFor();
            System.out.println("jdk-child " + (status == 7 ? "OK" : "FAIL") + " exit=" + status);
            System.out.println("sigchld-after-child " + (ctx.sigchldHandlerInstalled() ? "OK" : "FAIL"));
            for (String file : new String[] {"pvh-work-vm.json", "hvm-win-vm.json", "hvm-direct-kernel.json"}) {
                report("domain " + file, () -> ctx.checkDomainConfig(Files.readString(golden.resolve(file))));
            }
            report("disk disk-xvdc.json", () -> ctx.checkDeviceConfig(LibxlContext.DeviceKind.DISK,
                    Files.readString(golden.resolve("disk-xvdc.json"))));
            report("nic nic-bridged.json", () -> ctx.checkDeviceConfig(LibxlContext.DeviceKind.NIC,
                    Files.readString(golden.resolve("nic-bridged.json"))));
            expectRejected("silent-drop", () -> ctx.checkDomainConfig("{\"c_info\":{\"type\":\"pvh\",\"name\":\"x\","
                    + "\"nmae\":\"typo\"},\"b_info\":{\"max_memkb\":\"1048576\",\"target_memkb\":262144,\"type.pvh\":{}}}"));
            expectRejected("bad-enum", () -> ctx.checkDomainConfig("{\"c_info\":{\"type\":\"hvm\",\"name\":\"y\"},"
                    + "\"b_info\":{\"type.hvm\":{\"vga\":{\"kind\":\"stdvga\"}}}}"));
            expectRejected("nic-typo", () -> ctx.checkDeviceConfig(LibxlContext.DeviceKind.NIC,
                    "{\"devid\":0,\"mac\":\"00:16:3e:00:00:01\",\"brige\":\"xenbr0\"}"));
        }
        System.out.println("closed OK");
    }

    private interface Check {
        String run() throws Exception;
    }

    private static void report(String name, Check check) {
        try {
            String back = check.run();
            System.out.println(name + " OK " + back.replaceAll("\\s+", " "));
        } catch (Exception e) {
            System.out.println(name + " FAIL " + e);
        }
    }

    private static void expectRejected(String name, Check check) {
        try {
            String back = check.run();
            System.out.println(name + " FAIL accepted: " + back.replaceAll("\\s+", " "));
        } catch (CompartException e) {
            System.out.println(name + " OK " + e.kind() + " " + e.getMessage().replaceAll("\\s+", " "));
        } catch (Exception e) {
            System.out.println(name + " FAIL " + e);
        }
    }
}
