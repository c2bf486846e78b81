package compart.xl.xenstore;

import java.util.List;
import java.util.Optional;

/**
 * The operations on xenstore nodes, done either directly ({@link XenStore}) or inside a transaction
 * ({@link XenStore#transaction}). Paths are absolute ({@code /local/domain/3/name}) or relative to the caller's
 * domain path. Every failure is a {@link compart.errors.CompartException} naming the call, the path and errno.
 */
public interface XenStoreAccess {
    /** @return the node's value (as UTF-8), or empty when the node does not exist ({@code xs_read}) */
    Optional<String> read(String path);

    /** Writes a value, creating the node and missing parents ({@code xs_write}). */
    void write(String path, String value);

    /** Creates an empty node and missing parents; existing nodes are left alone ({@code xs_mkdir}). */
    void mkdir(String path);

    /** Removes a node and everything below it; an absent node is not an error ({@code xs_rm}). */
    void remove(String path);

    /** @return the names of the node's children, or empty when the node does not exist ({@code xs_directory}) */
    List<String> list(String path);

    /** @return the node's permission list, owner first ({@code xs_get_permissions}) */
    List<XenStorePermission> permissions(String path);

    /** Replaces the node's permission list, owner first ({@code xs_set_permissions}). */
    void setPermissions(String path, List<XenStorePermission> permissions);
}
