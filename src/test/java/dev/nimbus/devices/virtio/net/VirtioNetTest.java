package dev.nimbus.devices.virtio.net;

import static dev.nimbus.devices.virtio.DeviceHarness.TIMEOUT_MILLIS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.devices.virtio.DeviceHarness;
import dev.nimbus.devices.virtio.Virtio;
import dev.nimbus.devices.virtio.VirtioDevice;
import dev.nimbus.devices.virtio.VirtioDeviceContract;
import dev.nimbus.devices.virtio.VirtqueueBuilder;
import dev.nimbus.devices.virtio.VirtqueueBuilder.Buf;
import dev.nimbus.net.SocketPairBackend;
import dev.nimbus.net.Tap;
import dev.nimbus.vmm.config.MacAddress;
import dev.nimbus.vmm.config.NetConfig;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class VirtioNetTest extends VirtioDeviceContract {
    static final MacAddress MAC = MacAddress.parse("12:34:56:78:9a:bc");

    @Override
    protected VirtioDevice newDevice() throws Exception {
        return device("", new SocketPairBackend("fake0"));
    }

    private static VirtioNet device(String extra, SocketPairBackend... backends) {
        NetConfig c = NetConfig.parse("id=_net0,queue_size=16" + (extra.isEmpty() ? "" : ","
                + extra));
        return new VirtioNet(c, List.of(backends), MAC, 1500);
    }

    /** A frame with a zero virtio-net header and {@code len} payload bytes of value {@code v}. */
    static byte[] frame(int len, int v) {
        byte[] f = new byte[NetQueuePair.VNET_HDR_SIZE + len];
        Arrays.fill(f, NetQueuePair.VNET_HDR_SIZE, f.length, (byte) v);
        return f;
    }

    /** Posts a receive buffer of {@code len} bytes on queue {@code q}; returns it. */
    static Buf postRx(DeviceHarness h, int q, int len) {
        Buf b = h.ring(q).writable(len);
        h.ring(q).add(b);
        h.kick(q);
        return b;
    }

    static void await(DeviceHarness h, int q, int count) throws InterruptedException {
        assertEquals(count, h.ring(q).awaitUsed(count, TIMEOUT_MILLIS), "used entries of q" + q);
    }

    private static boolean threadNamed(String name) {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().equals(name) && t.isAlive());
    }

    // ---- identity and configuration ----

    @Test
    void offersTheFeaturesAndConfigurationCloudHypervisorDoes() throws Exception {
        try (VirtioNet d = device("", new SocketPairBackend("fake0"))) {
            assertEquals(Virtio.VIRTIO_ID_NET, d.deviceType());
            assertArrayEquals(new int[] {16, 16, 16}, d.queueMaxSizes(), "rx, tx, control");
            long f = d.deviceFeatures();
            for (int bit : new int[] {VirtioNet.VIRTIO_NET_F_MAC, VirtioNet.VIRTIO_NET_F_STATUS,
                    VirtioNet.VIRTIO_NET_F_CTRL_VQ, VirtioNet.VIRTIO_NET_F_MQ,
                    VirtioNet.VIRTIO_NET_F_GUEST_ANNOUNCE, VirtioNet.VIRTIO_NET_F_MTU,
                    VirtioNet.VIRTIO_NET_F_CSUM, VirtioNet.VIRTIO_NET_F_GUEST_CSUM,
                    VirtioNet.VIRTIO_NET_F_CTRL_GUEST_OFFLOADS, VirtioNet.VIRTIO_NET_F_HOST_TSO4,
                    VirtioNet.VIRTIO_NET_F_HOST_TSO6, VirtioNet.VIRTIO_NET_F_HOST_ECN,
                    VirtioNet.VIRTIO_NET_F_GUEST_TSO4, VirtioNet.VIRTIO_NET_F_GUEST_TSO6,
                    VirtioNet.VIRTIO_NET_F_GUEST_ECN, VirtioNet.VIRTIO_NET_F_HOST_UFO,
                    VirtioNet.VIRTIO_NET_F_GUEST_UFO}) {
                assertTrue(Virtio.has(f, bit), "feature bit " + bit);
            }
            assertFalse(Virtio.has(f, VirtioNet.VIRTIO_NET_F_MRG_RXBUF));
            assertEquals(17, d.configSize());
            assertEquals(0x12, d.readConfig(VirtioNet.CONFIG_MAC, 1));
            assertEquals(0xbc9a78563412L,
                    d.readConfig(VirtioNet.CONFIG_MAC, 8) & 0xFFFF_FFFF_FFFFL);
            assertEquals(VirtioNet.VIRTIO_NET_S_LINK_UP, d.readConfig(VirtioNet.CONFIG_STATUS, 2));
            assertEquals(1, d.readConfig(VirtioNet.CONFIG_MAX_VIRTQUEUE_PAIRS, 2));
            assertEquals(1500, d.readConfig(VirtioNet.CONFIG_MTU, 2));
            d.writeConfig(VirtioNet.CONFIG_MAC, 1, 0xFF);
            assertEquals(0x12, d.readConfig(VirtioNet.CONFIG_MAC, 1), "read-only");
        }
    }

    @Test
    void offloadSwitchesWithdrawTheirFeatures() throws Exception {
        try (VirtioNet noTso = device("offload_tso=off,offload_ufo=off",
                new SocketPairBackend("a"));
                VirtioNet noCsum = device("offload_csum=off", new SocketPairBackend("b"))) {
            assertTrue(Virtio.has(noTso.deviceFeatures(), VirtioNet.VIRTIO_NET_F_CSUM));
            assertFalse(Virtio.has(noTso.deviceFeatures(), VirtioNet.VIRTIO_NET_F_HOST_TSO4));
            assertFalse(Virtio.has(noTso.deviceFeatures(), VirtioNet.VIRTIO_NET_F_GUEST_UFO));
            assertFalse(Virtio.has(noCsum.deviceFeatures(), VirtioNet.VIRTIO_NET_F_CSUM));
            assertFalse(Virtio.has(noCsum.deviceFeatures(), VirtioNet.VIRTIO_NET_F_GUEST_TSO4));
        }
    }

    @Test
    void activationProgramsTheOffloadsTheDriverAccepted() throws Exception {
        SocketPairBackend b = new SocketPairBackend("fake0");
        try (VirtioNet d = device("", b); DeviceHarness h = new DeviceHarness(d, 16)) {
            h.activate();
            d.reset();
            h.activate(d.deviceFeatures() & ~(Virtio.bit(VirtioNet.VIRTIO_NET_F_GUEST_TSO4)
                    | Virtio.bit(VirtioNet.VIRTIO_NET_F_GUEST_TSO6)
                    | Virtio.bit(VirtioNet.VIRTIO_NET_F_GUEST_ECN)
                    | Virtio.bit(VirtioNet.VIRTIO_NET_F_GUEST_UFO)));
            d.reset();
            h.activate(Virtio.RING_FEATURES);
            assertEquals(List.of(Tap.TUN_F_CSUM | Tap.TUN_F_TSO4 | Tap.TUN_F_TSO6
                    | Tap.TUN_F_TSO_ECN | Tap.TUN_F_UFO, Tap.TUN_F_CSUM, 0), b.offloads());
        }
    }

    // ---- transmit ----

    @Test
    void transmittedFramesReachTheBackendWhole() throws Exception {
        SocketPairBackend b = new SocketPairBackend("fake0");
        try (VirtioNet d = device("", b); DeviceHarness h = new DeviceHarness(d, 16)) {
            h.activate();
            VirtqueueBuilder tx = h.ring(1);
            byte[] f = frame(100, 0x42);
            // Header and frame in separate descriptors, as Linux sends them.
            tx.add(tx.readable(Arrays.copyOf(f, 12)), tx.readable(Arrays.copyOfRange(f, 12,
                    f.length)));
            h.kick(1);
            assertArrayEquals(f, b.receive(TIMEOUT_MILLIS));
            await(h, 1, 1);
            assertEquals(0, tx.usedLen(0), "transmit buffers are only read");
            assertTrue(h.interrupt().awaitQueueSignals(1, 1, TIMEOUT_MILLIS));
            assertEquals(1, d.counters().txFrames());
            assertEquals(100, d.counters().txBytes(), "bytes without the header");
            assertEquals(List.of("rx_bytes", "rx_frames", "tx_bytes", "tx_frames"),
                    List.copyOf(d.counterValues().keySet()));
        }
    }

    @Test
    void aFullBackendHoldsTransmitsUntilItDrains() throws Exception {
        SocketPairBackend b = new SocketPairBackend("fake0");
        b.setSendBuffer(b.fd(), 4096);
        try (VirtioNet d = device("", b); DeviceHarness h = new DeviceHarness(d, 16)) {
            h.activate();
            VirtqueueBuilder tx = h.ring(1);
            int total = 200;
            Buf[] frames = new Buf[16];
            for (int i = 0; i < frames.length; i++) {
                frames[i] = tx.readable(frame(1000, i));
            }
            int sent = 0;
            int received = 0;
            // Keep the ring full while the host side reads slowly: the device must stall on
            // EAGAIN and pick up again when the socket drains, losing nothing.
            while (received < total) {
                while (sent < total && sent - tx.usedIdx() < 16) {
                    tx.add(frames[sent % 16]);
                    sent++;
                }
                h.kick(1);
                byte[] got = b.receive(TIMEOUT_MILLIS);
                assertNotNull(got, "frame " + received);
                assertEquals(1012, got.length);
                assertEquals((byte) (received % 16), got[12], "frames stay in order");
                received++;
            }
            await(h, 1, total);
            assertEquals(total, d.counters().txFrames());
            assertEquals(0, d.counters().txDropped());
            assertTrue(d.counters().txStalls() > 0, "the backend pushed back");
        }
    }

    @Test
    void malformedTransmitChainsAreDroppedAlone() throws Exception {
        SocketPairBackend b = new SocketPairBackend("fake0");
        try (VirtioNet d = device("", b); DeviceHarness h = new DeviceHarness(d, 16)) {
            h.activate();
            VirtqueueBuilder tx = h.ring(1);
            tx.add(tx.readable(new byte[8]));                           // shorter than a header
            tx.add(tx.readable(frame(10, 1)), tx.writable(64));         // a writable buffer
            tx.add(tx.readable(frame(20, 7)));                          // fine
            h.kick(1);
            byte[] got = b.receive(TIMEOUT_MILLIS);
            assertArrayEquals(frame(20, 7), got);
            await(h, 1, 3);
            assertNull(b.receive(50), "nothing else was sent");
            assertEquals(2, d.counters().txDropped());
            assertEquals(1, d.counters().txFrames());
            assertTrue(h.interrupt().resets().isEmpty());
        }
    }

    // ---- receive ----

    @Test
    void receivedFramesLandInGuestBuffersWithNumBuffersSet() throws Exception {
        SocketPairBackend b = new SocketPairBackend("fake0");
        try (VirtioNet d = device("", b); DeviceHarness h = new DeviceHarness(d, 16)) {
            h.activate();
            Buf rx = postRx(h, 0, 1526);
            h.ram().memory().writeShort(rx.gpa() + 10, (short) 0x7777);
            byte[] f = frame(200, 0x99);
            b.send(f);
            await(h, 0, 1);
            assertEquals(212, h.ring(0).usedLen(0));
            byte[] got = h.ram().memory().read(rx.gpa(), 212);
            assertEquals(1, got[10], "num_buffers");
            got[10] = 0;
            assertArrayEquals(f, got);
            assertTrue(h.interrupt().awaitQueueSignals(0, 1, TIMEOUT_MILLIS));
            assertEquals(1, d.counters().rxFrames());
            assertEquals(200, d.counters().rxBytes());
        }
    }

    @Test
    void framesWaitInTheBackendWhileTheGuestHasNoBuffers() throws Exception {
        SocketPairBackend b = new SocketPairBackend("fake0");
        try (VirtioNet d = device("", b); DeviceHarness h = new DeviceHarness(d, 16)) {
            h.activate();
            for (int i = 0; i < 5; i++) {
                b.send(frame(60 + i, i));
            }
            // No buffers: the device must neither lose the frames nor spin on the backend.
            Thread worker = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().equals("_net0")).findFirst().orElseThrow();
            ThreadMXBean mx = ManagementFactory.getThreadMXBean();
            long cpu0 = mx.getThreadCpuTime(worker.threadId());
            Thread.sleep(300);
            long cpuNanos = mx.getThreadCpuTime(worker.threadId()) - cpu0;
            assertTrue(cpuNanos < 50_000_000, "device thread busy: " + cpuNanos + " ns");
            assertEquals(0, h.ring(0).usedIdx());

            List<Buf> bufs = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                bufs.add(postRx(h, 0, 256));
            }
            await(h, 0, 5);
            for (int i = 0; i < 5; i++) {
                assertEquals(12 + 60 + i, h.ring(0).usedLen(i));
                assertEquals(i, h.ram().memory().readByte(bufs.get(i).gpa() + 12), "in order");
            }
            assertEquals(5, d.counters().rxFrames());
            assertEquals(0, d.counters().rxDropped());
        }
    }

    @Test
    void aFrameLargerThanTheBufferIsDroppedAndTheBufferKept() throws Exception {
        SocketPairBackend b = new SocketPairBackend("fake0");
        try (VirtioNet d = device("", b); DeviceHarness h = new DeviceHarness(d, 16)) {
            h.activate();
            Buf small = postRx(h, 0, 64);
            b.send(frame(1000, 1));
            b.send(frame(40, 2));
            await(h, 0, 1);
            assertEquals(0, h.ring(0).usedId(0), "the first buffer, kept for the next frame");
            assertEquals(52, h.ring(0).usedLen(0));
            assertEquals(2, h.ram().memory().readByte(small.gpa() + 12));
            assertEquals(1, d.counters().rxDropped());
            assertEquals(1, d.counters().rxFrames());
        }
    }

    @Test
    void unusableReceiveChainsAreReturnedEmpty() throws Exception {
        SocketPairBackend b = new SocketPairBackend("fake0");
        try (VirtioNet d = device("", b); DeviceHarness h = new DeviceHarness(d, 16)) {
            h.activate();
            VirtqueueBuilder rx = h.ring(0);
            rx.add(rx.writable(8));                              // shorter than a header
            rx.add(rx.readable(new byte[16]), rx.writable(256)); // device-readable part
            Buf good = rx.writable(256);
            rx.add(good);
            h.kick(0);
            b.send(frame(30, 5));
            await(h, 0, 3);
            assertEquals(0, rx.usedLen(0));
            assertEquals(0, rx.usedLen(1));
            assertEquals(42, rx.usedLen(2));
            assertEquals(5, h.ram().memory().readByte(good.gpa() + 12));
        }
    }

    @Test
    void aBackendHangUpStopsNothingButThatPair() throws Exception {
        SocketPairBackend b = new SocketPairBackend("fake0");
        try (VirtioNet d = device("", b); DeviceHarness h = new DeviceHarness(d, 16)) {
            h.activate();
            postRx(h, 0, 256);
            b.closeHostEnd();
            Thread.sleep(100);
            VirtqueueBuilder tx = h.ring(1);
            tx.add(tx.readable(frame(10, 1)));
            h.kick(1);
            await(h, 1, 1);
            assertEquals(1, d.counters().txDropped());
            assertTrue(h.interrupt().resets().isEmpty());
            Thread worker = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().equals("_net0")).findFirst().orElseThrow();
            ThreadMXBean mx = ManagementFactory.getThreadMXBean();
            long cpu0 = mx.getThreadCpuTime(worker.threadId());
            Thread.sleep(200);
            assertTrue(mx.getThreadCpuTime(worker.threadId()) - cpu0 < 50_000_000,
                    "no spinning on a dead backend");
        }
    }

    // ---- control queue ----

    /** Sends a control command; returns the ack byte. */
    private static int control(DeviceHarness h, int q, byte[] command) throws Exception {
        VirtqueueBuilder c = h.ring(q);
        Buf ack = c.writable(1);
        h.ram().memory().writeByte(ack.gpa(), (byte) 0xEE);
        c.add(c.readable(command), ack);
        int before = c.usedIdx();
        h.kick(q);
        await(h, q, before + 1);
        assertEquals(1, c.usedLen(before));
        return h.ram().memory().readByte(ack.gpa()) & 0xFF;
    }

    @Test
    void controlCommandsAreAnswered() throws Exception {
        SocketPairBackend b = new SocketPairBackend("fake0");
        try (VirtioNet d = device("", b); DeviceHarness h = new DeviceHarness(d, 16)) {
            h.activate();
            int ok = NetControlQueue.VIRTIO_NET_OK;
            int err = NetControlQueue.VIRTIO_NET_ERR;
            assertEquals(ok, control(h, 2, new byte[] {4, 0, 1, 0}), "one queue pair");
            assertEquals(err, control(h, 2, new byte[] {4, 0, 2, 0}), "more pairs than exist");
            assertEquals(err, control(h, 2, new byte[] {4, 0, 0, 0}), "zero pairs");
            // GUEST_OFFLOADS_SET with CSUM and TSO4 only.
            long offloads = Virtio.bit(VirtioNet.VIRTIO_NET_F_GUEST_CSUM)
                    | Virtio.bit(VirtioNet.VIRTIO_NET_F_GUEST_TSO4) | (1L << 60);
            byte[] cmd = new byte[10];
            cmd[0] = 5;
            for (int i = 0; i < 8; i++) {
                cmd[2 + i] = (byte) (offloads >>> (8 * i));
            }
            assertEquals(ok, control(h, 2, cmd));
            assertEquals(Tap.TUN_F_CSUM | Tap.TUN_F_TSO4,
                    b.offloads().get(b.offloads().size() - 1));
            assertEquals(ok, control(h, 2, new byte[] {3, 0}), "announce ack");
            assertEquals(ok, control(h, 2, new byte[] {0, 0, 1}), "promiscuous: tolerated");
            assertEquals(err, control(h, 2, new byte[] {1, 1, 0, 0, 0, 0, 0, 0}), "MAC class");
            assertEquals(err, control(h, 2, new byte[] {9}), "too short");
            // No ack byte: returned with nothing written.
            VirtqueueBuilder c = h.ring(2);
            c.add(c.readable(new byte[] {4, 0, 1, 0}));
            int before = c.usedIdx();
            h.kick(2);
            await(h, 2, before + 1);
            assertEquals(0, c.usedLen(before));
            assertTrue(h.interrupt().resets().isEmpty());
        }
    }

    // ---- several queue pairs ----

    @Test
    void queuePairsHaveTheirOwnBackendsAndThreads() throws Exception {
        SocketPairBackend b0 = new SocketPairBackend("fake0");
        SocketPairBackend b1 = new SocketPairBackend("fake1");
        try (VirtioNet d = device("", b0, b1); DeviceHarness h = new DeviceHarness(d, 16)) {
            assertArrayEquals(new int[] {16, 16, 16, 16, 16}, d.queueMaxSizes());
            assertEquals(2, d.readConfig(VirtioNet.CONFIG_MAX_VIRTQUEUE_PAIRS, 2));
            h.activate();
            assertTrue(threadNamed("_net0_q0"));
            assertTrue(threadNamed("_net0_q2"));
            VirtqueueBuilder tx1 = h.ring(3);
            tx1.add(tx1.readable(frame(50, 3)));
            h.kick(3);
            assertArrayEquals(frame(50, 3), b1.receive(TIMEOUT_MILLIS));
            assertNull(b0.receive(50));
            Buf rx1 = postRx(h, 2, 128);
            b1.send(frame(20, 8));
            await(h, 2, 1);
            assertEquals(8, h.ram().memory().readByte(rx1.gpa() + 12));
            assertEquals(NetControlQueue.VIRTIO_NET_OK, control(h, 4, new byte[] {4, 0, 2, 0}),
                    "control queue is 2N with MQ");
        }
    }

    @Test
    void withoutMqTheControlQueueIsQueue2() throws Exception {
        SocketPairBackend b0 = new SocketPairBackend("fake0");
        SocketPairBackend b1 = new SocketPairBackend("fake1");
        try (VirtioNet d = device("", b0, b1); DeviceHarness h = new DeviceHarness(d, 16)) {
            h.activate(d.deviceFeatures() & ~Virtio.bit(VirtioNet.VIRTIO_NET_F_MQ));
            assertTrue(threadNamed("_net0"));
            assertEquals(NetControlQueue.VIRTIO_NET_OK, control(h, 2, new byte[] {3, 0}));
        }
    }
}
