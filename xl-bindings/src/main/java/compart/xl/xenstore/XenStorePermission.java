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

    /**
     * Access bits ({@code XS_PERM_READ} 1, {@code XS_PERM_WRITE} 2): the constants stand in the order of their bits,
     * so a constant's ordinal is its bits.
     */
    public enum Access {
        NONE, READ, WRITE, BOTH;

        /** @return the {@code XS_PERM_*} bits */
        public int bits() {
            return ordinal();
        }

        /** @return the access for these bits (only the read and write bits count) */
        public static Access of(int bits) {
            return values()[bits & 3];
        }
    }
}
