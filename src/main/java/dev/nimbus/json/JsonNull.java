package dev.nimbus.json;

/** The JSON literal {@code null}. */
public enum JsonNull implements JsonValue {
    INSTANCE;

    @Override
    public String describe() {
        return "null";
    }
}
