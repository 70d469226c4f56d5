package dev.nimbus.devices.virtio.net;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A network device's statistics. {@code vm.counters} reports Cloud Hypervisor's four:
 * {@code rx_bytes}, {@code rx_frames}, {@code tx_bytes}, {@code tx_frames} (bytes without the
 * virtio-net header). The drop counters are Nimbus's own, for logs and tests.
 */
public final class NetCounters {
    final AtomicLong rxBytes = new AtomicLong();
    final AtomicLong rxFrames = new AtomicLong();
    final AtomicLong txBytes = new AtomicLong();
    final AtomicLong txFrames = new AtomicLong();
    final AtomicLong rxDropped = new AtomicLong();
    final AtomicLong txDropped = new AtomicLong();
    final AtomicLong txStalls = new AtomicLong();

    public long rxBytes() {
        return rxBytes.get();
    }

    public long rxFrames() {
        return rxFrames.get();
    }

    public long txBytes() {
        return txBytes.get();
    }

    public long txFrames() {
        return txFrames.get();
    }

    /** Frames from the host that did not fit the guest's buffer, or failed to read. */
    public long rxDropped() {
        return rxDropped.get();
    }

    /** Frames from the guest that were malformed or that the host refused. */
    public long txDropped() {
        return txDropped.get();
    }

    /** Times a transmit had to wait because the backend could take no more (EAGAIN). */
    public long txStalls() {
        return txStalls.get();
    }

    /** The {@code vm.counters} values by name. */
    public Map<String, Long> snapshot() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("rx_bytes", rxBytes.get());
        m.put("rx_frames", rxFrames.get());
        m.put("tx_bytes", txBytes.get());
        m.put("tx_frames", txFrames.get());
        return m;
    }
}
