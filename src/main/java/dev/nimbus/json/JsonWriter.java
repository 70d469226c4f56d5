package dev.nimbus.json;

import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;

/**
 * Writes a {@link JsonValue} tree as JSON text: compact, as API responses are sent, or pretty
 * with two-space indentation, as the event monitor records events.
 *
 * <p>Only {@code "}, {@code \} and control characters are escaped (RFC 8259 section 7); every
 * other character, non-ASCII included, is written as it is.
 */
public final class JsonWriter {
    private final StringBuilder out = new StringBuilder(256);
    private final boolean pretty;

    private JsonWriter(boolean pretty) {
        this.pretty = pretty;
    }

    /** {@code value} as compact JSON text. */
    public static String write(JsonValue value) {
        JsonWriter writer = new JsonWriter(false);
        writer.value(value, 0);
        return writer.out.toString();
    }

    /** {@code value} as compact JSON text in UTF-8. */
    public static byte[] writeUtf8(JsonValue value) {
        return write(value).getBytes(StandardCharsets.UTF_8);
    }

    /** {@code value} as JSON text indented by two spaces per level. */
    public static String writePretty(JsonValue value) {
        JsonWriter writer = new JsonWriter(true);
        writer.value(value, 0);
        return writer.out.toString();
    }

    // An instanceof chain rather than a pattern switch: the switch's bootstrap method costs
    // milliseconds on first use, and this runs on the API's first request during boot.
    private void value(JsonValue value, int level) {
        if (value instanceof JsonObject o) {
            object(o, level);
        } else if (value instanceof JsonArray a) {
            array(a, level);
        } else if (value instanceof JsonString s) {
            string(s.value());
        } else if (value instanceof JsonNumber n) {
            out.append(n.text());
        } else if (value instanceof JsonBoolean b) {
            out.append(b.value());
        } else {
            out.append("null");
        }
    }

    private void object(JsonObject object, int level) {
        if (object.members().isEmpty()) {
            out.append("{}");
            return;
        }
        out.append('{');
        Iterator<Map.Entry<String, JsonValue>> it = object.members().entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<String, JsonValue> member = it.next();
            newline(level + 1);
            string(member.getKey());
            out.append(pretty ? ": " : ":");
            value(member.getValue(), level + 1);
            if (it.hasNext()) {
                out.append(',');
            }
        }
        newline(level);
        out.append('}');
    }

    private void array(JsonArray array, int level) {
        if (array.elements().isEmpty()) {
            out.append("[]");
            return;
        }
        out.append('[');
        for (int i = 0; i < array.elements().size(); i++) {
            if (i > 0) {
                out.append(',');
            }
            newline(level + 1);
            value(array.elements().get(i), level + 1);
        }
        newline(level);
        out.append(']');
    }

    private void newline(int level) {
        if (pretty) {
            out.append('\n');
            out.repeat("  ", level);
        }
    }

    private void string(String s) {
        out.append('"');
        int runStart = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\' || c < 0x20) {
                out.append(s, runStart, i);
                escape(c);
                runStart = i + 1;
            }
        }
        out.append(s, runStart, s.length());
        out.append('"');
    }

    private void escape(char c) {
        switch (c) {
            case '"' -> out.append("\\\"");
            case '\\' -> out.append("\\\\");
            case '\b' -> out.append("\\b");
            case '\f' -> out.append("\\f");
            case '\n' -> out.append("\\n");
            case '\r' -> out.append("\\r");
            case '\t' -> out.append("\\t");
            default -> out.append(String.format("\\u%04x", (int) c));
        }
    }
}
