package compart.cli.format;

import java.util.List;

/**
 * Lays rows out as Qubes' tools do through {@code column -t}: every column but the last is padded to its widest
 * cell, columns are separated by two spaces, and the last cell is not padded. Widths count code points.
 */
public final class Table {
    private Table() {}

    /**
     * @param rows the rows, the head included if any; rows may have different lengths
     * @return the table, one line per row, each ending with a newline
     */
    public static String render(List<? extends List<String>> rows) {
        int columns = rows.stream().mapToInt(List::size).max().orElse(0);
        int[] widths = new int[columns];
        for (List<String> row : rows) {
            for (int i = 0; i < row.size(); i++) {
                widths[i] = Math.max(widths[i], width(row.get(i)));
            }
        }
        var out = new StringBuilder();
        for (List<String> row : rows) {
            for (int i = 0; i < row.size(); i++) {
                String cell = row.get(i);
                out.append(cell);
                if (i < row.size() - 1) {
                    out.repeat(' ', widths[i] - width(cell) + 2);
                }
            }
            out.append('\n');
        }
        return out.toString();
    }

    private static int width(String s) {
        return s.codePointCount(0, s.length());
    }
}
