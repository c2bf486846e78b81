package compart.core.qubesdb;

/** One change dom0 pushes to a qube's QubesDB, in the order {@link QubesDbEntries#updates} gives. */
public sealed interface QdbOp {
    /** The entry at {@code path} now holds {@code value}. */
    record Write(String path, String value) implements QdbOp {
        /** Checks the path. */
        public Write {
            QdbPath.checkEntry(path);
        }
    }

    /** The entry at {@code path} is gone; with a trailing '/' every entry under that directory is. */
    record Remove(String path) implements QdbOp {
        /** Checks the path. */
        public Remove {
            QdbPath.check(path);
        }
    }
}
