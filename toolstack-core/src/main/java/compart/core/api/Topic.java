package compart.core.api;

/** What a method is about; with the failure's kind it picks the Qubes exception class (see {@link ExceptionTypes}). */
public enum Topic {
    /** Listing and general queries. */
    GENERAL,
    /** A qube property. */
    PROPERTY,
    /** A global property. */
    GLOBAL_PROPERTY,
    /** A feature. */
    FEATURE,
    /** A tag. */
    TAG,
    /** A label. */
    LABEL,
    /** A storage pool or volume. */
    STORAGE,
    /** Creating or removing a qube. */
    CREATE_REMOVE,
    /** Starting a qube. */
    START,
    /** Shutting down or killing a qube. */
    SHUTDOWN,
    /** Pausing a qube. */
    PAUSE,
    /** Unpausing a qube. */
    UNPAUSE,
    /** A backup ({@code admin.backup.*}). */
    BACKUP
}
