package dev.nimbus.json;

/**
 * A JSON value (RFC 8259) held as a small immutable tree. The API server and the configuration
 * code read request bodies into this tree and write responses from it.
 */
public sealed interface JsonValue
        permits JsonObject, JsonArray, JsonString, JsonNumber, JsonBoolean, JsonNull {

    /** The value's JSON type with a short rendering, for error messages: {@code string "abc"}. */
    String describe();
}
