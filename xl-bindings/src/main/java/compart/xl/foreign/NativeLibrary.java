package compart.xl.foreign;

import compart.errors.CompartException;
import compart.errors.ErrorKind;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * One Xen library loaded by its exact soname (struct layouts are Xen-release specific, so the version is part
 * of the name on purpose), and the downcall handles bound from it.
 *
 * <p>Libraries are loaded once per JVM into the global arena and never unloaded. Loading fails with a
 * {@link CompartException} of kind {@link ErrorKind#HYPERVISOR} that names the soname and the package that
 * provides it. Thread-safe.
 */
public final class NativeLibrary {
    /** The errno capture option for calls that report failure through errno. */
    public static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker LINKER = Linker.nativeLinker();
    private static final Map<String, NativeLibrary> LOADED = new ConcurrentHashMap<>();

    private final String soname;
    private final SymbolLookup lookup;
    private final List<String> bound = new CopyOnWriteArrayList<>();

    private NativeLibrary(String soname, SymbolLookup lookup) {
        this.soname = soname;
        this.lookup = lookup;
    }

    /**
     * Loads (once) the library with this soname.
     *
     * @param soname  e.g. {@code libxenlight.so.4.17}
     * @param package_ the Debian package that ships it, for the error message
     * @throws CompartException HYPERVISOR when the library cannot be loaded
     */
    public static NativeLibrary load(String soname, String package_) {
        NativeLibrary library = LOADED.get(soname);
        if (library != null) {
            return library;
        }
        try {
            return LOADED.computeIfAbsent(soname,
                    name -> new NativeLibrary(name, SymbolLookup.libraryLookup(name, Arena.global())));
        } catch (IllegalArgumentException e) {
            throw new CompartException(ErrorKind.HYPERVISOR, "cannot load " + soname + " (" + e.getMessage()
                    + "): Compart needs the Xen 4.17 tool libraries; install " + package_
                    + " (Debian 12: apt-get install " + package_ + ")", e);
        }
    }

    /** @return the soname this library was loaded by */
    public String soname() {
        return soname;
    }

    /** @return the names of every function bound from this library so far, in binding order */
    public List<String> boundFunctions() {
        return List.copyOf(bound);
    }

    /** @return whether this library exports {@code name} */
    public boolean exports(String name) {
        return lookup.find(name).isPresent();
    }

    /**
     * Binds a downcall handle.
     *
     * @throws CompartException HYPERVISOR when the symbol is missing (a different Xen release)
     */
    public MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        MemorySegment address = lookup.find(name).orElseThrow(() -> new CompartException(ErrorKind.HYPERVISOR,
                soname + " does not export " + name + ": Compart is built for Xen 4.17; check the installed Xen version"));
        bound.add(name);
        return LINKER.downcallHandle(address, descriptor, options);
    }

    /** Binds a Java method as a C function pointer that lives for the whole JVM. */
    public static MemorySegment upcall(MethodHandle target, FunctionDescriptor descriptor) {
        return LINKER.upcallStub(target, descriptor, Arena.global());
    }

    /** @return a fresh errno capture buffer from {@code arena}, for calls bound with {@link #CAPTURE_ERRNO} */
    public static MemorySegment errnoState(Arena arena) {
        return arena.allocate(CAPTURE_LAYOUT);
    }

    /** @return the errno captured in {@code state} */
    public static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    /**
     * Passes on what a downcall's {@code invokeExact} threw: runtime exceptions and errors as they are, anything
     * else (a checked exception, which a downcall cannot throw) wrapped. Use as {@code throw rethrow(t)}.
     *
     * @return the wrapped checked throwable, for the caller to throw
     */
    public static AssertionError rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new AssertionError(t);
    }

    /** @return the NUL-terminated string at {@code address}, or null when it is NULL */
    public static String string(MemorySegment address) {
        if (address == null || address.equals(MemorySegment.NULL)) {
            return null;
        }
        return address.reinterpret(Long.MAX_VALUE).getString(0);
    }
}
