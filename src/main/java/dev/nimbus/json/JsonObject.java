package dev.nimbus.json;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A JSON object; its members keep their order and cannot be changed. */
public record JsonObject(Map<String, JsonValue> members) implements JsonValue {

    public JsonObject {
        members = Collections.unmodifiableMap(new LinkedHashMap<>(members));
    }

    /** The member {@code key}, or null when the object has no such member. */
    public JsonValue get(String key) {
        return members.get(key);
    }

    /** A builder that keeps members in insertion order. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String describe() {
        return "an object";
    }

    /** Collects members in order; a key put twice keeps its first position and last value. */
    public static final class Builder {
        private final LinkedHashMap<String, JsonValue> members = new LinkedHashMap<>();

        private Builder() {}

        public Builder put(String key, JsonValue value) {
            members.put(key, value);
            return this;
        }

        public Builder put(String key, String value) {
            return put(key, new JsonString(value));
        }

        public Builder put(String key, long value) {
            return put(key, JsonNumber.of(value));
        }

        public Builder put(String key, boolean value) {
            return put(key, JsonBoolean.of(value));
        }

        /** Puts {@code value} unless it is null: how optional fields are left out. */
        public Builder putIfPresent(String key, JsonValue value) {
            return value == null ? this : put(key, value);
        }

        /** Puts {@code value} as a string unless it is null. */
        public Builder putIfPresent(String key, String value) {
            return value == null ? this : put(key, value);
        }

        /** Puts {@code value} as a number unless it is null. */
        public Builder putIfPresent(String key, Long value) {
            return value == null ? this : put(key, value.longValue());
        }

        /** Puts {@code value} as a number unless it is null. */
        public Builder putIfPresent(String key, Integer value) {
            return value == null ? this : put(key, value.longValue());
        }

        /** Puts the array {@code values} unless the list is empty. */
        public Builder putIfNotEmpty(String key, List<? extends JsonValue> values) {
            return values.isEmpty() ? this : put(key, new JsonArray(List.copyOf(values)));
        }

        public JsonObject build() {
            return new JsonObject(members);
        }
    }
}
