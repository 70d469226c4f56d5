package dev.nimbus.devices.virtio;

/**
 * A virtio device engine: what the device does with the requests in its queues, apart from any
 * transport. The PCI transport ({@link VirtioPciDevice}) drives it for a guest; a vhost-user
 * backend can drive the same engine over memory and eventfds another process shares with it.
 *
 * <p>Life cycle, as the driver steers it (virtio 1.2, 3.1.1):
 * <ol>
 * <li>The transport offers {@link #deviceFeatures()}, reports {@link #queueMaxSizes()} and
 *     forwards reads and writes of the device-specific configuration ({@link #readConfig},
 *     {@link #writeConfig}) at any time, also before activation.
 * <li>When the driver sets DRIVER_OK, the transport builds a {@link Virtqueue} for each queue
 *     the driver enabled and calls {@link #activate} once. The device starts its own thread(s)
 *     there; from then on it processes requests when a queue's {@link VirtioQueue#notifier()}
 *     fires (or its own event sources do), returns them with {@link Virtqueue#addUsed} and
 *     notifies the driver through {@link VirtioActivation#interrupt()}.
 * <li>When the driver writes status 0 (or the device is removed), the transport calls
 *     {@link #reset}: the device stops its threads, waits until they no longer touch guest memory,
 *     forgets its queues and goes back to the state before activation. It may be activated again.
 * </ol>
 *
 * <p>Threading: {@code activate} and {@code reset} come from a vCPU thread (the one writing the
 * status register), never both at once. Configuration accesses come from vCPU threads and may
 * race with the device's own threads, so a device guards its configuration. The device's threads
 * must not wait for a vCPU thread: {@code reset} is called from one and waits for them.
 *
 * <p>Errors: bad guest input never throws out of the device. A malformed request fails on its
 * own ({@link Virtqueue#pop()} already drops malformed chains); a ring that cannot be used any
 * more ({@link VirtqueueException}) or a device error the guest must recover from by a reset is
 * reported with {@link VirtioInterrupt#needsReset}.
 *
 * <p>{@link VirtioDeviceBase} implements the threading and activation bookkeeping; most devices
 * extend it and only write the request engine.
 */
public interface VirtioDevice extends AutoCloseable {
    /**
     * The device's id as Cloud Hypervisor names it: {@code __rng}, {@code __console},
     * {@code _disk0}, {@code _net1}, or the user's {@code id=}.
     */
    String id();

    /** The virtio device type, e.g. {@link Virtio#VIRTIO_ID_RNG}. */
    int deviceType();

    /**
     * The feature bits the device offers, including VIRTIO_F_VERSION_1 and the ring features it
     * supports ({@link Virtio#RING_FEATURES}).
     */
    long deviceFeatures();

    /** The largest size of each queue; the array's length is the number of queues. */
    int[] queueMaxSizes();

    /** Bytes of device-specific configuration space (0 if the device type has none). */
    int configSize();

    /**
     * Reads {@code size} (1, 2, 4 or 8) bytes of device-specific configuration at {@code offset},
     * little-endian. The transport checks that the access lies inside {@link #configSize()}.
     */
    long readConfig(int offset, int size);

    /** Writes device-specific configuration; fields the driver may not write are ignored. */
    void writeConfig(int offset, int size, long value);

    /**
     * Starts the device with the driver's queues; returns once its threads run.
     *
     * @throws VirtioException if the device cannot work with this setup; the transport then
     *     sets DEVICE_NEEDS_RESET
     */
    void activate(VirtioActivation activation) throws VirtioException;

    /**
     * Stops the device and returns once its threads are gone and it no longer touches guest
     * memory or interrupts. Harmless when not active.
     */
    void reset();

    /** Releases everything the device holds (files, eventfds); it is not used again. */
    @Override
    default void close() {
        reset();
    }
}
