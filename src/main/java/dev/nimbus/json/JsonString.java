package dev.nimbus.json;

import java.util.Objects;

/** A JSON string. */
public record JsonString(String value) implements JsonValue {
    private static final int DESCRIBE_LIMIT = 40;

    public JsonString {
        Objects.requireNonNull(value, "value");
    }

    @Override
    public String describe() {
        String shown = value.length() > DESCRIBE_LIMIT
                ? value.substring(0, DESCRIBE_LIMIT) + "..."
                : value;
        return "string \"" + shown + "\"";
    }
}
