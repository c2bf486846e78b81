package compart.volumes;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Holds a volume lock in a separate process for {@link VolumeLocksTest}: takes the lock of {@code VID} in
 * {@code POOL_DIR}, prints {@code LOCKED}, and releases it when a line arrives on standard input (or exits, or
 * is killed, holding it).
 *
 * <p>Arguments: {@code POOL_DIR VID}.
 */
public final class LockChild {
    private LockChild() {}

    public static void main(String[] args) throws Exception {
        VolumeLocks.Held held = VolumeLocks.of(Path.of(args[0])).lock(args[1]);
        System.out.println("LOCKED");
        System.out.flush();
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        held.close();
        System.out.println("RELEASED");
        System.out.flush();
    }
}
