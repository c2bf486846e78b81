package compart.policy;

import java.util.Objects;
import java.util.Set;

/**
 * What the policy needs to know about one qube: the entry of Qubes' {@code internal.GetSystemInfo} answer.
 *
 * @param name                the qube's name
 * @param type                its class: {@code AdminVM}, {@code AppVM}, {@code TemplateVM}, {@code DispVM},
 *                            {@code StandaloneVM}, {@code RemoteVM} ...
 * @param tags                its tags
 * @param templateForDispVms  whether disposables may be started from it
 * @param defaultDispVm       the disposable template its {@code @dispvm} calls use, or null
 * @param powerState          {@code Running}, {@code Halted}, {@code Paused} ...
 * @param uuid                its uuid without the {@code uuid:} prefix, or null if unknown
 * @param internal            whether it is hidden from the user (never offered by ask)
 * @param guiVm               the qube showing its windows (asks and notifications go there), or null
 * @param relayVm             for a RemoteVM, the local qube relaying its calls, or null
 * @param transportRpc        for a RemoteVM, the service carrying its calls, or null
 */
public record QubeInfo(String name, String type, Set<String> tags, boolean templateForDispVms, String defaultDispVm,
                   String powerState, String uuid, boolean internal, String guiVm, String relayVm,
                   String transportRpc) {
    public QubeInfo {
        Objects.requireNonNull(name, "name");
        type = type == null ? "AppVM" : type;
        tags = tags == null ? Set.of() : Set.copyOf(tags);
        powerState = powerState == null ? "Halted" : powerState;
    }

    /** A plain qube of a class, halted, no tags: a starting point for {@code with*} copies in tests and tools. */
    public static QubeInfo of(String name, String type) {
        return new QubeInfo(name, type, Set.of(), false, null, "Halted", null, false, null, null, null);
    }

    /** @return whether {@link #powerState()} is {@code Running} */
    public boolean running() {
        return "Running".equals(powerState);
    }
}
