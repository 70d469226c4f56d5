package dev.nimbus.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class JsonParserTest {

    private static String error(String text) {
        return assertThrows(JsonException.class, () -> JsonParser.parse(text)).getMessage();
    }

    @Test
    void parsesNestedObjectKeepingMemberOrder() {
        JsonObject o = (JsonObject) JsonParser.parse(
                " {\"b\": [1, -2.5e3, true, false, null], \"a\": {\"x\": \"y\"}} ");

        assertEquals(List.of("b", "a"), List.copyOf(o.members().keySet()));
        JsonArray b = (JsonArray) o.get("b");
        assertEquals(new JsonNumber("1"), b.elements().get(0));
        assertEquals(new JsonNumber("-2.5e3"), b.elements().get(1));
        assertSame(JsonBoolean.TRUE, b.elements().get(2));
        assertSame(JsonBoolean.FALSE, b.elements().get(3));
        assertSame(JsonNull.INSTANCE, b.elements().get(4));
        assertEquals(new JsonString("y"), ((JsonObject) o.get("a")).get("x"));
    }

    @Test
    void decodesEveryEscapeIncludingSurrogatePairs() {
        JsonString s = (JsonString) JsonParser.parse(
                "\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u00e9 \\ud83d\\ude00\"");

        assertEquals("q\" b\\ s/ \b\f\n\r\t \u00e9 \ud83d\ude00", s.value());
    }

    @Test
    void keepsIntegersOfAnySizeExactly() {
        JsonNumber n = (JsonNumber) JsonParser.parse("18446744073709551615");

        assertTrue(n.isInteger());
        assertEquals(new BigInteger("18446744073709551615"), n.bigIntegerValue());
        assertFalse(((JsonNumber) JsonParser.parse("1.0")).isInteger());
        assertFalse(((JsonNumber) JsonParser.parse("1E2")).isInteger());
    }

    @Test
    void readsUtf8Bytes() {
        byte[] body = "{\"tag\":\"d\u00e9j\u00e0\"}".getBytes(StandardCharsets.UTF_8);
        JsonValue v = JsonParser.parse(body);

        assertEquals(new JsonString("d\u00e9j\u00e0"), ((JsonObject) v).get("tag"));
    }

    @Test
    void rejectsMalformedUtf8() {
        byte[] body = {'"', (byte) 0xc3, '"'};

        assertEquals("Invalid JSON: the body is not valid UTF-8",
                assertThrows(JsonException.class, () -> JsonParser.parse(body)).getMessage());
    }

    @Test
    void reportsLineAndColumnOfSyntaxErrors() {
        assertEquals("Invalid JSON at line 2 column 3: expected ',' or '}'",
                error("{\"a\": 1\n  \"b\": 2 \"c\"}"));
        assertEquals(
                "Invalid JSON at line 1 column 1: expected a value, found the end of the input",
                error(""));
        assertEquals("Invalid JSON at line 1 column 4: trailing characters after the value",
                error("{} x"));
    }

    /** The bug: a lone surrogate escape was taken, though serde_json refuses it. */
    @Test
    void rejectsLoneSurrogates() {
        assertEquals("Invalid JSON at line 1 column 2: lone leading surrogate in hex escape",
                error("\"\\ud800\""));
        assertEquals("Invalid JSON at line 1 column 3: lone leading surrogate in hex escape",
                error("\"a\\uD800\\u0041\""));
        assertEquals("Invalid JSON at line 1 column 2: lone leading surrogate in hex escape",
                error("\"\\ud800\\n\""));
        assertEquals("Invalid JSON at line 1 column 2: lone leading surrogate in hex escape",
                error("\"\\ud800\\ud800\""));
        assertEquals("Invalid JSON at line 1 column 2: lone trailing surrogate in hex escape",
                error("\"\\udc00\""));
        assertEquals("Invalid JSON at line 1 column 2: lone surrogate U+D800 in a string",
                error("\"\ud800\""));
        assertEquals("Invalid JSON at line 1 column 4: lone surrogate U+DC00 in a string",
                error("\"\ud83d\udc00\udc00\""));
        // A pair, escaped or not, is one code point.
        assertEquals("\ud83d\ude00", ((JsonString) JsonParser.parse("\"\\ud83d\\ude00\"")).value());
        assertEquals("\ud83d\ude00", ((JsonString) JsonParser.parse("\"\ud83d\ude00\"")).value());
    }

    @Test
    void rejectsWhatRfc8259Forbids() {
        assertEquals("Invalid JSON at line 1 column 8: expected a string key", error("{\"a\":1,}"));
        assertEquals("Invalid JSON at line 1 column 4: expected a value, found ']'", error("[1,]"));
        assertEquals("Invalid JSON at line 1 column 2: leading zeros are not allowed in numbers",
                error("01"));
        assertEquals("Invalid JSON at line 1 column 3: expected a digit after the decimal point",
                error("1."));
        assertEquals("Invalid JSON at line 1 column 2: expected a digit", error("-x"));
        assertEquals("Invalid JSON at line 1 column 1: expected a value, found '''", error("'a'"));
        assertEquals("Invalid JSON at line 1 column 3: control character U+000A in a string must "
                + "be escaped", error("\"a\nb\""));
        assertEquals("Invalid JSON at line 1 column 3: invalid escape \\x", error("\"\\x\""));
        assertEquals("Invalid JSON at line 1 column 5: invalid hex digit in \\u escape",
                error("\"\\u0g00\""));
        assertEquals("Invalid JSON at line 1 column 4: unterminated string", error("\"ab"));
        assertEquals("Invalid JSON at line 1 column 1: expected a value, found 't'", error("tru"));
        assertEquals("Invalid JSON at line 1 column 1: expected a value, found U+0001",
                error("\u0001"));
    }

    @Test
    void rejectsDuplicateKeysAtTheSecondKey() {
        assertEquals("Invalid JSON at line 1 column 9: duplicate key \"a\"",
                error("{\"a\":1, \"a\":2}"));
    }

    @Test
    void limitsNestingDepth() {
        String ok = "[".repeat(JsonParser.MAX_DEPTH) + "]".repeat(JsonParser.MAX_DEPTH);
        int deeper = JsonParser.MAX_DEPTH + 1;
        String tooDeep = "[".repeat(deeper) + "]".repeat(deeper);

        assertInstanceOf(JsonArray.class, JsonParser.parse(ok));
        assertEquals("Invalid JSON at line 1 column 129: nesting deeper than 128 levels",
                error(tooDeep));
    }
}
