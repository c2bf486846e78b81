package compart.core.ops;

/** A qube's power state, named as the Admin API reports it ({@code state=Running}). */
public enum PowerState {
    Halted, Transient, Running, Paused, Suspended, Halting, Dying, Crashed, NA
}
