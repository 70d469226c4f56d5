package dev.nimbus.bench;

import dev.nimbus.devices.virtio.VirtioInterrupt;
import java.util.concurrent.atomic.AtomicLong;

/** Counts what a device would raise; the benchmark driver polls the used rings instead. */
final class BenchInterrupt implements VirtioInterrupt {
    final AtomicLong queueSignals = new AtomicLong();
    volatile String resetReason;

    @Override
    public void signalQueue(int queueIndex) {
        queueSignals.incrementAndGet();
    }

    @Override
    public void signalConfigChange() {}

    @Override
    public void needsReset(String reason) {
        resetReason = reason;
    }
}
