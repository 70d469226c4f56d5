package dev.nimbus.devices.virtio;

/**
 * A virtqueue the driver set up or drove so badly that the device cannot go on using it (a ring
 * outside guest memory, a size that is not a power of two, an available index that ran ahead of
 * the ring). The device then sets DEVICE_NEEDS_RESET (2.1.2); the VMM itself is unharmed.
 */
public final class VirtqueueException extends Exception {
    private static final long serialVersionUID = 1L;

    public VirtqueueException(String message) {
        super(message);
    }
}
