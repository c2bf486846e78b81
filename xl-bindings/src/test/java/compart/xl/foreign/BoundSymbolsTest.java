package compart.xl.foreign;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.invoke.MethodHandle;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Binds every downcall of every {@code *Native} class against the real Xen 4.17 libraries (loading them by soname
 * as production does), and checks independently with {@code nm -D} that each bound name is a function the
 * library exports. Needs no hypervisor: binding does not call anything.
 */
class BoundSymbolsTest {
    private static final Path LIBDIR = Path.of("/usr/lib/x86_64-linux-gnu");

    @ParameterizedTest(name = "{1} binds every handle of {0}")
    @CsvSource({
            "compart.xl.libxl.LibxlNative$Handles, libxenlight.so.4.17",
            "compart.xl.xenstore.XenStoreNative$Handles, libxenstore.so.4",
            "compart.xl.xenctrl.XenCtrlNative$Handles, libxenctrl.so.4.17",
            "compart.xl.vchan.VchanNative$Handles, libxenvchan.so.4.17"})
    void everyHandle_isBoundToAFunctionTheLibraryExports(String handlesClass, String soname) throws Exception {
        assumeTrue(Files.exists(LIBDIR.resolve(soname)), soname + " is not installed: apt-get install libxen-dev");
        Class<?> type = Class.forName(handlesClass, true, getClass().getClassLoader());
        int handles = 0;
        NativeLibrary library = null;
        for (Field field : type.getDeclaredFields()) {
            if (!Modifier.isStatic(field.getModifiers())) {
                continue;
            }
            field.setAccessible(true);
            Object value = field.get(null);
            if (value instanceof MethodHandle) {
                handles++;
            } else if (value instanceof NativeLibrary lib) {
                library = lib;
            }
        }
        assertThat(library).isNotNull();
        assertThat(library.soname()).isEqualTo(soname);
        List<String> bound = library.boundFunctions();
        assertThat(bound).hasSize(handles).doesNotHaveDuplicates();

        assumeTrue(Gcc.onPath("nm"), "nm (binutils) is missing");
        Set<String> exported = new HashSet<>();
        for (String line : Gcc.run(List.of("nm", "-D", "--defined-only", LIBDIR.resolve(soname).toString())).lines().toList()) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 3 && (f[1].equals("T") || f[1].equals("W"))) {
                exported.add(f[2].replaceAll("@.*", ""));
            }
        }
        assertThat(exported).containsAll(bound);
    }

    @Test
    void libc_functionsUsedAroundXenCalls_work() {
        assertThat(LibcNative.describeErrno(2)).isEqualTo("ENOENT (No such file or directory)");
        assertThat(LibcNative.sigchldHandler()).isGreaterThanOrEqualTo(0);
    }

    @Test
    void loadingAMissingSoname_failsWithTheSonameAndThePackage() {
        var e = org.assertj.core.api.Assertions.catchThrowableOfType(compart.errors.CompartException.class,
                () -> NativeLibrary.load("libxenlight.so.0.0-not-installed", "libxenmisc4.17"));
        assertThat(e.kind()).isEqualTo(compart.errors.ErrorKind.HYPERVISOR);
        assertThat(e.getMessage()).contains("libxenlight.so.0.0-not-installed").contains("apt-get install libxenmisc4.17");
    }
}
