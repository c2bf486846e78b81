package compart.core.api;

import static compart.core.api.AdminText.parseSize;
import static compart.core.api.AdminText.readSizeLine;

import compart.core.ops.VolumeOps;

/**
 * The volume imports, whose payload is streamed ({@link AdminApi#handleStream}) instead of read whole: the
 * {@link Call} carries the data. Not in {@link AdminApi#methodNames()} (the server routes them by
 * {@link AdminApi#streamsPayload}).
 */
record VolumeImportMethods(VolumeOps volumes) {
    /**
     * {@code admin.vm.volume.Import} (exactly the volume's size in bytes) or {@code admin.vm.volume.ImportWithSize}
     * (a decimal size and a newline, then exactly that many bytes; the volume takes that size). The qube must be
     * halted; the import is all or nothing.
     */
    @Handles(value = {"admin.vm.volume.Import", "admin.vm.volume.ImportWithSize"}, arg = Arg.OPTIONAL,
            payload = Payload.OPTIONAL, dest = Dest.NOT_ADMIN, topic = Topic.STORAGE)
    void vmVolumeImport(Call c) {
        var v = VolumeOps.importTarget(c.inv(), c.dest(), c.arg());
        long size = c.request().method().equals("admin.vm.volume.ImportWithSize")
                ? parseSize(readSizeLine(c.data())) : v.size();
        volumes.importVolume(c.inv(), c.dest(), c.arg(), c.data(), size);
    }
}
