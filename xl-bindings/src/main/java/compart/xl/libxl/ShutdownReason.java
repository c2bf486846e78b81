package compart.xl.libxl;

/** Why a domain shut down ({@code libxl_shutdown_reason}, the guest's SCHEDOP_shutdown code). */
public enum ShutdownReason {
    UNKNOWN(-1), POWEROFF(0), REBOOT(1), SUSPEND(2), CRASH(3), WATCHDOG(4), SOFT_RESET(5);

    private final int value;

    ShutdownReason(int value) {
        this.value = value;
    }

    /** @return the libxl enum value */
    public int value() {
        return value;
    }

    /** @return the reason for a libxl value; values outside the enum map to {@link #UNKNOWN} */
    public static ShutdownReason of(int value) {
        for (ShutdownReason reason : values()) {
            if (reason.value == value) {
                return reason;
            }
        }
        return UNKNOWN;
    }
}
