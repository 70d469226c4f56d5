package dev.nimbus.json;

import java.util.List;

/** A JSON array; its elements list is immutable. */
public record JsonArray(List<JsonValue> elements) implements JsonValue {

    public JsonArray {
        elements = List.copyOf(elements);
    }

    @Override
    public String describe() {
        return "an array";
    }
}
