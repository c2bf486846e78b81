package compart.core.backup;

import java.util.List;

/**
 * One file read from a tar stream, its extended headers applied.
 *
 * @param name the entry's path
 * @param type the type flag ({@code '0'} regular, {@code '5'} directory...)
 * @param storedSize the bytes of data that follow in the archive (for a sparse file: its map and segments)
 * @param realSize the file's size once extracted
 * @param sparse the data segments of a sparse file (offset, length), empty for a plain file
 * @param sparseMapInData whether the sparse map (GNU sparse 1.0 in pax) precedes the data and is still to be read
 */
record TarEntry(String name, char type, long storedSize, long realSize, List<long[]> sparse, boolean sparseMapInData) {

    TarEntry {
        sparse = List.copyOf(sparse);
    }

    boolean regular() {
        return type == '0' || type == 0 || type == '7' || type == 'S';
    }
}
