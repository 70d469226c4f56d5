package dev.nimbus.bench;

import dev.nimbus.devices.virtio.TestGuestMemory;
import dev.nimbus.devices.virtio.VirtioActivation;
import dev.nimbus.devices.virtio.Virtqueue;
import dev.nimbus.devices.virtio.block.VirtioBlock;
import dev.nimbus.memory.GuestMemory;
import dev.nimbus.vmm.config.DiskConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * Reads through the virtio-blk engine, fed by in-memory virtqueues, against the same reads done
 * by the host directly (FileChannel positional reads into the same memory), on an image in the
 * page cache. The engine's thread does the I/O; the benchmark thread plays the driver: it keeps
 * a fixed number of requests in flight, refilling each slot as it completes, kicks only when the
 * device asked for it (EVENT_IDX) and polls the used ring instead of taking interrupts.
 */
final class BlockEngineBench {
    static final int QUEUE_SIZE = 256;
    static final long MIB = 1 << 20;
    static final long RAM = 160 * MIB;
    static final long RING_BASE = MIB;
    static final long PARK_NANOS = 20_000;

    /** One kind of read. */
    record Scenario(String name, int length, int depth, int segments, boolean random) {}

    static final List<Scenario> SCENARIOS = List.of(
            new Scenario("4 KiB random reads, 64 in flight", 4096, 64, 1, true),
            new Scenario("1 MiB sequential reads, 8 in flight, 1 descriptor", 1 << 20, 8, 1,
                    false),
            // Within seg_max (queue size - 2), as a Linux driver builds it from pages.
            new Scenario("1 MiB sequential reads, 8 in flight, 128 x 8 KiB descriptors",
                    1 << 20, 8, 128, false));

    private final Path image;
    private final long imageBytes;
    private final int runs;
    private final double seconds;
    private final PrintStream out;

    BlockEngineBench(Path image, long imageBytes, int runs, double seconds, PrintStream out) {
        this.image = image;
        this.imageBytes = imageBytes;
        this.runs = runs;
        this.seconds = seconds;
        this.out = out;
    }

    void run() throws Exception {
        DiskConfig config = DiskConfig.parse("path=" + image + ",image_type=raw,id=_bench0"
                + ",queue_size=" + QUEUE_SIZE);
        out.println("| Block read | engine (median) | host direct (median) | engine / host |");
        out.println("|---|---|---|---|");
        try (VirtioBlock device = VirtioBlock.open(config);
                TestGuestMemory ram = TestGuestMemory.shared(RAM);
                FileChannel file = FileChannel.open(image, StandardOpenOption.READ)) {
            for (Scenario s : SCENARIOS) {
                double[] engine = new double[runs];
                double[] host = new double[runs];
                // One unreported round first: JIT compilation and the page cache settle.
                runEngine(device, ram.memory(), s, seconds / 2);
                runHost(file, ram.memory(), s, seconds / 2);
                for (int r = 0; r < runs; r++) {
                    engine[r] = runEngine(device, ram.memory(), s, seconds);
                    host[r] = runHost(file, ram.memory(), s, seconds);
                }
                report(s, engine, host);
            }
        }
    }

    private void report(Scenario s, double[] engine, double[] host) {
        double e = Stats.median(engine);
        double h = Stats.median(host);
        String unit = s.random ? " IOPS" : " MB/s";
        double scale = s.random ? 1 : s.length / 1e6;
        out.printf("| %s | %s%s | %s%s | %.2f |%n", s.name, Stats.fmt(e * scale), unit,
                Stats.fmt(h * scale), unit, e / h);
        out.flush();
    }

    /** Offset of request {@code n} of a run: random block-aligned, or sequential wrapping. */
    private static long offset(Scenario s, long n, SplittableRandom rnd, long imageBytes) {
        long blocks = imageBytes / s.length;
        return (s.random ? rnd.nextLong(blocks) : n % blocks) * s.length;
    }

