package compart.core.api;

import compart.core.ops.SystemInfoOps;

/** The internal socket's methods ({@link AdminApi#handleInternal}): for dom0 components, not {@code admin.*}. */
record InternalMethods(SystemInfoOps system) {
    @Handles(value = AdminApi.SYSTEM_INFO, dest = Dest.ADMIN)
    String internalGetSystemInfo(Call c) {
        return system.systemInfoJson();
    }
}
