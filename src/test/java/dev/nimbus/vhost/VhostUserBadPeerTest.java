package dev.nimbus.vhost;

import static dev.nimbus.vhost.VhostUser.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.devices.virtio.RecordingInterrupt;
import dev.nimbus.devices.virtio.Virtio;
import dev.nimbus.devices.virtio.VirtioActivation;
import dev.nimbus.devices.virtio.VirtioQueue;
import dev.nimbus.devices.virtio.VirtqueueBuilder;
import dev.nimbus.devices.virtio.rng.VirtioRng;
import dev.nimbus.memory.GuestMemory;
import dev.nimbus.memory.GuestRegion;
import dev.nimbus.sys.EventFd;
import dev.nimbus.sys.UnixSocket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Front-ends that break the protocol: each one is dropped (and counted), and the back-end then
 * serves a well-behaved front-end as if nothing had happened.
 */
class VhostUserBadPeerTest {
    private static final long TIMEOUT = 5000;
    private static final long REGION = 0x20_0000;

    private BackendFixture backend;
    private GuestMemory memory;

    @BeforeEach
    void start() throws Exception {
        backend = new BackendFixture(new VirtioRng("__rng_backend", VirtioRng.DEFAULT_SOURCE));
        memory = GuestMemory.create(List.of(new long[] {0, REGION}), "vhost-bad-peer");
    }

    @AfterEach
    void stop() throws Exception {
        backend.close();
        memory.close();
        assertNull(backend.failure(), "server thread failed");
    }

    private VhostUserChannel raw() throws Exception {
        return new VhostUserChannel(UnixSocket.connect(backend.socket()));
    }

    /** The back-end dropped exactly {@code count} peers and still serves a real front-end. */
    private void assertDroppedThenServes(int count) throws Exception {
        assertTrue(backend.awaitDropped(count, TIMEOUT), "peer not dropped: dropped="
                + backend.server().dropped());
        try (VhostUserFrontend frontend = VhostUserFrontend.connect("__rng",
                Virtio.VIRTIO_ID_RNG, backend.socket(), ~0L, 1, 256, 0);
                EventFd kick = EventFd.create()) {
            long features = frontend.deviceFeatures();
            VirtqueueBuilder ring = new VirtqueueBuilder(memory, 32, 0x1000, 0x10_0000);
            VirtioQueue q = new VirtioQueue(0, ring.create(features), kick);
            frontend.activate(new VirtioActivation(memory, features, List.of(q),
                    new RecordingInterrupt()));
            ring.add(ring.writable(16));
            kick.signal();
            assertEquals(1, ring.awaitUsed(1, TIMEOUT), "back-end does not serve any more");
        }
        assertEquals(count, backend.server().dropped());
    }

    @Test
    void garbageBytesDropTheConnection() throws Exception {
        try (VhostUserChannel c = raw()) {
            byte[] junk = new byte[4096];
            new Random(42).nextBytes(junk);
            c.socket().send(junk, 0, junk.length);
            assertTrue(backend.awaitDropped(1, TIMEOUT));
        }
        assertDroppedThenServes(1);
    }

