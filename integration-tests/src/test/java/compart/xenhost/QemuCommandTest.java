package compart.xenhost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class QemuCommandTest {
    private final XenHostImage image = new XenHostImage(Path.of("/cache/image-0123456789abcdef"),
            new CacheKey("0123456789abcdef"));

    private static String after(List<String> argv, String option) {
        return argv.get(argv.indexOf(option) + 1);
    }

    @Test
    void argv_bootsXenByMultiboot_withDom0KernelAndInitrdAsModules() {
        List<String> argv = QemuCommand.forTests(image, Path.of("/t/share")).argv();

        assertThat(argv.getFirst()).isEqualTo("qemu-system-x86_64");
        assertThat(after(argv, "-kernel")).isEqualTo("/cache/image-0123456789abcdef/xen");
        assertThat(after(argv, "-initrd")).isEqualTo("/cache/image-0123456789abcdef/vmlinuz "
                + "root=/dev/vda rw console=hvc0 earlyprintk=xen quiet init=/lib/systemd/systemd,"
                + "/cache/image-0123456789abcdef/initrd.img");
        assertThat(after(argv, "-append")).contains("console=com1", "dom0_mem=1536M,max:1536M", "dom0_max_vcpus=1");
    }

    @Test
    void argv_isTcgWithEmulatedSvmAndNpt_oneVcpu_noReboot() {
        List<String> argv = QemuCommand.forTests(image, Path.of("/t/share")).argv();

        assertThat(after(argv, "-accel")).startsWith("tcg");
        assertThat(after(argv, "-cpu")).isEqualTo("qemu64,+svm,+npt");
        assertThat(after(argv, "-smp")).isEqualTo("1");
        assertThat(after(argv, "-m")).isEqualTo("4096");
        assertThat(argv).contains("-no-reboot");
        assertThat(after(argv, "-serial")).isEqualTo("stdio");
    }

    @Test
    void dom0Disk_isASnapshot_andTheShareIs9pWithTagCompart() {
        List<String> argv = QemuCommand.forTests(image, Path.of("/t/share")).argv();

        assertThat(after(argv, "-drive")).isEqualTo(
                "file=/cache/image-0123456789abcdef/dom0.img,if=virtio,format=raw,cache=unsafe,snapshot=on");
        assertThat(after(argv, "-virtfs")).isEqualTo(
                "local,path=/t/share,mount_tag=compart,security_model=none,id=compart");
    }

    @Test
    void commasInPaths_areDoubled_inQemuOptionLists() {
        List<String> argv = QemuCommand.forTests(image, Path.of("/t/a,b")).argv();

        assertThat(after(argv, "-virtfs")).startsWith("local,path=/t/a,,b,mount_tag=");
    }

    @Test
    void multibootModuleArguments_doubleTheirCommas_andPathsWithSpacesAreRefused() {
        assertThat(QemuCommand.multibootModule(Path.of("/k"), "a=1,2 b")).isEqualTo("/k a=1,,2 b");
        assertThat(QemuCommand.multibootModule(Path.of("/k"), "")).isEqualTo("/k");
        assertThatThrownBy(() -> QemuCommand.multibootModule(Path.of("/my kernels/k"), ""))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void tooLittleMemory_orNoCpu_isRefused() {
        assertThatThrownBy(() -> new QemuCommand(image, Path.of("/s"), 1024, 768, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("guests");
        assertThatThrownBy(() -> new QemuCommand(image, Path.of("/s"), 4096, 1536, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
