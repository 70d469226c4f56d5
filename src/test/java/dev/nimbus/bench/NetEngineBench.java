package dev.nimbus.bench;

import dev.nimbus.devices.virtio.TestGuestMemory;
import dev.nimbus.devices.virtio.VirtioActivation;
import dev.nimbus.devices.virtio.VirtioQueue;
import dev.nimbus.devices.virtio.net.VirtioNet;
import dev.nimbus.memory.GuestMemory;
import dev.nimbus.net.Arp;
import dev.nimbus.net.Frames;
import dev.nimbus.net.NetInterface;
import dev.nimbus.net.NetNamespace;
import dev.nimbus.sys.Errno;
import dev.nimbus.sys.Linux;
import dev.nimbus.vmm.config.IpAddress;
import dev.nimbus.vmm.config.MacAddress;
import dev.nimbus.vmm.config.NetConfig;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Frames through the virtio-net engine and a real tap, both ways, against a UDP socket in a
 * private network namespace: the benchmark thread plays the guest driver (keeps the transmit
 * ring full, or re-posts receive buffers as they come back), a socket thread in the namespace
 * receives or sends. Each direction is compared with the same traffic written to or read from
 * the tap descriptor directly by the host, without the engine.
 */
final class NetEngineBench {
    static final int QUEUE_SIZE = 256;
    static final long MIB = 1 << 20;
    static final IpAddress HOST = IpAddress.parse("10.203.0.1");
    static final IpAddress GUEST = IpAddress.parse("10.203.0.2");
    static final MacAddress GUEST_MAC = MacAddress.parse("52:54:00:00:00:02");
    static final int SINK_PORT = 7000;
    static final int GUEST_PORT = 7001;
    static final int BUFFER = 1526; // header + 1514-byte Ethernet frame
    static final long FRAMES = 32 * MIB;

    private final int runs;
    private final double seconds;
    private final PrintStream out;
    private NetNamespace ns;
    private VirtioNet device;
    private MacAddress tapMac;
    private DatagramSocket sink;
    private DatagramSocket source;

    NetEngineBench(int runs, double seconds, PrintStream out) {
        this.runs = runs;
        this.seconds = seconds;
        this.out = out;
    }

    void run() throws Exception {
        ns = new NetNamespace();
        String name = NetNamespace.uniqueName("nbb");
        NetConfig config = NetConfig.parse("id=_bench_net0,queue_size=" + QUEUE_SIZE + ",tap="
                + name + ",ip=" + HOST + ",mask=255.255.255.0,mac=" + GUEST_MAC);
        device = ns.call(() -> VirtioNet.open(config));
        tapMac = ns.call(() -> {
            Arp.setPermanent(name, GUEST, GUEST_MAC);
            sink = new DatagramSocket(new InetSocketAddress(HOST.toInetAddress(), SINK_PORT));
            sink.setReceiveBufferSize(8 << 20);
            sink.setSoTimeout(100);
            source = new DatagramSocket(new InetSocketAddress(HOST.toInetAddress(), 0));
            return new NetInterface(name).hardwareAddress();
        });
        out.println("| Tap traffic | engine (median) | host direct on the tap fd (median)"
                + " | engine / direct |");
        out.println("|---|---|---|---|");
        try (TestGuestMemory ram = TestGuestMemory.shared(64 * MIB)) {
            for (int payload : new int[] {1472, 18}) {
                measure("guest -> tap -> socket, " + frameSize(payload) + "-byte frames",
                        () -> transmitEngine(ram.memory(), payload),
                        () -> transmitDirect(payload));
                measure("socket -> tap -> guest, " + frameSize(payload) + "-byte frames",
                        () -> receiveEngine(ram.memory(), payload),
                        () -> receiveDirect(payload));
            }
        } finally {
            device.close();
            sink.close();
            source.close();
            ns.close();
        }
    }

    static int frameSize(int payload) {
        return Frames.PAYLOAD - Frames.VNET_HDR + payload;
    }

    /** Frames per second and payload bytes per second of one run. */
    record Rate(double frames, double bytes) {}

