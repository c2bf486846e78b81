package compart.cli.client;

import java.util.Objects;

/**
 * One line of {@code admin.vm.List}: {@code NAME class=CLASS state=STATE [uuid=UUID]}.
 *
 * @param name  the qube's name
 * @param klass its class ({@code AppVM}, {@code TemplateVM}, ...)
 * @param state its power state as the daemon names it ({@code Running}, {@code Halted}, {@code Paused}, ...)
 * @param uuid  its UUID, or empty when the daemon does not send it
 */
public record QubeEntry(String name, String klass, String state, String uuid) {
    /** Checks that name, class and state are present. */
    public QubeEntry {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(klass, "klass");
        Objects.requireNonNull(state, "state");
        uuid = uuid == null ? "" : uuid;
    }

    /** @return whether the qube is anything but halted (Qubes' {@code is_running} is true when paused too) */
    public boolean isRunning() {
        return !state.equals("Halted") && !state.equals("NA");
    }

    /** @return whether this is dom0 or another AdminVM */
    public boolean isAdminVm() {
        return klass.equals("AdminVM");
    }
}
