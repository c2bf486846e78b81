package compart.xenhost;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One Xen host of a run and the test classes it runs. QEMU's TCG runs a single-vCPU Xen host on one core
 * (two vCPUs made nested guests triple-fault, see {@link QemuCommand}), so a run on a two-core machine boots
 * two Xen hosts at once, each with its share of the classes, both from the same read-only image.
 *
 * <p>{@link #plan} splits the default selection in two: the classes matching the first lane's pattern (the
 * scenario by default: alone it takes about as long as all the others together) and everything else. A narrower
 * selection ({@code -Dcompart.xenhost.include=...}) runs in one lane, so no lane is left without a test, unless
 * the first lane's pattern is given too ({@code -Dcompart.xenhost.lane1=...}): then both lanes take their part
 * of that selection.
 *
 * @param number         1, 2, ...: lane 1 keeps the single-lane names ({@code share}, {@code serial.log})
 * @param includePattern the class-name pattern this lane's launcher runs
 */
public record TestLane(int number, String includePattern) {

    /** The classes of lane 1 unless told otherwise: the scenario. */
    public static final String DEFAULT_FIRST_LANE = "^.+\\.ScenarioIT$";

    public TestLane {
        if (number < 1) {
            throw new IllegalArgumentException("lanes are numbered from 1: " + number);
        }
        Pattern.compile(includePattern);
    }

    /**
     * The lanes of a run.
     *
     * @param include   the run's class-name pattern
     * @param lanes     how many Xen hosts may run at once (1 or 2)
     * @param firstLane the pattern of lane 1's classes when there are two, if given (else the scenario)
     */
    public static List<TestLane> plan(String include, int lanes, Optional<String> firstLane) {
        if (lanes < 1 || lanes > 2) {
            throw new IllegalArgumentException("compart.xenhost.lanes is 1 or 2, not " + lanes);
        }
        if (lanes == 1 || (firstLane.isEmpty() && !include.equals(RunSettings.DEFAULT_INCLUDE))) {
            return List.of(new TestLane(1, include));
        }
        String first = firstLane.orElse(DEFAULT_FIRST_LANE);
        return List.of(new TestLane(1, "(?=" + include + ")" + first),
                new TestLane(2, "(?!" + first + ")" + include));
    }

    /** This lane's 9p share under the run's work directory. */
    public Path share(Path work) {
        return work.resolve(number == 1 ? "share" : "share-" + number);
    }

    /** This lane's serial console log under the run's work directory. */
    public Path serialLog(Path work) {
        return work.resolve(number == 1 ? "serial.log" : "serial-" + number + ".log");
    }

    /** The prefix of this lane's console lines in the build output ({@code ""} for a single lane). */
    public String prefix(int lanes) {
        return lanes == 1 ? "" : "[lane " + number + "] ";
    }
}
