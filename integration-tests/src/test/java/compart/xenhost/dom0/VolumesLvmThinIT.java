package compart.xenhost.dom0;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import compart.volumes.Pool;
import compart.volumes.PoolConfig;
import compart.volumes.PoolContract;
import compart.volumes.PoolDriver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The pool contract ({@link PoolContract}, from the volumes test-jar) for the {@code lvm_thin} driver, inside
 * dom0, whose kernel has device-mapper and dm-thin: a volume group on a loop device of a sparse file, with a
 * 128 MiB thin pool and 64 KiB extents (LVM rounds volume sizes up to whole extents). Each test's pool is the
 * same thin pool; its volumes are removed after each test. Needs lvm2 and thin-provisioning-tools in dom0's
 * image, and skips saying so when they are missing.
 */
class VolumesLvmThinIT extends PoolContract {
    private static final String VG = "compart_it";
    private static final String THIN = "thinpool";
    /** ends with -import, so the pool does not list it as a volume */
    private static final String FILLER = "filler-import";
    private static final Duration LONG = Duration.ofMinutes(5);
    private static Path work;
    private static String loop;
    /** The driver's lvm: a script that logs each command's action, then runs lvm (counts before and after #24). */
    private static Path countingLvm;
    private static long startedNanos;

    private static Dom0Host.CommandResult sh(String... argv) {
        return Dom0Host.run(List.of(argv), LONG);
    }

    private static String must(String... argv) {
        return Dom0Host.run(List.of(argv), LONG).requireSuccess(List.of(argv)).output();
    }

    /** Runs lvm as the driver does without udev in dom0: device-mapper makes the device nodes itself. */
    private static String lvm(String... args) {
        List<String> argv = new ArrayList<>(List.of("env", "DM_DISABLE_UDEV=1", "lvm"));
        argv.addAll(List.of(args));
        return must(argv.toArray(String[]::new));
    }

    private static boolean onPath(String tool) {
        return sh("sh", "-c", "command -v " + tool + " || test -x /sbin/" + tool + " || test -x /usr/sbin/" + tool)
                .exitCode() == 0;
    }

    @BeforeAll
    static void makeVolumeGroupWithThinPool() throws IOException {
        List<String> missing = new ArrayList<>();
        if (!onPath("lvm")) {
            missing.add("lvm2");
        }
        if (!onPath("thin_check")) {
            missing.add("thin-provisioning-tools");
        }
        assumeTrue(missing.isEmpty(), "dom0's image lacks " + String.join(" and ", missing) + ", which the lvm_thin"
                + " driver needs: add " + missing + " to ImageSpec.DOM0_PACKAGES (integration-tests)");
        sh("modprobe", "dm-thin-pool");
        assumeTrue(Files.exists(Path.of("/dev/mapper/control")) || sh("sh", "-c", "grep -q device-mapper /proc/misc")
                .exitCode() == 0, "dom0's kernel has no device-mapper (modprobe dm-thin-pool failed)");
        work = Files.createTempDirectory("lvm-thin-it");
        Path image = work.resolve("pv.img");
        must("truncate", "-s", "192M", image.toString());
        loop = must("losetup", "--find", "--show", image.toString()).strip();
        lvm("pvcreate", "-q", "-y", loop);
        lvm("vgcreate", "-q", "-s", "64k", VG, loop);
        lvm("lvcreate", "-q", "--type", "thin-pool", "-L", "128m", "--chunksize", "64k", "-n", THIN, VG);
        countingLvm = work.resolve("counting-lvm");
        Files.writeString(countingLvm, "#!/bin/sh\necho \"$1\" >> " + work.resolve("driver-lvm.log") + "\nexec lvm \"$@\"\n");
        must("chmod", "+x", countingLvm.toString());
        startedNanos = System.nanoTime();
    }

    @AfterAll
    static void removeVolumeGroup() throws IOException {
        if (loop == null) {
            return;
        }
        Path log = work.resolve("driver-lvm.log");
        List<String> actions = Files.exists(log) ? Files.readAllLines(log) : List.of();
        System.out.printf("COMPART-LVM: the lvm_thin driver ran %d lvm commands (%d lvs) in the contract suite,"
                        + " which took %d s%n", actions.size(), actions.stream().filter("lvs"::equals).count(),
                Duration.ofNanos(System.nanoTime() - startedNanos).toSeconds());
        sh("env", "DM_DISABLE_UDEV=1", "lvm", "vgremove", "-q", "-f", VG);
        sh("env", "DM_DISABLE_UDEV=1", "lvm", "pvremove", "-q", "-f", loop);
        sh("losetup", "-d", loop);
        sh("rm", "-rf", work.toString());
    }

    @Override
    protected Pool newPool(String name, Map<String, String> options) {
        Map<String, String> o = new HashMap<>(options);
        o.put("volume_group", VG);
        o.put("thin_pool", THIN);
        o.put("lock_dir", work.resolve("locks").toString());
        o.put("lvm", countingLvm.toString());
        return PoolDriver.openPool(new PoolConfig(name, "lvm_thin", o));
    }

    @Override
    protected void destroyPool(Pool pool) {
        for (String lv : lvm("lvs", "--noheadings", "-o", "lv_name,pool_lv", VG).lines().toList()) {
            String[] f = lv.strip().split("\\s+");
            if (f.length == 2 && f[1].equals(THIN)) {
                lvm("lvremove", "-q", "-f", VG + "/" + f[0]);
            }
        }
    }

    @Override
    protected Path storageRoot() {
        return work;
    }

    /** A thin volume written full of zeros (a thin pool allocates every written chunk), removed on close. */
    @Override
    protected AutoCloseable occupy(long bytes) {
        long mib = bytes >> 20;
        lvm("lvcreate", "-q", "--thin", "-V", mib + "m", "-n", FILLER, VG + "/" + THIN);
        must("dd", "if=/dev/zero", "of=/dev/" + VG + "/" + FILLER, "bs=1M", "count=" + mib, "oflag=direct", "status=none");
        assertThat(pool.usage().free() - pool.usage().reserve()).as("the filler ate into the reserve").isNegative();
        return () -> lvm("lvremove", "-q", "-f", VG + "/" + FILLER);
    }

    @Override
    protected String[] badVolumeIds() {
        return new String[] {"../x", "a/../../b", "/abs", "a//b", "a/b-snap", "a/b-import", "a/b-1700000000-back"};
    }
}
