package compart.xl.foreign;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Proves the hand-written layouts and constants of every {@code *Native} class of compart.xl (except
 * compart.xl.linux, which has its own probe) against the installed Xen 4.17 headers: {@code src/test/c/layout_probe.c}
 * is compiled with gcc and prints sizeof/alignof/offsetof of every struct and field and the value of every
 * constant; each line must match the Java side, and every Java layout and field must be probed.
 */
class LayoutProbeTest {
    private static final List<String> NATIVE_CLASSES = List.of(
            "compart.xl.libxl.LibxlNative",
            "compart.xl.xenstore.XenStoreNative",
            "compart.xl.xenctrl.XenCtrlNative",
            "compart.xl.foreign.LibcNative",
            "compart.xl.foreign.ToolLogger");

    private static List<String[]> lines;
    private static final Map<String, MemoryLayout> LAYOUTS = new HashMap<>();
    private static final Map<String, Number> CONSTANTS = new HashMap<>();

    @BeforeAll
    static void runProbe() throws Exception {
        assumeTrue(Gcc.xenHeadersAvailable(), "gcc or the Xen headers are missing: apt-get install gcc libxen-dev");
        var probe = Gcc.compile("layout_probe.c", "layout_probe");
        lines = Gcc.run(List.of(probe.toString())).lines().map(l -> l.split("\\s+")).toList();
        for (String name : NATIVE_CLASSES) {
            // initialize=false: reading the static layout fields must not load the Xen libraries
            Class<?> type = Class.forName(name, false, LayoutProbeTest.class.getClassLoader());
            for (Field field : type.getDeclaredFields()) {
                if (!Modifier.isStatic(field.getModifiers())) {
                    continue;
                }
                field.setAccessible(true);
                Object value = field.get(null);
                if (value instanceof MemoryLayout layout && layout.name().isPresent()) {
                    LAYOUTS.put(layout.name().get(), layout);
                } else if (value instanceof Integer || value instanceof Long || value instanceof Short) {
                    CONSTANTS.put(field.getName(), (Number) value);
                }
            }
        }
    }

    /**
     * Compares every probe line of one kind with its Java counterpart, found in {@code java} by the line's name up to
     * the first dot: {@code differs} answers what differs (null: nothing); at least {@code atLeast} lines of the kind
     * must be there.
     */
    private static <T> void assertEveryProbed(String kind, int atLeast, Map<String, T> java,
                                              BiFunction<String[], T, String> differs) {
        List<String> mismatches = new ArrayList<>();
        int checked = 0;
        for (String[] line : lines) {
            if (line[0].equals(kind)) {
                checked++;
                String name = line[1].split("\\.")[0];
                T counterpart = java.get(name);
                String difference = counterpart == null ? "nothing in Java named " + name
                        : differs.apply(line, counterpart);
                if (difference != null) {
                    mismatches.add(line[1] + ": " + difference);
                }
            }
        }
        assertThat(mismatches).isEmpty();
        assertThat(checked).isGreaterThanOrEqualTo(atLeast);
    }

    @Test
    void everyProbedStruct_hasTheSameSizeAndAlignmentInJava() {
        assertEveryProbed("S", 17, LAYOUTS, (line, layout) -> {
            boolean same = layout.byteSize() == Long.parseLong(line[2])
                    && layout.byteAlignment() == Long.parseLong(line[3]);
            return same ? null : "C size/align " + line[2] + "/" + line[3] + ", Java " + layout.byteSize() + "/"
                    + layout.byteAlignment();
        });
    }

    @Test
    void everyProbedField_hasTheSameOffsetAndSizeInJava() {
        assertEveryProbed("F", 120, LAYOUTS, (line, layout) -> {
            String[] path = line[1].split("\\.");
            MemoryLayout.PathElement[] elements = new MemoryLayout.PathElement[path.length - 1];
            for (int i = 1; i < path.length; i++) {
                elements[i - 1] = groupElement(path[i]);
            }
            try {
                long offset = layout.byteOffset(elements);
                long size = layout.select(elements).byteSize();
                boolean same = offset == Long.parseLong(line[2]) && size == Long.parseLong(line[3]);
                return same ? null : "C offset/size " + line[2] + "/" + line[3] + ", Java " + offset + "/" + size;
            } catch (IllegalArgumentException e) {
                return "not in the Java layout (" + e.getMessage() + ")";
            }
        });
    }

    @Test
    void everyJavaLayoutAndField_isCoveredByTheProbe() {
        Set<String> probed = new LinkedHashSet<>();
        for (String[] line : lines) {
            if (line[0].equals("S") || line[0].equals("F")) {
                probed.add(line[1]);
            }
        }
        List<String> unprobed = new ArrayList<>();
        for (var entry : LAYOUTS.entrySet()) {
            if (!probed.contains(entry.getKey())) {
                unprobed.add(entry.getKey());
            }
            if (entry.getValue() instanceof GroupLayout group) {
                for (MemoryLayout member : group.memberLayouts()) {
                    if (!(member instanceof PaddingLayout)
                            && !probed.contains(entry.getKey() + "." + member.name().orElse("?"))) {
                        unprobed.add(entry.getKey() + "." + member.name().orElse("<unnamed>"));
                    }
                }
            }
        }
        assertThat(unprobed).isEmpty();
    }

    @Test
    void everyProbedConstant_hasTheSameValueInJava() {
        assertEveryProbed("C", 60, CONSTANTS, (line, value) ->
                value.longValue() == Long.parseLong(line[2]) ? null : "C " + line[2] + ", Java " + value);
    }
}
