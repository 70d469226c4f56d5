package dev.nimbus.json;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class JsonWriterTest {

    private static final JsonObject SAMPLE = JsonObject.builder()
            .put("id", "_disk0")
            .put("size", 536870912L)
            .put("on", true)
            .put("none", JsonNull.INSTANCE)
            .put("list", new JsonArray(List.of(JsonNumber.of(1), JsonNumber.of(2))))
            .put("empty", new JsonArray(List.of()))
            .put("obj", JsonObject.builder().build())
            .build();

    @Test
    void writesCompactTextInMemberOrder() {
        assertEquals("{\"id\":\"_disk0\",\"size\":536870912,\"on\":true,\"none\":null,"
                + "\"list\":[1,2],\"empty\":[],\"obj\":{}}", JsonWriter.write(SAMPLE));
    }

    @Test
    void writesPrettyTextWithTwoSpaceIndent() {
        assertEquals("""
                {
                  "id": "_disk0",
                  "size": 536870912,
                  "on": true,
                  "none": null,
                  "list": [
                    1,
                    2
                  ],
                  "empty": [],
                  "obj": {}
                }""", JsonWriter.writePretty(SAMPLE));
    }

    @Test
    void escapesOnlyQuotesBackslashesAndControlCharacters() {
        String s = "a\"b\\c/d\u00e9\n\t\u0001\u001f";

        assertEquals("\"a\\\"b\\\\c/d\u00e9\\n\\t\\u0001\\u001f\"",
                JsonWriter.write(new JsonString(s)));
    }

    @Test
    void roundTripsThroughTheParser() {
        String text = JsonWriter.write(SAMPLE);

        assertEquals(SAMPLE, JsonParser.parse(text));
        assertEquals(SAMPLE, JsonParser.parse(JsonWriter.writePretty(SAMPLE)));
    }
}
