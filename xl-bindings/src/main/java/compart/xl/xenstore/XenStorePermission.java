package compart.xl.xenstore;

import java.util.Objects;

/**
 * One entry of a xenstore node's permission list ({@code struct xs_permissions}). In a list, the first entry
 * names the node's owner and gives the access of every domain not listed; later entries grant access to one
 * domain each.
 *
 * @param domid  the domain
 * @param access what it may do
 */
public record XenStorePermission(int domid, Access access) {
    public XenStorePermission {
        if (domid < 0) {
            throw new IllegalArgumentException("xenstore permission domid must be >= 0, got " + domid);
        }
        Objects.requireNonNull(access, "access");
    }

    /** Access bits ({@code XS_PERM_READ}, {@code XS_PERM_WRITE}). */
    public enum Access {
        NONE(0), READ(1), WRITE(2), BOTH(3);

        private final int bits;

        Access(int bits) {
            this.bits = bits;
        }

        /** @return the {@code XS_PERM_*} bits */
        public int bits() {
            return bits;
        }

        /** @return the access for these bits (only the read and write bits count) */
        public static Access of(int bits) {
            return values()[bits & 3];
        }
    }
}
