package dev.nimbus.arch.x86_64;

/**
 * The kernel, initramfs or command line cannot be booted as given. The message is one line
 * that names the problem and the facts behind it, fit to show a user as it is.
 */
public final class BootException extends Exception {
    private static final long serialVersionUID = 1L;

    public BootException(String message) {
        super(message);
    }

    public BootException(String message, Throwable cause) {
        super(message, cause);
    }
}
