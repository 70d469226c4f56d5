package dev.nimbus.vmm;

/** The VMM could not do what was asked; the message is for the user, the cause for the log. */
public final class VmmException extends Exception {
    private static final long serialVersionUID = 1L;

    public VmmException(String message) {
        super(message);
    }

    public VmmException(String message, Throwable cause) {
        super(message, cause);
    }
}
