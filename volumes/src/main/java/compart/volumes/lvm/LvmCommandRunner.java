package compart.volumes.lvm;

/**
 * Runs one {@code lvm} command: the seam between the {@code lvm_thin} driver and LVM. The driver uses
 * {@link Lvm#PROCESSES} (the {@code lvm} program); tests may give a recording LVM of their own, while every class of
 * the driver above this seam runs as in production.
 */
@FunctionalInterface
interface LvmCommandRunner {
    /**
     * @return what the command printed on stdout
     * @throws compart.errors.CompartException STORAGE with LVM's message when the command fails
     */
    String run(LvmCommand command);
}
