package dev.nimbus.bench;

import dev.nimbus.devices.virtio.VirtioQueue;
import dev.nimbus.devices.virtio.Virtqueue;
import dev.nimbus.devices.virtio.VirtqueueBuilder;
import dev.nimbus.devices.virtio.VirtqueueException;
import dev.nimbus.memory.GuestMemory;
import dev.nimbus.sys.EventFd;
import dev.nimbus.sys.SyscallException;
import java.lang.invoke.VarHandle;

/**
 * The driver's side of one queue in a benchmark: a {@link VirtqueueBuilder} plus the notify
 * eventfd, kicking only when the device asked for it (VIRTIO_F_EVENT_IDX, virtio 1.2 2.7.10),
 * as a Linux driver does.
 */
final class BenchQueue implements AutoCloseable {
    final VirtqueueBuilder ring;
    final EventFd notifier;
    final int index;
    private int published;
    private int kickedAt;
    long kicks;

    BenchQueue(GuestMemory memory, int index, int size, long base, long span)
            throws SyscallException {
        this.ring = new VirtqueueBuilder(memory, size, base, span);
        this.notifier = EventFd.create();
        this.index = index;
    }

    VirtioQueue deviceSide(String name, GuestMemory memory, long features)
            throws VirtqueueException {
        return new VirtioQueue(index, Virtqueue.create(name, memory, ring.size(), ring.size(),
                ring.descGpa(), ring.availGpa(), ring.usedGpa(), features), notifier);
    }

    /** Makes chain {@code head} available (not yet notified). */
    void publish(int head) {
        ring.publish(head);
        published = (published + 1) & 0xFFFF;
    }

    /** Notifies the device if it asked to hear about the buffers published since the last. */
    void kickIfNeeded() {
        // Our idx store must be visible before we read avail_event (2.7.10).
        VarHandle.fullFence();
        int event = ring.availEvent();
        int newIdx = published;
        int oldIdx = kickedAt;
        if (((newIdx - event - 1) & 0xFFFF) < ((newIdx - oldIdx) & 0xFFFF)) {
            notifier.signal();
            kicks++;
        }
        kickedAt = newIdx;
    }

    int published() {
        return published;
    }

    int usedIdx() {
        return ring.usedIdx();
    }

    @Override
    public void close() {
        notifier.close();
    }
}
