package compart.cli.format;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void write_keepsMapOrder_andEscapesStrings() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", "a\"b\\c\nd\u0001");
        m.put("netvm", null);
        m.put("memory", 400L);
        m.put("debug", false);
        m.put("tags", List.of("x", "y"));

        assertThat(JsonText.write(m)).isEqualTo(
                "{\"name\":\"a\\\"b\\\\c\\nd\\u0001\",\"netvm\":null,\"memory\":400,\"debug\":false,\"tags\":[\"x\",\"y\"]}");
    }
}
