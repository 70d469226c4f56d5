package dev.nimbus.json;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * A strict reader of one JSON text (RFC 8259) into a {@link JsonValue} tree.
 *
 * <p>It accepts exactly the grammar of RFC 8259: no comments, no trailing commas, no leading
 * zeros, no unescaped control characters in strings. A key that appears twice in one object is
 * rejected, because which of the two values a writer meant cannot be known. Nesting is limited
 * to {@value #MAX_DEPTH} levels so that a hostile body cannot exhaust the stack.
 */
public final class JsonParser {
    /** The deepest nesting of arrays and objects accepted. */
    public static final int MAX_DEPTH = 128;

    private final char[] text;
    private int pos;
    private int depth;

    private JsonParser(char[] text) {
        this.text = text;
    }

    /** Parses {@code utf8}, which must be valid UTF-8 (RFC 8259 section 8.1). */
    public static JsonValue parse(byte[] utf8) {
        String decoded;
        try {
            decoded = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(utf8))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new JsonException("Invalid JSON: the body is not valid UTF-8");
        }
        return parse(decoded);
    }

    /** Parses {@code text}, one JSON value with optional surrounding whitespace. */
    public static JsonValue parse(String text) {
        JsonParser parser = new JsonParser(text.toCharArray());
        parser.skipWhitespace();
        if (parser.pos == parser.text.length) {
            throw parser.error("expected a value, found the end of the input");
        }
        JsonValue value = parser.value();
        parser.skipWhitespace();
        if (parser.pos != parser.text.length) {
            throw parser.error("trailing characters after the value");
        }
        return value;
    }

    private JsonValue value() {
        if (pos >= text.length) {
            throw error("expected a value, found the end of the input");
        }
        char c = text[pos];
        return switch (c) {
            case '{' -> object();
            case '[' -> array();
            case '"' -> new JsonString(string());
            case 't' -> literal("true", JsonBoolean.TRUE);
            case 'f' -> literal("false", JsonBoolean.FALSE);
            case 'n' -> literal("null", JsonNull.INSTANCE);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) {
                    yield number();
                }
                throw error("expected a value, found " + shown(c));
            }
        };
    }

    private JsonObject object() {
        enter();
        pos++;
        LinkedHashMap<String, JsonValue> members = new LinkedHashMap<>();
        skipWhitespace();
        if (peek() == '}') {
            pos++;
            depth--;
            return new JsonObject(members);
        }
        while (true) {
            skipWhitespace();
            if (peek() != '"') {
                throw error("expected a string key");
            }
            int keyStart = pos;
            String key = string();
            skipWhitespace();
            expect(':');
            skipWhitespace();
            JsonValue value = value();
            if (members.putIfAbsent(key, value) != null) {
                pos = keyStart;
                throw error("duplicate key \"" + key + "\"");
            }
            skipWhitespace();
            char c = peek();
            pos++;
            if (c == '}') {
                depth--;
                return new JsonObject(members);
            }
            if (c != ',') {
                pos--;
                throw error("expected ',' or '}'");
            }
        }
    }

    private JsonArray array() {
        enter();
        pos++;
        List<JsonValue> elements = new ArrayList<>();
        skipWhitespace();
        if (peek() == ']') {
            pos++;
            depth--;
            return new JsonArray(elements);
        }
        while (true) {
            skipWhitespace();
            elements.add(value());
            skipWhitespace();
            char c = peek();
            pos++;
            if (c == ']') {
                depth--;
                return new JsonArray(elements);
            }
            if (c != ',') {
                pos--;
                throw error("expected ',' or ']'");
            }
        }
    }

    private void enter() {
        if (++depth > MAX_DEPTH) {
            throw error("nesting deeper than " + MAX_DEPTH + " levels");
        }
    }

    private String string() {
        pos++;
        StringBuilder out = null;
        int runStart = pos;
        while (true) {
            if (pos >= text.length) {
                throw error("unterminated string");
            }
            char c = text[pos];
            if (c == '"') {
                String s = out == null
                        ? new String(text, runStart, pos - runStart)
                        : out.append(text, runStart, pos - runStart).toString();
                pos++;
                return s;
            }
            if (c == '\\') {
                if (out == null) {
                    out = new StringBuilder();
                }
                out.append(text, runStart, pos - runStart);
                escape(out);
                runStart = pos;
            } else if (c < 0x20) {
                throw error("control character " + shown(c) + " in a string must be escaped");
            } else if (Character.isHighSurrogate(c) && pos + 1 < text.length
                    && Character.isLowSurrogate(text[pos + 1])) {
                pos += 2;
            } else if (Character.isSurrogate(c)) {
                // Only parse(String) can get here: decoded UTF-8 holds no lone surrogate.
                throw error(String.format("lone surrogate U+%04X in a string", (int) c));
            } else {
                pos++;
            }
        }
    }

    /** Decodes one escape sequence (RFC 8259 section 7) at {@code pos} into {@code out}. */
    private void escape(StringBuilder out) {
        pos++;
        if (pos >= text.length) {
            throw error("unterminated string");
        }
        char c = text[pos++];
        switch (c) {
            case '"', '\\', '/' -> out.append(c);
            case 'b' -> out.append('\b');
            case 'f' -> out.append('\f');
            case 'n' -> out.append('\n');
            case 'r' -> out.append('\r');
            case 't' -> out.append('\t');
            case 'u' -> unicodeEscape(out);
            default -> {
                pos--;
                throw error("invalid escape \\" + c);
            }
        }
    }

    /**
     * A {@code \\u} escape at {@code pos}, its backslash two chars back. A surrogate must come
     * as a leading-trailing pair of escapes: a Java string could hold a lone one, but Rust's
     * (and the reference server's serde_json) cannot, so it refuses them.
     */
    private void unicodeEscape(StringBuilder out) {
        int escape = pos - 2;
        char c = hex4();
        if (Character.isLowSurrogate(c)) {
            pos = escape;
            throw error("lone trailing surrogate in hex escape");
        }
        if (!Character.isHighSurrogate(c)) {
            out.append(c);
            return;
        }
        if (pos + 1 >= text.length || text[pos] != '\\' || text[pos + 1] != 'u') {
            pos = escape;
            throw error("lone leading surrogate in hex escape");
        }
        pos += 2;
        char low = hex4();
        if (!Character.isLowSurrogate(low)) {
            pos = escape;
            throw error("lone leading surrogate in hex escape");
        }
        out.append(c).append(low);
    }

    private char hex4() {
        if (pos + 4 > text.length) {
            throw error("truncated \\u escape");
        }
        int value = 0;
        for (int i = 0; i < 4; i++) {
            int digit = Character.digit(text[pos], 16);
            if (digit < 0) {
                throw error("invalid hex digit in \\u escape");
            }
            value = value << 4 | digit;
            pos++;
        }
        return (char) value;
    }

    private JsonNumber number() {
        int start = pos;
        if (peek() == '-') {
            pos++;
        }
        if (peek() == '0') {
            pos++;
            if (isDigit(peek())) {
                throw error("leading zeros are not allowed in numbers");
            }
        } else if (isDigit(peek())) {
            digits();
        } else {
            throw error("expected a digit");
        }
        if (peek() == '.') {
            pos++;
            if (!isDigit(peek())) {
                throw error("expected a digit after the decimal point");
            }
            digits();
        }
        if (peek() == 'e' || peek() == 'E') {
            pos++;
            if (peek() == '+' || peek() == '-') {
                pos++;
            }
            if (!isDigit(peek())) {
                throw error("expected a digit in the exponent");
            }
            digits();
        }
        return new JsonNumber(new String(text, start, pos - start));
    }

    private void digits() {
        while (isDigit(peek())) {
            pos++;
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private JsonValue literal(String word, JsonValue value) {
        int end = pos + word.length();
        if (end > text.length || !word.contentEquals(new String(text, pos, word.length()))) {
            throw error("expected a value, found " + shown(text[pos]));
        }
        pos = end;
        return value;
    }

    private void expect(char c) {
        if (peek() != c) {
            throw error("expected '" + c + "'");
        }
        pos++;
    }

    /** The character at {@code pos}, or NUL at the end (never valid where it is looked for). */
    private char peek() {
        return pos < text.length ? text[pos] : '\0';
    }

    private void skipWhitespace() {
        while (pos < text.length) {
            char c = text[pos];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    private static String shown(char c) {
        return c < 0x20 || c == 0x7f ? String.format("U+%04X", (int) c) : "'" + c + "'";
    }

    private JsonException error(String what) {
        int line = 1;
        int column = 1;
        for (int i = 0; i < Math.min(pos, text.length); i++) {
            if (text[i] == '\n') {
                line++;
                column = 1;
            } else {
                column++;
            }
        }
        return new JsonException(
                "Invalid JSON at line " + line + " column " + column + ": " + what);
    }
}
