package dev.nimbus.json;

/**
 * A JSON text that is not well-formed, or a well-formed one whose values do not fit what the
 * reader expects. The message is one line that names the place: a line and column for syntax,
 * a member path such as {@code disks[0].queue_size} for values.
 */
public final class JsonException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public JsonException(String message) {
        super(message);
    }
}
