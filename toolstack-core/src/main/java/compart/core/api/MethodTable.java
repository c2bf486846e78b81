package compart.core.api;

import compart.core.model.QubeClass;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The Admin API methods by name, read from the {@link Handles} annotations of the topic classes' methods.
 *
 * <p>Not thread safe while it is filled; read only afterwards.
 */
final class MethodTable {
    private static final MethodType HANDLER = MethodType.methodType(String.class, Call.class);
    private static final MethodType VOID_HANDLER = MethodType.methodType(void.class, Call.class);

    private final Map<String, AdminMethod> methods = new TreeMap<>();

    /**
     * Adds every method of {@code topic} annotated with {@link Handles}.
     *
     * @param topic an instance of a topic class of this package
     * @return this table
     * @throws IllegalStateException when a name is taken twice or a handler does not take a {@link Call} and return
     *                               a String (the reply) or nothing (an empty reply)
     */
    MethodTable register(Object topic) {
        var lookup = MethodHandles.lookup();
        for (var m : topic.getClass().getDeclaredMethods()) {
            var h = m.getAnnotation(Handles.class);
            if (h == null) {
                continue;
            }
            MethodHandle handle;
            try {
                handle = lookup.unreflect(m).bindTo(topic);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("handler " + m + " is not accessible", e);
            }
            AdminMethod.Handler handler;
            if (handle.type().equals(HANDLER)) {
                handler = c -> invoke(handle, c);
            } else if (handle.type().equals(VOID_HANDLER)) {
                handler = c -> invoke(handle.asType(HANDLER), c);
            } else {
                throw new IllegalStateException("handler " + m + " must take a Call and return a String or nothing");
            }
            for (String name : expand(h.value())) {
                add(new AdminMethod(name, h.arg(), h.payload(), h.dest(), h.topic(), m.getName(), handler));
            }
        }
        return this;
    }

    private void add(AdminMethod method) {
        if (methods.putIfAbsent(method.name(), method) != null) {
            throw new IllegalStateException("Admin API method declared twice: " + method.name());
        }
    }

    private static String invoke(MethodHandle handle, Call c) {
        try {
            return (String) handle.invokeExact(c);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** @return the names with {@code {class}} and {@code {device}} expanded */
    private static List<String> expand(String[] names) {
        var out = new ArrayList<String>();
        for (String name : names) {
            if (name.contains("{class}")) {
                for (var klass : QubeClass.values()) {
                    if (klass.creatable()) {
                        out.add(name.replace("{class}", klass.name()));
                    }
                }
            } else if (name.contains("{device}")) {
                SystemMethods.DEVICE_CLASSES.forEach(d -> out.add(name.replace("{device}", d)));
            } else {
                out.add(name);
            }
        }
        return out;
    }

    /** @return the method of that name, or null */
    AdminMethod get(String name) {
        return methods.get(name);
    }

    /** @return every method by name, sorted */
    Map<String, AdminMethod> all() {
        return Collections.unmodifiableMap(methods);
    }
}
