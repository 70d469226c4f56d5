package dev.nimbus.devices.virtio;

/**
 * How a device engine reaches the driver: whatever drives the engine implements this. The PCI
 * transport maps each call to an MSI-X vector (an irqfd write, no VMM exit); a vhost-user backend
 * would write the queue's call eventfd.
 *
 * <p>Callable from any device thread, without locks held that a vCPU thread might need.
 */
public interface VirtioInterrupt {
    /**
     * Sends a used buffer notification for queue {@code queueIndex}. Call it only when
     * {@link Virtqueue#needsNotification()} says the driver wants one.
     */
    void signalQueue(int queueIndex);

    /** Tells the driver the device-specific configuration changed (2.5). */
    void signalConfigChange();

    /**
     * The device hit an error it cannot recover from without a reset: sets DEVICE_NEEDS_RESET
     * and notifies the driver (2.1.2). {@code reason} goes to the log.
     */
    void needsReset(String reason);

    /**
     * An eventfd that, when written, delivers queue {@code queueIndex}'s used buffer
     * notification without going through this process (the irqfd of the queue's MSI-X vector),
     * for an engine in another process (vhost-user); null when there is none, and the caller
     * then relays with {@link #signalQueue}. Valid until the device is reset; the caller does
     * not close it.
     */
    default dev.nimbus.sys.EventFd queueIrqfd(int queueIndex) {
        return null;
    }
}
