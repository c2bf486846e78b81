package compart.xl.libxl;

import java.util.Objects;

/**
 * The hypervisor's version and build, as libxl reports it ({@code libxl_version_info}).
 *
 * @param major        Xen major version, e.g. 4
 * @param minor        Xen minor version, e.g. 17
 * @param extra        the rest of the version string, e.g. {@code ".5"} or {@code "-rc"}
 * @param compiler     the compiler Xen was built with
 * @param compileBy    who built Xen
 * @param compileDomain the build host's domain
 * @param compileDate  when Xen was built
 * @param capabilities the guest ABIs the hypervisor offers, e.g. {@code "xen-3.0-x86_64 hvm-3.0-x86_64"}
 * @param changeset    the source changeset
 * @param virtStart    the hypervisor's virtual start address
 * @param pageSize     the page size in bytes
 * @param commandLine  the hypervisor command line
 * @param buildId      the hex build id, or empty
 */
public record VersionInfo(int major, int minor, String extra, String compiler, String compileBy, String compileDomain,
                          String compileDate, String capabilities, String changeset, long virtStart, int pageSize,
                          String commandLine, String buildId) {
    public VersionInfo {
        Objects.requireNonNull(extra, "extra");
        Objects.requireNonNull(capabilities, "capabilities");
        compiler = Objects.requireNonNullElse(compiler, "");
        compileBy = Objects.requireNonNullElse(compileBy, "");
        compileDomain = Objects.requireNonNullElse(compileDomain, "");
        compileDate = Objects.requireNonNullElse(compileDate, "");
        changeset = Objects.requireNonNullElse(changeset, "");
        commandLine = Objects.requireNonNullElse(commandLine, "");
        buildId = Objects.requireNonNullElse(buildId, "");
    }

    /** @return the version as Xen prints it, e.g. {@code 4.17.5} */
    public String version() {
        return major + "." + minor + extra;
    }
}