    interface Run {
        Rate run() throws Exception;
    }

    private void measure(String name, Run engine, Run direct) throws Exception {
        engine.run();
        direct.run();
        double[] ef = new double[runs];
        double[] eb = new double[runs];
        double[] df = new double[runs];
        double[] db = new double[runs];
        for (int r = 0; r < runs; r++) {
            Rate e = engine.run();
            Rate d = direct.run();
            ef[r] = e.frames;
            eb[r] = e.bytes;
            df[r] = d.frames;
            db[r] = d.bytes;
        }
        double e = Stats.median(ef);
        double d = Stats.median(df);
        out.printf("| %s | %s frames/s, %s MB/s | %s frames/s, %s MB/s | %.2f |%n", name,
                Stats.fmt(e), Stats.fmt(Stats.median(eb) / 1e6), Stats.fmt(d),
                Stats.fmt(Stats.median(db) / 1e6), e / d);
        out.flush();
    }

    // ---- guest to host ----

    /** Counts datagrams arriving at the sink socket while {@code running}. */
    private Thread sinkCounter(AtomicBoolean running, AtomicLong frames, AtomicLong bytes) {
        Thread t = Thread.ofPlatform().name("bench-sink").start(() -> {
            DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
            while (running.get()) {
                try {
                    sink.receive(p);
                    frames.incrementAndGet();
                    bytes.addAndGet(p.getLength());
                } catch (SocketTimeoutException e) {
                    // check running again
                } catch (Exception e) {
                    return;
                }
            }
        });
        return t;
    }

    private byte[] txFrame(int payload) {
        return Frames.udp(GUEST_MAC, tapMac, GUEST, HOST, 4000, SINK_PORT, new byte[payload]);
    }

    private Rate transmitEngine(GuestMemory mem, int payload) throws Exception {
        BenchInterrupt irq = new BenchInterrupt();
        List<BenchQueue> queues = queues(mem);
        BenchQueue tx = queues.get(1);
        activate(mem, queues, irq);
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong frames = new AtomicLong();
        AtomicLong bytes = new AtomicLong();
        Thread counter = sinkCounter(running, frames, bytes);
        try {
            byte[] frame = txFrame(payload);
            for (int k = 0; k < QUEUE_SIZE; k++) {
                long gpa = FRAMES + (long) k * 2048;
                mem.write(gpa, frame);
                tx.ring.writeDesc(k, gpa, frame.length, 0, 0);
            }
            long start = System.nanoTime();
            long end = start + (long) (seconds * 1e9);
            long f0 = frames.get();
            long b0 = bytes.get();
            while (System.nanoTime() < end) {
                int free = QUEUE_SIZE - ((tx.published() - tx.usedIdx()) & 0xFFFF);
                if (free == 0) {
                    LockSupport.parkNanos(20_000);
                    continue;
                }
                for (int i = 0; i < free; i++) {
                    tx.publish(tx.published() % QUEUE_SIZE);
                }
                tx.kickIfNeeded();
            }
            double secs = (System.nanoTime() - start) / 1e9;
            return new Rate((frames.get() - f0) / secs, (bytes.get() - b0) / secs);
        } finally {
            running.set(false);
            counter.join();
            device.reset();
            closeAll(queues);
        }
    }