    @Test
    void unknownVersionAndOversizedPayloadDropTheConnection() throws Exception {
        try (VhostUserChannel c = raw()) {
            c.send(new VhostUserMessage(VHOST_USER_GET_FEATURES, 0x2, new byte[0], new int[0]));
            assertTrue(backend.awaitDropped(1, TIMEOUT));
        }
        try (VhostUserChannel c = raw()) {
            byte[] header = ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN)
                    .putInt(VHOST_USER_SET_MEM_TABLE).putInt(VHOST_USER_VERSION)
                    .putInt(0x7FFF_FFFF).array();
            c.socket().send(header, 0, header.length);
            assertTrue(backend.awaitDropped(2, TIMEOUT));
        }
        assertDroppedThenServes(2);
    }

    @Test
    void wrongPayloadSizesAndRingIndicesDropTheConnection() throws Exception {
        List<VhostUserMessage> bad = List.of(
                VhostUserMessage.request(VHOST_USER_SET_FEATURES, false, new byte[3]),
                VhostUserMessage.request(VHOST_USER_SET_VRING_NUM, false,
                        VhostUserMessage.vringState(7, 64)),
                VhostUserMessage.request(VHOST_USER_SET_VRING_NUM, false,
                        VhostUserMessage.vringState(0, 100)),
                VhostUserMessage.request(VHOST_USER_SET_FEATURES, false,
                        VhostUserMessage.u64(1L << 63)),
                VhostUserMessage.request(999, false, new byte[0]),
                VhostUserMessage.request(VHOST_USER_GET_CONFIG, false, new byte[3]),
                VhostUserMessage.request(VHOST_USER_GET_CONFIG, false, configHeader(0, 100, 4)),
                VhostUserMessage.request(VHOST_USER_SET_CONFIG, false, configHeader(0, -1, 0)),
                VhostUserMessage.request(VHOST_USER_SET_CONFIG, false, new byte[11]));
        int n = 0;
        for (VhostUserMessage m : bad) {
            try (VhostUserChannel c = raw()) {
                c.send(m);
                assertTrue(backend.awaitDropped(++n, TIMEOUT), "not dropped: " + m.name());
            }
        }
        assertDroppedThenServes(bad.size());
    }

    /** struct vhost_user_config: offset, size, flags, then {@code payload} bytes. */
    private static byte[] configHeader(int offset, int size, int payload) {
        return ByteBuffer.allocate(CONFIG_HEADER_SIZE + payload).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(offset).putInt(size).putInt(0).array();
    }

    @Test
    void configurationReadOutsideTheDeviceGetsAnEmptyReplyAndKeepsTheLink() throws Exception {
        try (VhostUserChannel c = raw()) {
            c.send(VhostUserMessage.request(VHOST_USER_GET_CONFIG, false,
                    configHeader(0x1000, 8, 8)));
            VhostUserMessage reply = c.receive();
            assertEquals(VHOST_USER_GET_CONFIG, reply.request());
            assertEquals(0, reply.payload().length, "the specification's failed GET_CONFIG");
            c.send(VhostUserMessage.request(VHOST_USER_GET_FEATURES, false, new byte[0]));
            assertEquals(VHOST_USER_GET_FEATURES, c.receive().request(), "link still up");
        }
        assertDroppedThenServes(0);
    }

    @Test
    void memoryTableWithDescriptorsThatCannotBeMappedIsRefused() throws Exception {
        GuestRegion r = memory.regions().get(0);
        try (EventFd notMappable = EventFd.create(); VhostUserChannel c = raw()) {
            c.send(VhostUserMessage.request(VHOST_USER_SET_MEM_TABLE, false,
                    table(new long[] {r.gpa(), r.size(), r.hva(), 0}), notMappable.fd()));
            assertTrue(backend.awaitDropped(1, TIMEOUT));
        }
        try (VhostUserChannel c = raw()) {
            // Two regions but one descriptor.
            c.send(VhostUserMessage.request(VHOST_USER_SET_MEM_TABLE, false,
                    table(new long[] {0, 0x1000, 0x10000, 0}, new long[] {0x1000, 0x1000,
                            0x20000, 0x1000}), r.fd()));
            assertTrue(backend.awaitDropped(2, TIMEOUT));
        }
        try (VhostUserChannel c = raw()) {
            // A region past the end of the memfd maps, but nine regions never do.
            long[][] nine = new long[9][];
            int[] fds = new int[9];
            for (int i = 0; i < 9; i++) {
                nine[i] = new long[] {i * 0x1000L, 0x1000, 0x100000 + i * 0x1000L, 0};
                fds[i] = r.fd();
            }
            c.send(VhostUserMessage.request(VHOST_USER_SET_MEM_TABLE, false, table(nine), fds));
            assertTrue(backend.awaitDropped(3, TIMEOUT));
        }
        assertDroppedThenServes(3);
    }

    @Test
    void overlappingRegionsAreRefused() throws Exception {
        GuestRegion r = memory.regions().get(0);
        try (VhostUserChannel c = raw()) {
            c.send(VhostUserMessage.request(VHOST_USER_SET_MEM_TABLE, false,
                    table(new long[] {0, 0x10000, 0x7000_0000L, 0},
                            new long[] {0x8000, 0x10000, 0x7100_0000L, 0}), r.fd(), r.fd()));
            assertTrue(backend.awaitDropped(1, TIMEOUT));
        }
        try (VhostUserChannel c = raw()) {
            // Disjoint guest addresses, but the same front-end addresses.
            c.send(VhostUserMessage.request(VHOST_USER_SET_MEM_TABLE, false,
                    table(new long[] {0, 0x10000, 0x7000_0000L, 0},
                            new long[] {0x10_0000, 0x10000, 0x7000_8000L, 0}), r.fd(), r.fd()));
            assertTrue(backend.awaitDropped(2, TIMEOUT));
        }
        assertDroppedThenServes(2);
    }

    @Test
    void ringAddressOutsideTheMemoryTableIsRefused() throws Exception {
        GuestRegion r = memory.regions().get(0);
        try (VhostUserChannel c = raw(); EventFd kick = EventFd.create()) {
            c.send(VhostUserMessage.request(VHOST_USER_SET_MEM_TABLE, false,
                    table(new long[] {r.gpa(), r.size(), r.hva(), r.fdOffset()}), r.fd()));
            c.send(VhostUserMessage.request(VHOST_USER_SET_VRING_NUM, false,
                    VhostUserMessage.vringState(0, 16)));
            byte[] addr = ByteBuffer.allocate(VRING_ADDR_SIZE).order(ByteOrder.LITTLE_ENDIAN)
                    .putInt(0).putInt(0).putLong(r.hva() + r.size() + 0x1000)
                    .putLong(r.hva()).putLong(r.hva()).putLong(0).array();
            c.send(VhostUserMessage.request(VHOST_USER_SET_VRING_ADDR, false, addr));
            c.send(VhostUserMessage.request(VHOST_USER_SET_VRING_KICK, false,
                    VhostUserMessage.u64(0), kick.fd()));
            assertTrue(backend.awaitDropped(1, TIMEOUT));
        }
        assertDroppedThenServes(1);
    }

    @Test
    void disconnectInsideAMessageDropsOnlyThatConnection() throws Exception {
        try (VhostUserChannel c = raw()) {
            byte[] half = ByteBuffer.allocate(HEADER_SIZE + 8).order(ByteOrder.LITTLE_ENDIAN)
                    .putInt(VHOST_USER_SET_FEATURES).putInt(VHOST_USER_VERSION).putInt(8)
                    .putInt(1).array();
            c.socket().send(half, 0, HEADER_SIZE + 4);
        }
        assertTrue(backend.awaitDropped(1, TIMEOUT));
        try (VhostUserChannel c = raw()) {
            c.socket().send(new byte[] {1, 0, 0, 0, 1}, 0, 5);
        }
        assertDroppedThenServes(2);
    }

    @Test
    void disconnectWithRequestsInFlightLeavesTheBackendUsable() throws Exception {
        for (int round = 0; round < 3; round++) {
            VhostUserFrontend frontend = VhostUserFrontend.connect("__rng", Virtio.VIRTIO_ID_RNG,
                    backend.socket(), ~0L, 1, 256, 0);
            EventFd kick = EventFd.create();
            long features = frontend.deviceFeatures();
            VirtqueueBuilder ring = new VirtqueueBuilder(memory, 256, 0x1000, 0x18_0000);
            VirtioQueue q = new VirtioQueue(0, ring.create(features), kick);
            frontend.activate(new VirtioActivation(memory, features, List.of(q),
                    new RecordingInterrupt()));
            for (int i = 0; i < 200; i++) {
                ring.add(ring.writable(4096));
            }
            kick.signal();
            // Gone without a reset, while the back-end is filling buffers.
            UnixSocket s = socketOf(frontend);
            s.shutdown();
            frontend.close();
            kick.close();
        }
        assertTrue(backend.awaitConnections(3, TIMEOUT));
        assertDroppedThenServes(0);
    }

    private static UnixSocket socketOf(VhostUserFrontend f) throws Exception {
        var field = VhostUserFrontend.class.getDeclaredField("channel");
        field.setAccessible(true);
        return ((VhostUserChannel) field.get(f)).socket();
    }

    /** A SET_MEM_TABLE payload of {gpa, size, uva, offset} regions. */
    private static byte[] table(long[]... regions) {
        ByteBuffer b = ByteBuffer.allocate(MEMORY_TABLE_HEADER_SIZE
                + regions.length * MEMORY_REGION_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(regions.length).putInt(0);
        for (long[] r : regions) {
            b.putLong(r[0]).putLong(r[1]).putLong(r[2]).putLong(r[3]);
        }
        return b.array();
    }
}
