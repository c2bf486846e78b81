package compart.core.api;

import compart.core.ops.SystemInfoOps;

/** The internal socket's methods ({@link AdminApi#handleInternal}): for dom0 components, not {@code admin.*}. */
final class InternalMethods {
    private final SystemInfoOps system;

    InternalMethods(SystemInfoOps system) {
        this.system = system;
    }

    @Handles(value = AdminApi.SYSTEM_INFO, dest = Dest.ADMIN)
    String internalGetSystemInfo(Call c) {
        return system.systemInfoJson();
    }
}
