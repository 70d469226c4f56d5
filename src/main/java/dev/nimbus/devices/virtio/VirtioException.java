package dev.nimbus.devices.virtio;

/**
 * A device cannot be activated with what the driver set up (a queue it needs is missing, a
 * feature combination it cannot serve) or cannot start its threads. The transport sets
 * DEVICE_NEEDS_RESET.
 */
public final class VirtioException extends Exception {
    private static final long serialVersionUID = 1L;

    public VirtioException(String message) {
        super(message);
    }

    public VirtioException(String message, Throwable cause) {
        super(message, cause);
    }
}
