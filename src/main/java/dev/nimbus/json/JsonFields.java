package dev.nimbus.json;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Typed access to the members of one JSON object, for turning request bodies into records.
 *
 * <p>It knows where the object sits in the document ({@code disks[0]}), so that every error
 * names the member at fault: {@code Missing field cpus.boot_vcpus}, {@code Invalid type at
 * disks[0].readonly: expected a boolean, found string "yes"}. Members that no getter asks for
 * are ignored, as an API server must do for fields added by newer clients. A member whose value
 * is {@code null} counts as absent: optional fields take their default, required ones are
 * reported missing.
 */
public final class JsonFields {
    private final JsonObject object;
    private final String path;

    private JsonFields(JsonObject object, String path) {
        this.object = object;
        this.path = path;
    }

    /** The fields of {@code value}, which must be an object found at {@code path}. */
    public static JsonFields of(JsonValue value, String path) {
        if (value instanceof JsonObject o) {
            return new JsonFields(o, path);
        }
        throw typeError(path, "an object", value);
    }

    /** Where this object sits in the document; empty for the top level. */
    public String path() {
        return path;
    }

    /** The path of member {@code key}. */
    public String pathOf(String key) {
        // A StringBuilder rather than '+': string concatenation bootstraps on first use, and
        // this runs for every object of the first request.
        return path.isEmpty() ? key : new StringBuilder(path).append('.').append(key).toString();
    }

    private String pathOf(String key, int index) {
        return new StringBuilder(pathOf(key)).append('[').append(index).append(']').toString();
    }

    /** Whether member {@code key} is present with a value other than {@code null}. */
    public boolean has(String key) {
        JsonValue v = object.get(key);
        return v != null && v != JsonNull.INSTANCE;
    }

    /** The raw value of member {@code key}, or null when it is absent or {@code null}. */
    public JsonValue get(String key) {
        JsonValue v = object.get(key);
        return v == JsonNull.INSTANCE ? null : v;
    }

    /** The required string member {@code key}. */
    public String string(String key) {
        return asString(required(key), pathOf(key));
    }

    /** The string member {@code key}, or null when it is absent. */
    public String optString(String key) {
        JsonValue v = get(key);
        return v == null ? null : asString(v, pathOf(key));
    }

    /** The boolean member {@code key}, or {@code otherwise} when it is absent. */
    public boolean bool(String key, boolean otherwise) {
        JsonValue v = get(key);
        if (v == null) {
            return otherwise;
        }
        if (v instanceof JsonBoolean b) {
            return b.value();
        }
        throw typeError(pathOf(key), "a boolean", v);
    }

    /**
     * The required unsigned integer member {@code key} of API type {@code type}; values above
     * what Nimbus keeps for that type ({@link UnsignedType#max()}) are refused.
     */
    public long unsigned(String key, UnsignedType type) {
        return asUnsigned(required(key), pathOf(key), type);
    }

    /** The unsigned integer member {@code key}, or {@code otherwise} when it is absent. */
    public long unsigned(String key, UnsignedType type, long otherwise) {
        JsonValue v = get(key);
        return v == null ? otherwise : asUnsigned(v, pathOf(key), type);
    }

    /** The unsigned integer member {@code key}, or null when it is absent. */
    public Long optUnsigned(String key, UnsignedType type) {
        JsonValue v = get(key);
        return v == null ? null : asUnsigned(v, pathOf(key), type);
    }

    /** The required object member {@code key}. */
    public JsonFields object(String key) {
        return of(required(key), pathOf(key));
    }

    /** The object member {@code key}, or null when it is absent. */
    public JsonFields optObject(String key) {
        JsonValue v = get(key);
        return v == null ? null : of(v, pathOf(key));
    }

    /** The objects of array member {@code key}; empty when the member is absent. */
    public List<JsonFields> objects(String key) {
        List<JsonValue> elements = optArray(key);
        List<JsonFields> out = new ArrayList<>(elements.size());
        for (int i = 0; i < elements.size(); i++) {
            out.add(of(elements.get(i), pathOf(key, i)));
        }
        return out;
    }

    /** The objects of the required array member {@code key}. */
    public List<JsonFields> requiredObjects(String key) {
        required(key);
        return objects(key);
    }

