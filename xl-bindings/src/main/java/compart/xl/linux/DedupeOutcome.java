package compart.xl.linux;

/**
 * What FIDEDUPERANGE did for one destination.
 *
 * @param status       the kernel's verdict
 * @param bytesDeduped how many bytes now share the source's blocks (0 unless {@link Status#SAME})
 * @param errno        the error number when {@code status} is {@link Status#ERROR}, else 0
 */
public record DedupeOutcome(Status status, long bytesDeduped, int errno) {
    /** The kernel's verdict for one destination. */
    public enum Status {
        /** The ranges were byte for byte equal and now share blocks. */
        SAME,
        /** The ranges differ: nothing changed. */
        DIFFERS,
        /** The kernel refused this destination (see {@link #errno()}). */
        ERROR
    }

    public DedupeOutcome {
        if (status == null || bytesDeduped < 0) {
            throw new IllegalArgumentException("bad dedupe outcome " + status + " " + bytesDeduped);
        }
    }

    /** @return a readable form of {@link #errno()}, e.g. {@code EINVAL (Invalid argument)} */
    public String errorText() {
        return errno == 0 ? "" : LinuxNative.describeErrno(errno);
    }
}
