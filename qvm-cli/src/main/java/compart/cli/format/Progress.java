package compart.cli.format;

import java.io.PrintWriter;

/**
 * A one-line progress indicator on stderr for long work (shutdown --wait of many qubes, clone, import, dedup).
 * It draws only when stderr is a terminal, so pipes and scripts see nothing; {@link #done()} erases the line.
 * Not thread safe: one command thread draws.
 */
public final class Progress {
    private static final String SPIN = "-\\|/";

    private final PrintWriter err;
    private final boolean enabled;
    private int lastLength;
    private int tick;

    /**
     * @param err     where to draw
     * @param enabled whether to draw at all (callers pass {@link #onTerminal()} unless told to be quiet)
     */
    public Progress(PrintWriter err, boolean enabled) {
        this.err = err;
        this.enabled = enabled;
    }

    /** @return whether the process runs on a terminal (Java's console is attached to one) */
    public static boolean onTerminal() {
        var console = System.console();
        return console != null && console.isTerminal();
    }

    /** Shows {@code message} with a turning spinner, replacing what was shown. */
    public void show(String message) {
        if (!enabled) {
            return;
        }
        String line = message + " " + SPIN.charAt(tick++ % SPIN.length());
        err.print("\r" + line + " ".repeat(Math.max(0, lastLength - line.length())));
        err.flush();
        lastLength = line.length();
    }

    /** Erases the line. */
    public void done() {
        if (!enabled || lastLength == 0) {
            return;
        }
        err.print("\r" + " ".repeat(lastLength) + "\r");
        err.flush();
        lastLength = 0;
    }
}