    /** The unsigned integers of array member {@code key}; empty when it is absent. */
    public List<Long> unsignedList(String key, UnsignedType type) {
        List<JsonValue> elements = optArray(key);
        List<Long> out = new ArrayList<>(elements.size());
        for (int i = 0; i < elements.size(); i++) {
            out.add(asUnsigned(elements.get(i), pathOf(key, i), type));
        }
        return out;
    }

    /** The unsigned integers of the required array member {@code key}. */
    public List<Long> requiredUnsignedList(String key, UnsignedType type) {
        required(key);
        return unsignedList(key, type);
    }

    /** The signed 32-bit integers of array member {@code key}; empty when it is absent. */
    public List<Integer> intList(String key) {
        List<JsonValue> elements = optArray(key);
        List<Integer> out = new ArrayList<>(elements.size());
        for (int i = 0; i < elements.size(); i++) {
            out.add(asInt(elements.get(i), pathOf(key, i)));
        }
        return out;
    }

    /** The strings of array member {@code key}; empty when it is absent. */
    public List<String> stringList(String key) {
        List<JsonValue> elements = optArray(key);
        List<String> out = new ArrayList<>(elements.size());
        for (int i = 0; i < elements.size(); i++) {
            out.add(asString(elements.get(i), pathOf(key, i)));
        }
        return out;
    }

    /**
     * The string member {@code key}, which must be one of {@code variants} (an API enum such as
     * {@code "Acpi"}); {@code otherwise} when it is absent, and an error naming the allowed
     * values when it is not one of them.
     */
    public String variant(String key, List<String> variants, String otherwise) {
        JsonValue v = get(key);
        if (v == null) {
            if (otherwise == null) {
                throw missing(pathOf(key));
            }
            return otherwise;
        }
        String s = asString(v, pathOf(key));
        if (!variants.contains(s)) {
            throw new JsonException("Invalid value at " + pathOf(key) + ": unknown variant \""
                    + s + "\", expected one of " + String.join(", ", variants));
        }
        return s;
    }

    /** Rejects every member not named in {@code known}, for objects that allow no extras. */
    public void rejectUnknown(String... known) {
        List<String> allowed = Arrays.asList(known);
        for (Map.Entry<String, JsonValue> member : object.members().entrySet()) {
            if (!allowed.contains(member.getKey())) {
                throw new JsonException("Invalid value at " + path + ": unknown field \""
                        + member.getKey() + "\", expected one of " + String.join(", ", known));
            }
        }
    }

    private JsonValue required(String key) {
        JsonValue v = get(key);
        if (v == null) {
            throw missing(pathOf(key));
        }
        return v;
    }

    private List<JsonValue> optArray(String key) {
        JsonValue v = get(key);
        if (v == null) {
            return List.of();
        }
        if (v instanceof JsonArray a) {
            return a.elements();
        }
        throw typeError(pathOf(key), "an array", v);
    }

    private static String asString(JsonValue v, String where) {
        if (v instanceof JsonString s) {
            return s.value();
        }
        throw typeError(where, "a string", v);
    }

    private static long asUnsigned(JsonValue v, String where, UnsignedType type) {
        if (!(v instanceof JsonNumber n) || !n.isInteger()) {
            throw typeError(where, type.rustName(), v);
        }
        BigInteger value = n.bigIntegerValue();
        if (value.signum() < 0 || value.compareTo(type.rustMax()) > 0) {
            throw new JsonException("Invalid value at " + where + ": " + value
                    + " is out of range for " + type.rustName());
        }
        if (value.compareTo(BigInteger.valueOf(type.max())) > 0) {
            throw new JsonException("Invalid value at " + where + ": " + value
                    + " is larger than Nimbus supports (at most " + type.max() + ")");
        }
        return value.longValue();
    }

    private static int asInt(JsonValue v, String where) {
        if (v instanceof JsonNumber n && n.isInteger()) {
            BigInteger value = n.bigIntegerValue();
            if (value.bitLength() < 32) {
                return value.intValue();
            }
            throw new JsonException("Invalid value at " + where + ": " + value
                    + " is out of range for i32");
        }
        throw typeError(where, "i32", v);
    }

    private static JsonException missing(String where) {
        return new JsonException("Missing field " + where);
    }

    private static JsonException typeError(String where, String expected, JsonValue found) {
        String at = where.isEmpty() ? "" : " at " + where;
        return new JsonException(
                "Invalid type" + at + ": expected " + expected + ", found " + found.describe());
    }
}
