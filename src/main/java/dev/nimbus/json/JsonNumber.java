package dev.nimbus.json;

import java.math.BigInteger;
import java.util.Objects;

/**
 * A JSON number kept as its literal text, so that integers of any size survive a round trip and
 * a caller can tell {@code 1} from {@code 1.0}.
 */
public record JsonNumber(String text) implements JsonValue {

    public JsonNumber {
        Objects.requireNonNull(text, "text");
    }

    /** The number {@code value}. */
    public static JsonNumber of(long value) {
        return new JsonNumber(Long.toString(value));
    }

    /** Whether the literal is an integer: no fraction and no exponent (RFC 8259 section 6). */
    public boolean isInteger() {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '.' || c == 'e' || c == 'E') {
                return false;
            }
        }
        return true;
    }

    /** The integer value; only for {@link #isInteger()} literals. */
    public BigInteger bigIntegerValue() {
        if (!isInteger()) {
            throw new IllegalStateException("Not an integer literal: " + text);
        }
        return new BigInteger(text);
    }

    @Override
    public String describe() {
        return "number " + text;
    }
}
