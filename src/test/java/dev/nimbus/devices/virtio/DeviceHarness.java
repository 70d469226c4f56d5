package dev.nimbus.devices.virtio;

import dev.nimbus.sys.EventFd;
import dev.nimbus.sys.SyscallException;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a device engine the way a transport would, without PCI: shared fake guest memory, one
 * {@link VirtqueueBuilder} (the driver's side) per queue, a notifier eventfd per queue and a
 * {@link RecordingInterrupt}. The device's own threads do the work, so tests wait for results
 * ({@link VirtqueueBuilder#awaitUsed}, {@link RecordingInterrupt#awaitQueueSignals}).
 */
public final class DeviceHarness implements AutoCloseable {
    public static final long TIMEOUT_MILLIS = 5000;
    private static final long RING_BASE = 0x10_0000;
    private static final long RING_SPAN = 0x8_0000;

    private final VirtioDevice device;
    private final TestGuestMemory ram;
    private final VirtqueueBuilder[] rings;
    private final EventFd[] notifiers;
    private final RecordingInterrupt interrupt = new RecordingInterrupt();

    /** Queues of {@code queueSize} entries (at most each queue's maximum). */
    public DeviceHarness(VirtioDevice device, int queueSize) throws SyscallException {
        this.device = device;
        int n = device.queueMaxSizes().length;
        this.ram = TestGuestMemory.shared(RING_BASE + n * RING_SPAN);
        this.rings = new VirtqueueBuilder[n];
        this.notifiers = new EventFd[n];
        for (int q = 0; q < n; q++) {
            rings[q] = new VirtqueueBuilder(ram.memory(), queueSize, RING_BASE + q * RING_SPAN,
                    RING_SPAN);
            notifiers[q] = EventFd.create();
        }
    }

    /** Activates the device with every queue and {@code features}. */
    public void activate(long features) throws VirtioException, VirtqueueException {
        List<VirtioQueue> queues = new ArrayList<>();
        for (int q = 0; q < rings.length; q++) {
            VirtqueueBuilder r = rings[q];
            queues.add(new VirtioQueue(q, Virtqueue.create(device.id() + " q" + q, ram.memory(),
                    r.size(), device.queueMaxSizes()[q], r.descGpa(), r.availGpa(), r.usedGpa(),
                    features), notifiers[q]));
        }
        device.activate(new VirtioActivation(ram.memory(), features, queues, interrupt));
    }

    /** Activates with everything the device offers. */
    public void activate() throws VirtioException, VirtqueueException {
        activate(device.deviceFeatures());
    }

    /** The driver's side of queue {@code q}. */
    public VirtqueueBuilder ring(int q) {
        return rings[q];
    }

    /** Notifies queue {@code q}, as a driver's write to the notify register does. */
    public void kick(int q) {
        notifiers[q].signal();
    }

    public RecordingInterrupt interrupt() {
        return interrupt;
    }

    public TestGuestMemory ram() {
        return ram;
    }

    @Override
    public void close() {
        device.close();
        for (EventFd e : notifiers) {
            e.close();
        }
        ram.close();
    }
}
