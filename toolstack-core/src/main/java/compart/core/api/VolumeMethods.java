package compart.core.api;

import static compart.core.api.AdminText.lines;
import static compart.core.api.AdminText.parseSize;
import static compart.core.api.AdminText.payloadBool;
import static compart.core.api.AdminText.py;
import static compart.core.api.AdminText.validateNumber;

import compart.core.model.VolumeDefinition;
import compart.core.ops.VolumeOps;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.security.SecureRandom;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A qube's volumes ({@code admin.vm.volume.*}); the work is {@link VolumeOps}'. {@code Import} and
 * {@code ImportWithSize} stream their payload: they are {@link VolumeImportMethods}'. A handler that decodes a
 * payload looks the volume up first, so that an unknown volume is refused before a bad payload, as qubesd does.
 */
final class VolumeMethods {
    private final VolumeOps volumes;
    /** CloneFrom tokens: single use, each names a source qube and volume. */
    private final Map<String, CloneSource> pendingClones = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();

    private record CloneSource(String qube, String volume) {
    }

    VolumeMethods(VolumeOps volumes) {
        this.volumes = volumes;
    }

    @Handles(value = "admin.vm.volume.List", topic = Topic.STORAGE)
    String vmVolumeList(Call c) {
        return lines(c.dest().volumes().keySet().stream().sorted(Comparator.comparing((String v) ->
                VolumeDefinition.ORDER.contains(v) ? VolumeDefinition.ORDER.indexOf(v) : VolumeDefinition.ORDER.size())
                .thenComparing(v -> v)));
    }

    @Handles(value = "admin.vm.volume.Info", arg = Arg.REQUIRED, topic = Topic.STORAGE)
    String vmVolumeInfo(Call c) {
        var i = volumes.volumeInfo(c.inv(), c.dest(), c.arg());
        var v = i.definition();
        return "pool=" + v.pool() + "\nvid=" + v.vid() + "\nsize=" + i.size() + "\nusage=" + i.usage() + "\nrw="
                + py(v.rw()) + "\nsource=" + i.source() + "\npath=" + i.path()
                + "\nsave_on_stop=" + py(v.saveOnStop()) + "\nsnap_on_start=" + py(v.snapOnStart())
                + "\nrevisions_to_keep=" + v.revisionsToKeep() + "\nephemeral=" + py(v.ephemeral())
                + "\nis_outdated=" + py(i.outdated()) + "\n";
    }

    @Handles(value = "admin.vm.volume.ListSnapshots", arg = Arg.REQUIRED, topic = Topic.STORAGE)
    String vmVolumeListSnapshots(Call c) {
        return lines(volumes.volumeRevisions(c.inv(), c.dest(), c.arg()).stream());
    }

    @Handles(value = "admin.vm.volume.Revert", arg = Arg.REQUIRED, payload = Payload.REQUIRED, dest = Dest.NOT_ADMIN,
            topic = Topic.STORAGE)
    void vmVolumeRevert(Call c) {
        VolumeOps.managedVolume(c.inv(), c.dest(), c.arg());
        volumes.revertVolume(c.inv(), c.dest(), c.arg(), c.payloadAscii().strip());
    }

    @Handles(value = "admin.vm.volume.Resize", arg = Arg.REQUIRED, payload = Payload.REQUIRED, dest = Dest.NOT_ADMIN,
            topic = Topic.STORAGE)
    void vmVolumeResize(Call c) {
        VolumeOps.managedVolume(c.inv(), c.dest(), c.arg());
        volumes.resizeVolume(c.inv(), c.dest(), c.arg(), parseSize(c.payloadAscii()));
    }

    @Handles(value = "admin.vm.volume.Set.revisions_to_keep", arg = Arg.REQUIRED, payload = Payload.REQUIRED,
            topic = Topic.STORAGE)
    void vmVolumeSetRevisionsToKeep(Call c) {
        VolumeOps.volume(c.dest(), c.arg());
        long keep = validateNumber(c.untrustedPayload(), "revisions to keep", true);
        volumes.setRevisionsToKeep(c.inv(), c.dest(), c.arg(), keep);
    }

    @Handles(value = "admin.vm.volume.Set.rw", arg = Arg.REQUIRED, payload = Payload.REQUIRED, topic = Topic.STORAGE)
    void vmVolumeSetRw(Call c) {
        VolumeOps.volume(c.dest(), c.arg());
        volumes.setRw(c.inv(), c.dest(), c.arg(), payloadBool(c.untrustedPayload()));
    }

    @Handles(value = "admin.vm.volume.Set.ephemeral", arg = Arg.REQUIRED, payload = Payload.REQUIRED,
            topic = Topic.STORAGE)
    void vmVolumeSetEphemeral(Call c) {
        VolumeOps.volume(c.dest(), c.arg());
        volumes.setEphemeral(c.inv(), c.dest(), c.arg(), payloadBool(c.untrustedPayload()));
    }

    @Handles(value = "admin.vm.volume.Clear", arg = Arg.REQUIRED, topic = Topic.STORAGE)
    void vmVolumeClear(Call c) {
        volumes.clearVolume(c.inv(), c.dest(), c.arg());
    }

    @Handles(value = "admin.vm.volume.CloneFrom", arg = Arg.REQUIRED, dest = Dest.NOT_ADMIN, topic = Topic.STORAGE)
    String vmVolumeCloneFrom(Call c) {
        var v = VolumeOps.cloneSource(c.inv(), c.dest(), c.arg());
        var token = new byte[32];
        random.nextBytes(token);
        String t = HexFormat.of().formatHex(token);
        pendingClones.put(t, new CloneSource(c.destName(), v.name()));
        return t;
    }

    @Handles(value = "admin.vm.volume.CloneTo", arg = Arg.REQUIRED, payload = Payload.REQUIRED,
            dest = Dest.NOT_ADMIN, topic = Topic.STORAGE)
    void vmVolumeCloneTo(Call c) {
        var v = VolumeOps.managedVolume(c.inv(), c.dest(), c.arg());
        var src = pendingClones.remove(c.payloadAscii().strip());
        if (src == null) {
            throw new CompartException(ErrorKind.PERMISSION_DENIED, "Invalid token for cloning: get one with "
                    + "admin.vm.volume.CloneFrom (each token is valid once)");
        }
        volumes.cloneVolume(src.qube(), src.volume(), c.destName(), v.name());
    }
}
