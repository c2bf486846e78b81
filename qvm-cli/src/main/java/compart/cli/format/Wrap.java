package compart.cli.format;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Greedy word wrapping like Python's {@code textwrap.fill}, for the help listings: whitespace characters become
 * spaces, runs of spaces inside a line are kept (so padded columns stay aligned), spaces at a line break vanish.
 */
public final class Wrap {
    private static final Pattern CHUNK = Pattern.compile("\\s+|\\S+");

    private Wrap() {}

    /**
     * @param text       the text
     * @param width      the longest line, indentation included (a longer word gets a line of its own)
     * @param first      the first line's indentation
     * @param subsequent the other lines' indentation
     * @return the wrapped text, without a final newline
     */
    public static String fill(String text, int width, String first, String subsequent) {
        List<String> chunks = new ArrayList<>();
        Matcher m = CHUNK.matcher(text.strip().replaceAll("\\s", " "));
        while (m.find()) {
            chunks.add(m.group());
        }
        var out = new StringBuilder();
        var line = new StringBuilder(first);
        int indent = first.length();
        for (String chunk : chunks) {
            boolean blank = chunk.isBlank();
            if (line.length() > indent && line.length() + chunk.length() > width) {
                out.append(line.toString().stripTrailing()).append('\n');
                line = new StringBuilder(subsequent);
                indent = subsequent.length();
                if (blank) {
                    continue;
                }
            }
            line.append(chunk);
        }
        return out.append(line.toString().stripTrailing()).toString();
    }
}
