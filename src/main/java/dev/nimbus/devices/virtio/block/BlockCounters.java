package dev.nimbus.devices.virtio.block;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The statistics {@code vm.counters} reports for a disk, under Cloud Hypervisor's names:
 * {@code read_bytes}, {@code write_bytes}, {@code read_ops}, {@code write_ops} and the request
 * latencies in microseconds, {@code read_latency_min/max/avg} and {@code write_latency_...}.
 * Counters are unsigned 64-bit values; a latency that was never measured reads as the largest
 * one (all bits set), as the API has always shown it.
 *
 * <p>Every queue's thread updates the same counters; the API thread reads them at any time.
 */
public final class BlockCounters {
    /** The average is kept multiplied by this, so that integer division keeps precision. */
    static final long LATENCY_SCALE = 10_000;
    static final long UNSET = -1L; // u64::MAX

    private final AtomicLong readBytes = new AtomicLong();
    private final AtomicLong readOps = new AtomicLong();
    private final AtomicLong writeBytes = new AtomicLong();
    private final AtomicLong writeOps = new AtomicLong();
    private final Latency read = new Latency();
    private final Latency write = new Latency();

    /** Counts a completed read of {@code bytes} that took {@code micros}. */
    void read(long bytes, long micros) {
        readBytes.addAndGet(bytes);
        long ops = readOps.incrementAndGet();
        read.record(micros, ops);
    }

    /** Counts a completed write of {@code bytes} that took {@code micros}. */
    void write(long bytes, long micros) {
        writeBytes.addAndGet(bytes);
        long ops = writeOps.incrementAndGet();
        write.record(micros, ops);
    }

    public long readBytes() {
        return readBytes.get();
    }

    public long readOps() {
        return readOps.get();
    }

    public long writeBytes() {
        return writeBytes.get();
    }

    public long writeOps() {
        return writeOps.get();
    }

    /** Every counter by its API name; values are unsigned. */
    public Map<String, Long> snapshot() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("read_bytes", readBytes.get());
        m.put("write_bytes", writeBytes.get());
        m.put("read_ops", readOps.get());
        m.put("write_ops", writeOps.get());
        m.put("write_latency_min", write.min.get());
        m.put("write_latency_max", write.max.get());
        m.put("write_latency_avg", write.average());
        m.put("read_latency_min", read.min.get());
        m.put("read_latency_max", read.max.get());
        m.put("read_latency_avg", read.average());
        return m;
    }

    /** Minimum, maximum and running average of one kind of request, in microseconds. */
    private static final class Latency {
        final AtomicLong min = new AtomicLong(UNSET);
        final AtomicLong max = new AtomicLong(UNSET);
        final AtomicLong scaledAverage = new AtomicLong(UNSET);

        void record(long micros, long ops) {
            min.accumulateAndGet(micros, (old, v) -> Long.compareUnsigned(v, old) < 0 ? v : old);
            max.accumulateAndGet(micros, (old, v) -> old == UNSET || v > old ? v : old);
            long scaled = micros * LATENCY_SCALE;
            // Cumulative moving average: avg += (x - avg) / n.
            scaledAverage.accumulateAndGet(scaled,
                    (old, v) -> old == UNSET ? v : old + (v - old) / Math.max(ops, 1));
        }

        long average() {
            // Unset stays all ones, and so reads u64::MAX / LATENCY_SCALE: the reference
            // server divides the same way and clients see 1844674407370955 there too.
            long a = scaledAverage.get();
            return Long.divideUnsigned(a, LATENCY_SCALE);
        }
    }
}
