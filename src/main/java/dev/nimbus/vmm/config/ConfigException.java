package dev.nimbus.vmm.config;

import java.util.List;

/**
 * A configuration that cannot be used: an option string that does not parse, a request body that
 * does not map onto the configuration, or a configuration that breaks a validation rule.
 *
 * <p>The error is a chain of messages from the outermost context to the root cause, the way Cloud
 * Hypervisor reports errors (its API answers with this chain as a JSON array of strings); the
 * exception's message is the chain joined by {@code ": "} on one line, e.g. {@code Error parsing
 * --disk: Unknown option: foo}. {@link #httpStatus()} is the status the API server answers with:
 * 409 when an identifier or device path is already in use, 400 for everything else.
 */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** HTTP 400 Bad Request. */
    public static final int BAD_REQUEST = 400;
    /** HTTP 409 Conflict. */
    public static final int CONFLICT = 409;

    /** What stage found the error. */
    public enum Kind {
        /** A command-line option string ({@code key=value,...}) that does not parse. */
        OPTION,
        /** A JSON request body that is malformed or does not map onto the configuration. */
        JSON,
        /** A well-formed configuration that breaks a rule, found by {@link Validator}. */
        VALIDATION
    }

    private final Kind kind;
    private final int httpStatus;
    private final List<String> chain;

    private ConfigException(Kind kind, int httpStatus, List<String> chain) {
        super(String.join(": ", chain));
        this.kind = kind;
        this.httpStatus = httpStatus;
        this.chain = List.copyOf(chain);
    }

    /** An option string error: {@code context} names the option, {@code detail} the problem. */
    static ConfigException option(String context, String detail) {
        return new ConfigException(Kind.OPTION, BAD_REQUEST, List.of(context, detail));
    }

    /** An option string error given as one message. */
    static ConfigException option(String message) {
        return new ConfigException(Kind.OPTION, BAD_REQUEST, List.of(message));
    }

    /** What the API answers first when a request body does not map onto its type. */
    public static final String JSON_CONTEXT = "Failed to deserialize JSON";

    /** A request body that does not map onto the configuration. */
    static ConfigException json(String detail) {
        return new ConfigException(Kind.JSON, BAD_REQUEST, List.of(JSON_CONTEXT, detail));
    }

    /** A broken validation rule (HTTP 400); {@code chain} runs from context to cause. */
    static ConfigException invalid(String... chain) {
        return new ConfigException(Kind.VALIDATION, BAD_REQUEST, List.of(chain));
    }

    /** An identifier or device path already in use (HTTP 409). */
    static ConfigException conflict(String message) {
        return new ConfigException(Kind.VALIDATION, CONFLICT, List.of(message));
    }

    public Kind kind() {
        return kind;
    }

    /** The HTTP status the API answers with: 400, or 409 for an identifier conflict. */
    public int httpStatus() {
        return httpStatus;
    }

    /** The messages from the outermost context to the root cause. */
    public List<String> chain() {
        return chain;
    }
}
