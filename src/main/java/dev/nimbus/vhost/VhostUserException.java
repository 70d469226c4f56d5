package dev.nimbus.vhost;

/**
 * The peer broke the vhost-user protocol (a bad header, a payload of the wrong size, a memory
 * table that cannot be mapped) or went away. The connection cannot go on; the back-end drops it
 * and serves the next one.
 */
public final class VhostUserException extends Exception {
    private static final long serialVersionUID = 1L;

    public VhostUserException(String message) {
        super(message);
    }

    public VhostUserException(String message, Throwable cause) {
        super(message, cause);
    }
}
