package dev.nimbus.vmm;

import java.util.List;

/**
 * A request to the VMM that could not be carried out, as a chain of messages from the VMM's
 * context down to the root cause, e.g. {@code ["VM is not running"]} or
 * {@code ["Failed to validate config", "Max CPUs (1) lower than boot CPUs (2)"]}. The API
 * prepends its own context and answers with the whole chain.
 */
public final class VmRequestException extends Exception {
    private static final long serialVersionUID = 1L;

    /** What kind of failure it is; the API picks its status code from this. */
    public enum Kind {
        /** There is no VM, no configuration, or no device with the given id. */
        NOT_FOUND,
        /** The configuration would break a rule. */
        INVALID_CONFIG,
        /** The configuration would use an identifier or path twice. */
        CONFLICT,
        /** The VM exists but is not in a state that allows the request (not booted, not paused). */
        NOT_ALLOWED,
        /** Anything else: the wrong state, a failed boot, something not supported. */
        FAILED
    }

    // The VMM's own messages, worded as operators and tools already know them.
    public static final String VM_NOT_CREATED = "VM is not created";
    public static final String VM_MISSING_CONFIG = "VM config is missing";
    public static final String VM_ALREADY_CREATED = "VM is already created";
    public static final String VM_NOT_RUNNING = "VM is not running";
    public static final String CONFIG_VALIDATION = "Failed to validate config";

    private final Kind kind;
    private final transient List<String> chain;

    public VmRequestException(Kind kind, List<String> chain) {
        super(String.join(": ", chain));
        this.kind = kind;
        this.chain = List.copyOf(chain);
    }

    public VmRequestException(Kind kind, String... chain) {
        this(kind, List.of(chain));
    }

    public Kind kind() {
        return kind;
    }

    /** The messages from the VMM's context to the root cause. */
    public List<String> chain() {
        return chain;
    }
}
