package dev.nimbus.devices.virtio;

import dev.nimbus.sys.SyscallException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;

/**
 * The common half of a device engine: identity, activation bookkeeping and the device threads.
 * A subclass writes the request engine ({@link #processQueue}) and, if it needs them, the hooks
 * for activation, reset, extra event sources and the split of queues across threads.
 *
 * <p>Threads: by default one {@link VirtioWorker} serves all queues and is named after the
 * device id ({@code __rng}); {@link #workerGroups} can give each queue (or queue pair) its own
 * thread, named {@code <id>_q<first queue>}. A queue's handler reads its notifier eventfd, then
 * calls {@link #processQueue}; it runs only on the worker's thread, so an engine needs no locks
 * for its queue state.
 *
 * <p>A typical engine, for a queue whose requests complete at once:
 * <pre>{@code
 * protected void processQueue(VirtioQueue q) throws VirtqueueException {
 *     Virtqueue vq = q.queue();
 *     do {
 *         for (DescriptorChain c; (c = vq.pop()) != null; ) {
 *             vq.addUsed(c.head(), handle(c));
 *         }
 *     } while (vq.enableNotification());
 *     signalUsed(q);
 * }
 * }</pre>
 */
public abstract class VirtioDeviceBase implements VirtioDevice {
    private static final Logger LOG = System.getLogger(VirtioDeviceBase.class.getName());

    private final String id;
    private final int type;
    private final long features;
    private final int[] queueMaxSizes;
    private volatile VirtioActivation activation;
    private final List<VirtioWorker> workers = new ArrayList<>();

    /**
     * @param id the device id ({@code __rng}, {@code _disk0})
     * @param type the virtio device type
     * @param features the feature bits offered, usually {@link Virtio#RING_FEATURES} plus the
     *     device's own
     * @param queueMaxSizes the largest size of each queue, each a power of two
     */
    protected VirtioDeviceBase(String id, int type, long features, int... queueMaxSizes) {
        for (int s : queueMaxSizes) {
            if (s <= 0 || s > Virtqueue.MAX_QUEUE_SIZE || Integer.bitCount(s) != 1) {
                throw new IllegalArgumentException("Invalid queue size=" + s + " for " + id);
            }
        }
        this.id = id;
        this.type = type;
        this.features = features | Virtio.bit(Virtio.VIRTIO_F_VERSION_1);
        this.queueMaxSizes = queueMaxSizes.clone();
    }

    @Override
    public final String id() {
        return id;
    }

    @Override
    public final int deviceType() {
        return type;
    }

    @Override
    public final long deviceFeatures() {
        return features;
    }

    @Override
    public final int[] queueMaxSizes() {
        return queueMaxSizes.clone();
    }

    /** The current activation, or null while the device is not active. */
    protected final VirtioActivation activation() {
        return activation;
    }

    @Override
    public final void activate(VirtioActivation a) throws VirtioException {
        synchronized (this) {
            if (activation != null) {
                throw new IllegalStateException("Device " + id + " is already active");
            }
            onActivate(a);
            activation = a;
            try {
                List<int[]> groups = workerGroups(queueMaxSizes.length);
                for (int g = 0; g < groups.size(); g++) {
                    int[] queues = groups.get(g);
                    String name = groups.size() == 1 ? id : id + "_q" + queues[0];
                    VirtioWorker worker = new VirtioWorker(name, a.interrupt()::needsReset);
                    for (int index : queues) {
                        VirtioQueue q = a.queue(index);
                        if (q != null) {
                            worker.add(new VirtioWorker.EventSource(q.notifier().fd(), () -> {
                                readNotifier(q);
                                processQueue(q);
                            }));
                        }
                    }
                    for (VirtioWorker.EventSource s : eventSources(g)) {
                        worker.add(s);
                    }
                    workers.add(worker);
                    worker.start();
                }
            } catch (SyscallException e) {
                activation = null;
                stopWorkers(new ArrayList<>(workers));
                workers.clear();
                onReset();
                throw new VirtioException("Cannot start the threads of " + id, e);
            }
        }
        LOG.log(Level.DEBUG, () -> id + ": activated with " + a.queues().size() + " queues");
    }

    private void readNotifier(VirtioQueue q) {
        try {
            q.notifier().read();
        } catch (SyscallException e) {
            throw new IllegalStateException("Cannot read the notifier of " + q.queue().name(), e);
        }
    }

    @Override
    public final void reset() {
        List<VirtioWorker> stopping;
        synchronized (this) {
            if (activation == null) {
                return;
            }
            stopping = new ArrayList<>(workers);
            workers.clear();
        }
        // Outside the lock: a device thread may be inside a hook that takes it. The activation
        // stays visible until the threads are gone, so they finish their work consistently.
        stopWorkers(stopping);
        synchronized (this) {
            activation = null;
            onReset();
        }
        LOG.log(Level.DEBUG, () -> id + ": reset");
    }

    private static void stopWorkers(List<VirtioWorker> list) {
        for (VirtioWorker w : list) {
            w.stop();
        }
    }

    /**
     * Serves queue {@code queue} after its notifier fired: pops chains, completes them and
     * notifies the driver. Runs on the queue's worker thread.
     *
     * @throws VirtqueueException if the ring is unusable; the device then needs a reset
     */
    protected abstract void processQueue(VirtioQueue queue) throws VirtqueueException;

    /**
     * Called first in {@link #activate}, with the device's lock held: check that the queues the
     * device needs are there and set up per-activation state. Default: nothing.
     */
    protected void onActivate(VirtioActivation activation) throws VirtioException {}

    /**
     * Called at the end of {@link #reset}, after the threads stopped, with the device's lock
     * held: drop per-activation state. Default: nothing.
     */
    protected void onReset() {}

    /**
     * How queues are spread over threads: one array of queue indices per thread. Default: a
     * single thread for all {@code queueCount} queues.
     */
    protected List<int[]> workerGroups(int queueCount) {
        int[] all = new int[queueCount];
        for (int i = 0; i < queueCount; i++) {
            all[i] = i;
        }
        return List.of(all);
    }

    /**
     * Other descriptors thread {@code group} waits on (an input eventfd, a tap), created in
     * {@link #onActivate}. Default: none.
     */
    protected List<VirtioWorker.EventSource> eventSources(int group) {
        return List.of();
    }

    /** Notifies the driver about {@code queue}'s used buffers if it wants to be (2.7.7). */
    protected final void signalUsed(VirtioQueue queue) {
        VirtioActivation a = activation;
        if (a != null && queue.queue().needsNotification()) {
            a.interrupt().signalQueue(queue.index());
        }
    }
}
