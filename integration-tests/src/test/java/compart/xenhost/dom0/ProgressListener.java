package compart.xenhost.dom0;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;

/**
 * Prints each test's start and end on dom0's console as it happens, so the build output shows progress live
 * (the console launcher's tree comes only at the end) and a run killed at its deadline shows which test hung;
 * and each test class's whole time ({@code COMPART-XENHOST: class NAME took N s}), so the budget of the real-Xen
 * run is visible class by class.
 * Registered through META-INF/services; silent outside dom0 (no {@code compart.xenhost.share} property).
 */
public final class ProgressListener implements TestExecutionListener {
    private final boolean inDom0 = System.getProperty("compart.xenhost.share") != null;
    private final Map<String, Long> started = new ConcurrentHashMap<>();

    @Override
    public void executionStarted(TestIdentifier test) {
        if (inDom0 && isClass(test)) {
            started.put(test.getUniqueId(), System.nanoTime());
        }
        if (inDom0 && test.isTest()) {
            started.put(test.getUniqueId(), System.nanoTime());
            System.out.println("COMPART-XENHOST: test started " + name(test));
        }
    }

    @Override
    public void executionFinished(TestIdentifier test, TestExecutionResult result) {
        if (inDom0 && isClass(test)) {
            Long start = started.remove(test.getUniqueId());
            System.out.printf("COMPART-XENHOST: class %s took %.1f s (%s)%n", test.getDisplayName(),
                    start == null ? 0 : (System.nanoTime() - start) / 1e9, result.getStatus());
        }
        if (inDom0 && test.isTest()) {
            Long start = started.remove(test.getUniqueId());
            double seconds = start == null ? 0 : (System.nanoTime() - start) / 1e9;
            System.out.printf("COMPART-XENHOST: test %s %s (%.1f s)%s%n", result.getStatus(), name(test), seconds,
                    result.getThrowable().map(t -> ": " + t.toString().lines().findFirst().orElse("")).orElse(""));
        }
    }

    @Override
    public void executionSkipped(TestIdentifier test, String reason) {
        if (inDom0 && test.isTest()) {
            System.out.println("COMPART-XENHOST: test SKIPPED " + name(test) + ": " + reason);
        }
    }

    private static boolean isClass(TestIdentifier test) {
        return test.isContainer() && test.getSource().filter(ClassSource.class::isInstance).isPresent();
    }

    private static String name(TestIdentifier test) {
        return test.getSource().filter(MethodSource.class::isInstance).map(MethodSource.class::cast)
                .map(m -> m.getClassName().substring(m.getClassName().lastIndexOf('.') + 1) + "." + m.getMethodName())
                .orElse(test.getDisplayName());
    }
}
