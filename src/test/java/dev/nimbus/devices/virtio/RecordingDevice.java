package dev.nimbus.devices.virtio;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@link VirtioDevice} without an engine that records what its transport does to it: each
 * activation (with its queues and features), resets, configuration writes. Its 8-byte
 * configuration space holds a value a test can change.
 */
final class RecordingDevice implements VirtioDevice {
    final List<VirtioActivation> activations = new ArrayList<>();
    final List<String> configWrites = new ArrayList<>();
    int resets;
    long config = 0x1122_3344_5566_7788L;
    boolean failActivation;
    private final int type;
    private final long features;
    private final int[] sizes;

    RecordingDevice(int type, long features, int... sizes) {
        this.type = type;
        this.features = features;
        this.sizes = sizes;
    }

    @Override
    public String id() {
        return "_test0";
    }

    @Override
    public int deviceType() {
        return type;
    }

    @Override
    public long deviceFeatures() {
        return features;
    }

    @Override
    public int[] queueMaxSizes() {
        return sizes.clone();
    }

    @Override
    public int configSize() {
        return 8;
    }

    @Override
    public synchronized long readConfig(int offset, int size) {
        long v = config >>> (8 * offset);
        return size == 8 ? v : v & ((1L << (8 * size)) - 1);
    }

    @Override
    public synchronized void writeConfig(int offset, int size, long value) {
        configWrites.add(offset + ":" + size + "=" + Long.toHexString(value));
    }

    @Override
    public synchronized void activate(VirtioActivation activation) throws VirtioException {
        if (failActivation) {
            throw new VirtioException("refused by test");
        }
        activations.add(activation);
    }

    @Override
    public synchronized void reset() {
        resets++;
    }
}
