package dev.nimbus.vmm.config;

import dev.nimbus.json.JsonArray;
import dev.nimbus.json.JsonNumber;
import dev.nimbus.json.JsonValue;
import java.util.ArrayList;
import java.util.List;

/** Conversions for the lists of small integers (CPU numbers, segments, descriptors) in records. */
final class IntLists {
    private IntLists() {}

    /** {@code values}, each already known to fit an {@code int}. */
    static List<Integer> toInts(List<Long> values) {
        List<Integer> out = new ArrayList<>(values.size());
        for (long v : values) {
            out.add(Math.toIntExact(v));
        }
        return out;
    }

    /** {@code values} as a JSON array of numbers. */
    static JsonArray toJson(List<Integer> values) {
        List<JsonValue> out = new ArrayList<>(values.size());
        for (int v : values) {
            out.add(JsonNumber.of(v));
        }
        return new JsonArray(out);
    }
}
