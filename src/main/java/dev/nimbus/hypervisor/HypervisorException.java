package dev.nimbus.hypervisor;

/** A hypervisor operation failed; the message names the operation, the cause the system call. */
public final class HypervisorException extends Exception {
    private static final long serialVersionUID = 1L;

    public HypervisorException(String message) {
        super(message);
    }

    public HypervisorException(String message, Throwable cause) {
        super(message, cause);
    }
}
