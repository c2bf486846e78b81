package compart.xenhost;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * What the Debian 12 guest template is made of: a Debian suite and mirror, the packages of the guest (runtime and
 * the build dependencies of Qubes' guest software), the pinned upstream tarballs of Qubes' guest software
 * ({@code qubes-guest-src}: {@code SOURCES.tsv} names each file with its sha256) and the harness's scripts and
 * units. Two cache keys: one for the guest's base root filesystem (debootstrap + apt), one for the finished
 * template, which also covers the tarballs, the scripts, the builder's code and the dom0 base the guest takes its
 * kernel and modules from.
 *
 * @param suite    Debian suite, e.g. {@code bookworm}
 * @param mirror   Debian mirror for the suite and its -updates
 * @param security Debian security mirror
 * @param packages packages installed into the guest besides debootstrap's minbase
 * @param sources  the directory of the upstream tarballs and their {@code SOURCES.tsv}
 */
public record GuestTemplateSpec(String suite, String mirror, String security, List<String> packages, Path sources) {

    /**
     * The guest's runtime (as Qubes' Debian templates need it: systemd as PID 1, udev for the network rule, Xen's
     * guest libraries for libvchan-xen and xl devd in a net qube) and the build dependencies of the upstream pieces.
     */
    public static final List<String> GUEST_PACKAGES = List.of(
            "systemd", "systemd-sysv", "udev", "dbus", "libpam-runtime", "iproute2", "iputils-ping", "procps", "kmod",
            "libxenmisc4.17", "libxenstore4", "xen-utils-4.17", "xenstore-utils", "lsb-release",
            // a net qube's firewall tables and vif-route-qubes's tools
            "nftables", "conntrack",
            // the initramfs's userland (copied out of the guest's root)
            "busybox-static",
            // build dependencies of libvchan-xen, QubesDB, qrexec, meminfo-writer
            "gcc", "make", "libc6-dev", "pkg-config", "libxen-dev", "libsystemd-dev", "libpam0g-dev");

    /** The harness's files in the guest (classpath resources under {@code compart/xenhost/guest/}). */
    static final String SETUP = "guest/guest-setup.sh";
    static final String BUILD = "guest/guest-build.sh";
    static final String INIT = "guest/qube-root-init.sh";
    static final String REPORT_UNIT = "guest/compart-qube-report.service";
    static final String REPORT_SCRIPT = "guest/qube-report.sh";
    static final String FSTAB = "guest/fstab";
    static final List<String> TEMPLATE_RESOURCES = List.of(BUILD, INIT, REPORT_UNIT, REPORT_SCRIPT, FSTAB);

    /** One upstream tarball as {@code SOURCES.tsv} lists it. */
    record Source(String repository, String tag, String file, String sha256) {
    }

    public GuestTemplateSpec {
        Objects.requireNonNull(suite, "suite");
        Objects.requireNonNull(mirror, "mirror");
        Objects.requireNonNull(security, "security");
        packages = List.copyOf(packages);
        Objects.requireNonNull(sources, "sources");
    }

    /** Debian 12 with the default guest packages, building from {@code sources}. */
    public static GuestTemplateSpec bookworm(String mirror, Path sources) {
        return new GuestTemplateSpec("bookworm", mirror, "http://deb.debian.org/debian-security", GUEST_PACKAGES,
                sources);
    }

    /** True when {@code sources} holds a {@code SOURCES.tsv}: the guest template can be built. */
    public boolean sourcesPresent() {
        return Files.isRegularFile(sources.resolve("SOURCES.tsv"));
    }

    /** Key of the guest's base root filesystem: suite, mirrors, packages and the script that installs them. */
    public CacheKey baseKey() {
        return CacheKey.builder()
                .add("suite", suite)
                .add("mirror", mirror)
                .add("security", security)
                .add("packages", String.join(" ", packages))
                .add(SETUP, ImageSpec.resource(SETUP))
                .key();
    }

    /**
     * Key of the finished template: the guest base, the dom0 base (kernel and modules), each tarball's name and
     * sha256 as {@code SOURCES.tsv} pins them, the harness's scripts and the builder's code.
     */
    public CacheKey templateKey(CacheKey dom0Base) {
        var key = CacheKey.builder()
                .add("guest-base", baseKey().hex())
                .add("dom0-base", dom0Base.hex());
        for (Source source : sourceList()) {
            key.add("source " + source.file(), source.sha256());
        }
        for (String resource : TEMPLATE_RESOURCES) {
            key.add(resource, ImageSpec.resource(resource));
        }
        return key.add("GuestTemplateBuilder.class", ImageSpec.resource("GuestTemplateBuilder.class")).key();
    }

    /** The tarballs {@code SOURCES.tsv} lists (header skipped). */
    List<Source> sourceList() {
        try {
            var list = new ArrayList<Source>();
            for (String line : Files.readAllLines(sources.resolve("SOURCES.tsv"), StandardCharsets.UTF_8)) {
                String[] fields = line.split("\t");
                if (line.isBlank() || fields[0].equals("repository")) {
                    continue;
                }
                if (fields.length < 5 || !fields[4].matches("[0-9a-f]{64}")) {
                    throw new CompartException(ErrorKind.INVALID_VALUE,
                            "SOURCES.tsv: not 'repository tag commit file sha256 ...': " + line);
                }
                list.add(new Source(fields[0], fields[1], fields[3], fields[4]));
            }
            return list;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + sources.resolve("SOURCES.tsv"), e);
        }
    }

    /** Checks every tarball against its pinned sha256; throws naming the first that differs or is missing. */
    void verifySources() throws IOException {
        for (Source source : sourceList()) {
            Path file = sources.resolve(source.file());
            String actual = sha256(file);
            if (!actual.equals(source.sha256())) {
                throw new CompartException(ErrorKind.INVALID_STATE, file + ": sha256 " + actual + ", but SOURCES.tsv"
                        + " pins " + source.sha256() + ": not the upstream tarball the guest is built from");
            }
        }
    }

    static String sha256(Path file) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), sha)) {
            in.transferTo(OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
