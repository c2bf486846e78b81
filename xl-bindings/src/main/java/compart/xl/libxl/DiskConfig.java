package compart.xl.libxl;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One block device of a domain ({@code libxl_device_disk}).
 *
 * @param target        the file or block device in the backend domain ({@code pdev_path})
 * @param vdev          the name the guest sees: {@code xvda}, {@code xvdb}, ... (or {@code hda}, {@code hdc} for HVM)
 * @param backend       who serves it: {@code phy} (blkback; files go through a loop device) or {@code qdisk}
 * @param format        the image format
 * @param writable      read-write (else read-only)
 * @param cdrom         an (ejectable) CD-ROM, HVM only
 * @param backendDomid  the domain running the backend (0 = dom0)
 * @param script        the hotplug script that attaches the target for blkback ({@code script}; absolute, or a
 *                      name in {@code /etc/xen/scripts}); empty: libxl's default, Xen's {@code block}
 */
public record DiskConfig(Path target, String vdev, Backend backend, Format format, boolean writable, boolean cdrom,
                         int backendDomid, Optional<Path> script) {
    private static final Pattern VDEV = Pattern.compile("(xvd|hd|sd)[a-z]{1,2}");

    public DiskConfig {
        Objects.requireNonNull(target, "target");
        if (!target.isAbsolute()) {
            throw new IllegalArgumentException("disk target must be an absolute path, got " + target);
        }
        Objects.requireNonNull(vdev, "vdev");
        if (!VDEV.matcher(vdev).matches()) {
            throw new IllegalArgumentException("disk vdev must look like xvda, hda or sda, got '" + vdev + "'");
        }
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(format, "format");
        if (backendDomid < 0) {
            throw new IllegalArgumentException("disk backend domid must be >= 0, got " + backendDomid);
        }
        if (cdrom && writable) {
            throw new IllegalArgumentException("CD-ROM " + vdev + " cannot be writable");
        }
        Objects.requireNonNull(script, "script");
    }

    /** A disk hot-plugged with libxl's default script. */
    public DiskConfig(Path target, String vdev, Backend backend, Format format, boolean writable, boolean cdrom,
                      int backendDomid) {
        this(target, vdev, backend, format, writable, cdrom, backendDomid, Optional.empty());
    }

    /** @return this disk, attached by {@code script} */
    public DiskConfig withScript(Path script) {
        return new DiskConfig(target, vdev, backend, format, writable, cdrom, backendDomid, Optional.of(script));
    }

    /** A writable raw disk served by blkback in dom0. */
    public static DiskConfig rawPhy(Path target, String vdev) {
        return new DiskConfig(target, vdev, Backend.PHY, Format.RAW, true, false, 0);
    }

    /** Disk backends ({@code libxl_disk_backend}). */
    public enum Backend implements JsonNamed {
        PHY, QDISK, TAP;
    }

    /** Disk image formats ({@code libxl_disk_format}). */
    public enum Format implements JsonNamed {
        RAW, QCOW2, VHD;
    }
}