    /** Requests per second through the engine. */
    private double runEngine(VirtioBlock device, GuestMemory mem, Scenario s, double secs)
            throws Exception {
        BenchInterrupt irq = new BenchInterrupt();
        try (BenchQueue q = new BenchQueue(mem, 0, QUEUE_SIZE, RING_BASE, RAM - RING_BASE)) {
            long features = device.deviceFeatures();
            device.activate(new VirtioActivation(mem, features,
                    List.of(q.deviceSide("_bench0 q0", mem, features)), irq));
            try {
                Slots slots = new Slots(q, mem, s);
                SplittableRandom rnd = new SplittableRandom(42);
                long issued = 0;
                for (int k = 0; k < s.depth; k++) {
                    slots.setSector(k, offset(s, issued++, rnd, imageBytes) >>> 9);
                    q.publish(slots.head(k));
                }
                q.kickIfNeeded();
                // Keep depth requests in flight, as a guest with that queue depth does: each
                // completed slot goes straight back with the next offset.
                long done = 0;
                int seen = 0;
                long start = System.nanoTime();
                long end = start + (long) (secs * 1e9);
                long now = start;
                while (now < end) {
                    int used = q.usedIdx();
                    if (used == seen) {
                        // A guest vCPU would halt until the interrupt; do not steal the CPU
                        // the device thread may share.
                        LockSupport.parkNanos(PARK_NANOS);
                        now = System.nanoTime();
                        continue;
                    }
                    while (seen != used) {
                        int k = slots.slotOf(q.ring.usedId(seen));
                        slots.checkStatus(k);
                        slots.setSector(k, offset(s, issued++, rnd, imageBytes) >>> 9);
                        q.publish(slots.head(k));
                        seen = (seen + 1) & 0xFFFF;
                        done++;
                    }
                    q.kickIfNeeded();
                    now = System.nanoTime();
                }
                while (q.usedIdx() != q.published()) {
                    LockSupport.parkNanos(PARK_NANOS);
                }
                if (irq.resetReason != null) {
                    throw new IllegalStateException("Device asked for a reset: "
                            + irq.resetReason);
                }
                return done / ((now - start) / 1e9);
            } finally {
                device.reset();
            }
        }
    }

    /** Reads per second done directly on the file into the same guest buffers. */
    private double runHost(FileChannel file, GuestMemory mem, Scenario s, double secs)
            throws IOException {
        ByteBuffer[] bufs = new ByteBuffer[s.depth];
        for (int k = 0; k < s.depth; k++) {
            bufs[k] = mem.slice(Slots.dataGpa(s, k), s.length).asByteBuffer();
        }
        SplittableRandom rnd = new SplittableRandom(42);
        long done = 0;
        long start = System.nanoTime();
        long end = start + (long) (secs * 1e9);
        long now = start;
        while (now < end) {
            for (int k = 0; k < s.depth; k++) {
                ByteBuffer b = bufs[k].clear();
                long at = offset(s, done + k, rnd, imageBytes);
                while (b.hasRemaining()) {
                    if (file.read(b, at + b.position()) < 0) {
                        throw new IOException("Unexpected end of image at " + at);
                    }
                }
            }
            done += s.depth;
            now = System.nanoTime();
        }
        return done / ((now - start) / 1e9);
    }

    /**
     * Request slots laid out once in guest memory: a header, data and a status byte per slot,
     * described by three direct descriptors (or an indirect table with the data split into
     * pieces, as a driver sends a request built from pages).
     */
    static final class Slots {
        static final long HEADERS = 16 * MIB;
        static final long TABLES = 17 * MIB;
        static final long DATA = 32 * MIB;

        private final BenchQueue q;
        private final GuestMemory mem;
        private final Scenario s;

        Slots(BenchQueue q, GuestMemory mem, Scenario s) {
            this.q = q;
            this.mem = mem;
            this.s = s;
            int w = Virtqueue.VIRTQ_DESC_F_WRITE;
            int n = Virtqueue.VIRTQ_DESC_F_NEXT;
            for (int k = 0; k < s.depth; k++) {
                long hdr = HEADERS + 32L * k;
                long status = hdr + 16;
                mem.writeInt(hdr, 0); // VIRTIO_BLK_T_IN
                mem.writeInt(hdr + 4, 0);
                if (s.segments == 1) {
                    q.ring.writeDesc(3 * k, hdr, 16, n, 3 * k + 1);
                    q.ring.writeDesc(3 * k + 1, dataGpa(s, k), s.length, w | n, 3 * k + 2);
                    q.ring.writeDesc(3 * k + 2, status, 1, w, 0);
                } else {
                    long table = TABLES + k * 16L * (s.segments + 2);
                    int piece = s.length / s.segments;
                    q.ring.writeDesc(table, 0, hdr, 16, n, 1);
                    for (int i = 0; i < s.segments; i++) {
                        q.ring.writeDesc(table, 1 + i, dataGpa(s, k) + (long) i * piece, piece,
                                w | n, 2 + i);
                    }
                    q.ring.writeDesc(table, s.segments + 1, status, 1, w, 0);
                    q.ring.writeDesc(k, table, 16L * (s.segments + 2),
                            Virtqueue.VIRTQ_DESC_F_INDIRECT, 0);
                }
            }
        }

        static long dataGpa(Scenario s, int k) {
            return DATA + (long) k * s.length;
        }

        int head(int k) {
            return s.segments == 1 ? 3 * k : k;
        }

        void setSector(int k, long sector) {
            mem.writeLong(HEADERS + 32L * k + 8, sector);
            mem.writeByte(HEADERS + 32L * k + 16, (byte) 0xFF);
        }

        int slotOf(int head) {
            return s.segments == 1 ? head / 3 : head;
        }

        void checkStatus(int k) {
            int status = mem.readByte(HEADERS + 32L * k + 16);
            if (status != 0) {
                throw new IllegalStateException("Request failed: slot=" + k + " status="
                        + status);
            }
        }
    }
}
