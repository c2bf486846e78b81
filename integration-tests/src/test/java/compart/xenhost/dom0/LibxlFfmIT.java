package compart.xenhost.dom0;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The smallest proof that Java reaches libxl through FFM on a real Xen: a logger, a {@code libxl_ctx}, the
 * version, the physical host's capabilities and the domain list. Layouts (Xen 4.17, checked against the headers
 * by xl-bindings' layout probe, docs/ffm.md): {@code libxl_version_info} major@0 minor@4 extra@8;
 * {@code libxl_physinfo} 128 B, nr_cpus@12, cap_hvm@116, cap_pv@117, cap_hap@119; {@code libxl_dominfo} 120 B,
 * domid@16. The real bindings (compart.xl.libxl) are tested on top of this by their own ITs.
 */
@SuppressWarnings("restricted") // the point of this test is calling C
class LibxlFfmIT {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final Arena LIBRARIES = Arena.ofShared();
    private static final SymbolLookup LIBXL = SymbolLookup.libraryLookup("libxenlight.so.4.17", LIBRARIES);
    private static final SymbolLookup TOOLLOG = SymbolLookup.libraryLookup("libxentoollog.so.1", LIBRARIES);
    private static final int XTL_ERROR = 8;
    private static final int LIBXL_VERSION = 0;

    private static MemorySegment logger;
    private static MemorySegment ctx;

    private static MethodHandle function(SymbolLookup library, String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(library.findOrThrow(name), descriptor);
    }

    @BeforeAll
    static void allocateContext() throws Throwable {
        MemorySegment stderr = LINKER.defaultLookup().findOrThrow("stderr").reinterpret(ADDRESS.byteSize())
                .get(ADDRESS, 0);
        logger = (MemorySegment) function(TOOLLOG, "xtl_createlogger_stdiostream",
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, JAVA_INT)).invokeExact(stderr, XTL_ERROR, 0);
        assertThat(logger.address()).as("xtl_createlogger_stdiostream").isNotZero();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int rc = (int) function(LIBXL, "libxl_ctx_alloc",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS))
                    .invokeExact(out, LIBXL_VERSION, 0, logger);
            assertThat(rc).as("libxl_ctx_alloc rc").isZero();
            ctx = out.get(ADDRESS, 0);
        }
    }

    @AfterAll
    static void freeContext() throws Throwable {
        if (ctx != null) {
            int rc = (int) function(LIBXL, "libxl_ctx_free", FunctionDescriptor.of(JAVA_INT, ADDRESS)).invokeExact(ctx);
            assertThat(rc).isZero();
        }
        if (logger != null) {
            function(TOOLLOG, "xtl_logger_destroy", FunctionDescriptor.ofVoid(ADDRESS)).invokeExact(logger);
        }
    }

    @Test
    void versionInfo_isXen417() throws Throwable {
        MemorySegment info = ((MemorySegment) function(LIBXL, "libxl_get_version_info",
                FunctionDescriptor.of(ADDRESS, ADDRESS)).invokeExact(ctx)).reinterpret(96);

        assertThat(info.get(JAVA_INT, 0)).as("xen_version_major").isEqualTo(4);
        assertThat(info.get(JAVA_INT, 4)).as("xen_version_minor").isEqualTo(17);
        String extra = info.get(ADDRESS, 8).reinterpret(64).getString(0);
        assertThat(extra).as("xen_version_extra").startsWith(".");
    }

    @Test
    void physinfo_hasOneCpu_andHvmPvAndHap() throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment physinfo = arena.allocate(128, 8);
            function(LIBXL, "libxl_physinfo_init", FunctionDescriptor.ofVoid(ADDRESS)).invokeExact(physinfo);
            int rc = (int) function(LIBXL, "libxl_get_physinfo", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS))
                    .invokeExact(ctx, physinfo);
            try {
                assertThat(rc).as("libxl_get_physinfo rc").isZero();
                assertThat(physinfo.get(JAVA_INT, 12)).as("nr_cpus").isEqualTo(1);
                assertThat(physinfo.get(JAVA_BYTE, 116)).as("cap_hvm").isEqualTo((byte) 1);
                assertThat(physinfo.get(JAVA_BYTE, 117)).as("cap_pv").isEqualTo((byte) 1);
                assertThat(physinfo.get(JAVA_BYTE, 119)).as("cap_hap").isEqualTo((byte) 1);
            } finally {
                function(LIBXL, "libxl_physinfo_dispose", FunctionDescriptor.ofVoid(ADDRESS)).invokeExact(physinfo);
            }
        }
    }

    @Test
    void listDomain_containsDomain0() throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(JAVA_INT);
            MemorySegment list = (MemorySegment) function(LIBXL, "libxl_list_domain",
                    FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS)).invokeExact(ctx, count);
            int n = count.get(JAVA_INT, 0);
            assertThat(list.address()).as("libxl_list_domain").isNotZero();
            try {
                MemorySegment infos = list.reinterpret(120L * n);
                var domids = new java.util.ArrayList<Integer>();
                for (int i = 0; i < n; i++) {
                    domids.add(infos.get(JAVA_INT, 120L * i + 16));
                }
                assertThat(domids).contains(0);
            } finally {
                function(LIBXL, "libxl_dominfo_list_free", FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT))
                        .invokeExact(list, n);
            }
        }
    }
}