    private Rate transmitDirect(int payload) throws Exception {
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong frames = new AtomicLong();
        AtomicLong bytes = new AtomicLong();
        Thread counter = sinkCounter(running, frames, bytes);
        int fd = device.backends().get(0).fd();
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            byte[] frame = txFrame(payload);
            MemorySegment buf = arena.allocateFrom(java.lang.foreign.ValueLayout.JAVA_BYTE,
                    frame);
            long start = System.nanoTime();
            long end = start + (long) (seconds * 1e9);
            long f0 = frames.get();
            long b0 = bytes.get();
            while (System.nanoTime() < end) {
                long n = Linux.write(fd, buf, frame.length);
                if (n == -Errno.EAGAIN) {
                    LockSupport.parkNanos(20_000);
                }
            }
            double secs = (System.nanoTime() - start) / 1e9;
            return new Rate((frames.get() - f0) / secs, (bytes.get() - b0) / secs);
        } finally {
            running.set(false);
            counter.join();
        }
    }

    // ---- host to guest ----

    /** Sends datagrams to the guest's address while {@code running}. */
    private Thread sourceSender(AtomicBoolean running, int payload) {
        return Thread.ofPlatform().name("bench-source").start(() -> {
            DatagramPacket p = new DatagramPacket(new byte[payload], payload,
                    new InetSocketAddress(GUEST.toInetAddress(), GUEST_PORT));
            while (running.get()) {
                try {
                    source.send(p);
                } catch (Exception e) {
                    return;
                }
            }
        });
    }

    private Rate receiveEngine(GuestMemory mem, int payload) throws Exception {
        BenchInterrupt irq = new BenchInterrupt();
        List<BenchQueue> queues = queues(mem);
        BenchQueue rx = queues.get(0);
        for (int k = 0; k < QUEUE_SIZE; k++) {
            rx.ring.writeDesc(k, FRAMES + (long) k * 2048, BUFFER,
                    dev.nimbus.devices.virtio.Virtqueue.VIRTQ_DESC_F_WRITE, 0);
            rx.publish(k);
        }
        activate(mem, queues, irq);
        AtomicBoolean running = new AtomicBoolean(true);
        Thread sender = sourceSender(running, payload);
        try {
            long frames = 0;
            long bytes = 0;
            int seen = 0;
            long start = System.nanoTime();
            long end = start + (long) (seconds * 1e9);
            while (System.nanoTime() < end) {
                int used = rx.usedIdx();
                if (used == seen) {
                    LockSupport.parkNanos(20_000);
                    continue;
                }
                while (seen != used) {
                    int len = rx.ring.usedLen(seen);
                    frames++;
                    bytes += Math.max(0, len - Frames.PAYLOAD);
                    rx.publish(rx.ring.usedId(seen));
                    seen = (seen + 1) & 0xFFFF;
                }
                rx.kickIfNeeded();
            }
            double secs = (System.nanoTime() - start) / 1e9;
            return new Rate(frames / secs, bytes / secs);
        } finally {
            running.set(false);
            sender.join();
            device.reset();
            closeAll(queues);
        }
    }

    private Rate receiveDirect(int payload) throws Exception {
        AtomicBoolean running = new AtomicBoolean(true);
        Thread sender = sourceSender(running, payload);
        int fd = device.backends().get(0).fd();
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(70_000);
            long frames = 0;
            long bytes = 0;
            long start = System.nanoTime();
            long end = start + (long) (seconds * 1e9);
            while (System.nanoTime() < end) {
                long n = Linux.read(fd, buf, buf.byteSize());
                if (n == -Errno.EAGAIN) {
                    LockSupport.parkNanos(20_000);
                } else if (n > 0) {
                    frames++;
                    bytes += Math.max(0, n - Frames.PAYLOAD);
                }
            }
            double secs = (System.nanoTime() - start) / 1e9;
            return new Rate(frames / secs, bytes / secs);
        } finally {
            running.set(false);
            sender.join();
        }
    }

    // ---- queues ----

    private static List<BenchQueue> queues(GuestMemory mem) throws Exception {
        List<BenchQueue> q = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            q.add(new BenchQueue(mem, i, QUEUE_SIZE, MIB + i * MIB, MIB));
        }
        return q;
    }

    private void activate(GuestMemory mem, List<BenchQueue> queues, BenchInterrupt irq)
            throws Exception {
        long features = device.deviceFeatures();
        List<VirtioQueue> vqs = new ArrayList<>();
        for (BenchQueue q : queues) {
            vqs.add(q.deviceSide("_bench_net0 q" + q.index, mem, features));
        }
        device.activate(new VirtioActivation(mem, features, vqs, irq));
    }

    private static void closeAll(List<BenchQueue> queues) {
        for (BenchQueue q : queues) {
            q.close();
        }
    }
}
