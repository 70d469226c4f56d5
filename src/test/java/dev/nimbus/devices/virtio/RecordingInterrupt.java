package dev.nimbus.devices.virtio;

import java.util.ArrayList;
import java.util.List;

/** A {@link VirtioInterrupt} that records every call, for tests to check and wait on. */
public final class RecordingInterrupt implements VirtioInterrupt {
    private final List<Integer> queueSignals = new ArrayList<>();
    private final List<String> resets = new ArrayList<>();
    private int configChanges;

    @Override
    public synchronized void signalQueue(int queueIndex) {
        queueSignals.add(queueIndex);
        notifyAll();
    }

    @Override
    public synchronized void signalConfigChange() {
        configChanges++;
        notifyAll();
    }

    @Override
    public synchronized void needsReset(String reason) {
        resets.add(reason);
        notifyAll();
    }

    /** Queue indices signalled, in order. */
    public synchronized List<Integer> queueSignals() {
        return new ArrayList<>(queueSignals);
    }

    public synchronized int configChanges() {
        return configChanges;
    }

    /** Reasons given to {@link #needsReset}, in order. */
    public synchronized List<String> resets() {
        return new ArrayList<>(resets);
    }

    /** Waits until {@code queue} was signalled {@code count} times; false on timeout. */
    public synchronized boolean awaitQueueSignals(int queue, int count, long timeoutMillis)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (queueSignals.stream().filter(q -> q == queue).count() < count) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return true;
    }

    /** Waits until a reset was requested; false on timeout. */
    public synchronized boolean awaitReset(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (resets.isEmpty()) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return true;
    }
}
