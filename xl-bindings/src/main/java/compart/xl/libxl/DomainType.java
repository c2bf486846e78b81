package compart.xl.libxl;

/** How a domain is virtualised ({@code libxl_domain_type}). */
public enum DomainType implements JsonNamed {
    /** Not known (libxl's INVALID, e.g. a domain being torn down). */
    INVALID(-1),
    /** Fully virtualised, with an emulated platform (qemu device model). */
    HVM(1),
    /** Paravirtualised (classic PV; dom0 on the QEMU host). */
    PV(2),
    /** PVH: hardware virtualisation without emulated devices. */
    PVH(3);

    private final int value;

    DomainType(int value) {
        this.value = value;
    }

    /** @return the libxl enum value */
    public int value() {
        return value;
    }

    /** @return the type for a libxl enum value; unknown values map to {@link #INVALID} */
    public static DomainType of(int value) {
        for (DomainType type : values()) {
            if (type.value == value) {
                return type;
            }
        }
        return INVALID;
    }
}
