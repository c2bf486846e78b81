package compart.xenhost;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * What the Xen host image is made of: a Debian suite and mirror, the packages installed into dom0, the JDK that
 * is jlinked into it with its modules, and the harness's own scripts. Two cache keys come out of it: one for the
 * slow base root filesystem (debootstrap + apt, about a minute) and one for the finished image, which also
 * covers the JDK, the dom0 init, the guest init and the builder code itself.
 *
 * @param suite       Debian suite, e.g. {@code bookworm}
 * @param mirror      Debian mirror for the suite and its -updates
 * @param security    Debian security mirror (Xen 4.17 fixes arrive there)
 * @param packages    packages installed into dom0 besides debootstrap's minbase
 * @param javaModules modules of the jlinked runtime in dom0
 * @param jdk         the JDK (java.home) that is jlinked; its {@code release} file is part of the key
 */
public record ImageSpec(String suite, String mirror, String security, List<String> packages,
                        List<String> javaModules, Path jdk) {

    /** Xen 4.17 + its toolstack, the device model for HVM, the kernel, and the tools the tests call. */
    public static final List<String> DOM0_PACKAGES = List.of(
            "linux-image-amd64", "initramfs-tools", "xen-hypervisor-4.17-amd64", "xen-utils-4.17",
            "qemu-system-xen", "kmod", "procps", "iproute2", "util-linux", "e2fsprogs",
            // PID 1 as on a real dom0: Compart's package starts its services with systemctl
            "systemd",
            // the volumes' pools in dom0: lvm_thin (VolumesLvmThinIT) and file-reflink on XFS
            "lvm2", "thin-provisioning-tools", "xfsprogs",
            // the test guests' userland (copied out of dom0 into their initramfs)
            "busybox-static");

    /** Enough for JUnit (java.xml for reports), Jackson, H2 and FFM; java.se keeps later tests unsurprised. */
    public static final List<String> JAVA_MODULES = List.of("java.se", "jdk.unsupported", "jdk.zipfs",
            "jdk.management");

    /** The classpath resources of the harness that end up in the image. */
    static final String BASE_SETUP = "base-setup.sh";
    static final String DOM0_INIT = "dom0-init.sh";
    static final String GUEST_INIT = "guest-init.sh";
    static final String XENHOST_UNIT = "compart-xenhost.service";

    public ImageSpec {
        Objects.requireNonNull(suite, "suite");
        Objects.requireNonNull(mirror, "mirror");
        Objects.requireNonNull(security, "security");
        packages = List.copyOf(packages);
        javaModules = List.copyOf(javaModules);
        Objects.requireNonNull(jdk, "jdk");
    }

    /** Debian 12 with the default packages and Java modules, jlinking {@code jdk}. */
    public static ImageSpec bookworm(String mirror, Path jdk) {
        return new ImageSpec("bookworm", mirror, "http://deb.debian.org/debian-security", DOM0_PACKAGES,
                JAVA_MODULES, jdk);
    }

    /** Key of the base root filesystem: suite, mirrors, packages and the script that sets it up. */
    public CacheKey baseKey() {
        return baseInputs().key();
    }

    /** Key of the finished image: the base key plus everything added on top of the base. */
    public CacheKey imageKey() {
        return imageInputs().key();
    }

    CacheKey.Builder baseInputs() {
        return CacheKey.builder()
                .add("suite", suite)
                .add("mirror", mirror)
                .add("security", security)
                .add("packages", String.join(" ", packages))
                .add(BASE_SETUP, resource(BASE_SETUP));
    }

    CacheKey.Builder imageInputs() {
        return CacheKey.builder()
                .add("base", baseKey().hex())
                .add("java-modules", String.join(",", javaModules))
                .add("jdk-release", jdkRelease())
                .add(DOM0_INIT, resource(DOM0_INIT))
                .add(GUEST_INIT, resource(GUEST_INIT))
                .add(XENHOST_UNIT, resource(XENHOST_UNIT))
                .add("ImageBuilder.class", classBytes(ImageBuilder.class))
                .add("GuestInitramfs.class", classBytes(GuestInitramfs.class));
    }

    private byte[] jdkRelease() {
        try {
            return Files.readAllBytes(jdk.resolve("release"));
        } catch (IOException e) {
            throw new UncheckedIOException("not a JDK (no 'release' file): " + jdk, e);
        }
    }

    /** A script of the harness, from the class path. */
    static byte[] resource(String name) {
        try (InputStream in = ImageSpec.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("harness resource missing from the class path: compart/xenhost/" + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] classBytes(Class<?> type) {
        return resource(type.getSimpleName() + ".class");
    }
}
