package compart.volumes.lvm;

import java.util.Set;

/**
 * One logical volume as {@code lvs} reports it.
 *
 * @param volumeGroup its volume group
 * @param name        its name
 * @param pool        the thin pool it lives in, or empty
 * @param size        its (virtual) size in bytes
 * @param dataPercent how much of it is allocated, in percent (0 when lvs gives none)
 * @param attributes  {@code lv_attr}: [0] type ({@code t} thin pool, {@code V} thin volume), [4] state ({@code a} active)
 * @param origin      the volume it was snapshotted from, or empty (empty again once the origin is gone)
 * @param tags        its LVM tags
 */
record LogicalVolume(String volumeGroup, String name, String pool, long size, double dataPercent, String attributes,
                     String origin, Set<String> tags) {
    LogicalVolume {
        tags = Set.copyOf(tags);
    }

    boolean isThinPool() {
        return !attributes.isEmpty() && attributes.charAt(0) == 't';
    }

    boolean isActive() {
        return attributes.length() > 4 && attributes.charAt(4) == 'a';
    }

    /** @return bytes allocated to it in its thin pool */
    long usedBytes() {
        return (long) (size * dataPercent / 100);
    }
}
