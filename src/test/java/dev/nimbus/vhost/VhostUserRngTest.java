package dev.nimbus.vhost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.devices.virtio.RecordingInterrupt;
import dev.nimbus.devices.virtio.Virtio;
import dev.nimbus.devices.virtio.VirtioActivation;
import dev.nimbus.devices.virtio.VirtioQueue;
import dev.nimbus.devices.virtio.VirtqueueBuilder;
import dev.nimbus.devices.virtio.rng.VirtioRng;
import dev.nimbus.memory.GuestMemory;
import dev.nimbus.sys.EventFd;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Nimbus's vhost-user front-end against Nimbus's back-end, with the virtio-rng engine behind
 * it: guest memory in two memfd regions, a driver's ring in each test, the back-end's threads
 * filling buffers and the call eventfds coming back as interrupts.
 */
class VhostUserRngTest {
    private static final long TIMEOUT = 5000;
    /** Two regions with a hole between them, as a guest's RAM below and above a gap. */
    private static final long LOW = 0;
    private static final long HIGH = 0x40_0000;
    private static final long REGION = 0x20_0000;

    private BackendFixture backend;
    private GuestMemory memory;

    @BeforeEach
    void start() throws Exception {
        backend = new BackendFixture(new VirtioRng("__rng_backend", VirtioRng.DEFAULT_SOURCE));
        memory = GuestMemory.create(List.of(new long[] {LOW, REGION}, new long[] {HIGH, REGION}),
                "vhost-test");
    }

    @AfterEach
    void stop() throws Exception {
        backend.close();
        memory.close();
        assertNull(backend.failure(), "server thread failed");
    }

    private VhostUserFrontend connect() throws Exception {
        return VhostUserFrontend.connect("__rng", Virtio.VIRTIO_ID_RNG, backend.socket(), ~0L, 1,
                256, 0);
    }

    /** Activates {@code frontend} with one ring in the upper region; returns the driver side. */
    private static VirtqueueBuilder activate(VhostUserFrontend frontend, GuestMemory memory,
            EventFd kick, RecordingInterrupt interrupt, long features) throws Exception {
        VirtqueueBuilder ring = new VirtqueueBuilder(memory, 64, HIGH + 0x1000, 0x10_0000);
        VirtioQueue q = new VirtioQueue(0, ring.create(features), kick);
        frontend.activate(new VirtioActivation(memory, features, List.of(q), interrupt));
        return ring;
    }

    @Test
    void backendFillsBuffersAndInterruptsThroughTheCallEventfd() throws Exception {
        try (VhostUserFrontend frontend = connect(); EventFd kick = EventFd.create()) {
            assertEquals(Virtio.RING_FEATURES, frontend.deviceFeatures(),
                    "rng offers ring features only; the vhost-user bit stays hidden");
            assertEquals(1, frontend.queueMaxSizes().length);
            RecordingInterrupt interrupt = new RecordingInterrupt();
            VirtqueueBuilder ring = activate(frontend, memory, kick, interrupt,
                    frontend.deviceFeatures());
            VirtqueueBuilder.Buf a = ring.writable(512);
            VirtqueueBuilder.Buf b = ring.writable(4096);
            ring.add(a);
            ring.add(b);
            kick.signal();

            assertEquals(2, ring.awaitUsed(2, TIMEOUT));
            assertEquals(512, ring.usedLen(0));
            assertEquals(4096, ring.usedLen(1));
            assertFalse(allZero(memory.read(b.gpa(), 4096)), "buffer still zero");
            assertTrue(interrupt.awaitQueueSignals(0, 1, TIMEOUT), "no interrupt");
        }
    }

    @Test
    void resetStopsTheRingAndASecondActivationStartsFromZero() throws Exception {
        try (VhostUserFrontend frontend = connect(); EventFd kick = EventFd.create()) {
            RecordingInterrupt interrupt = new RecordingInterrupt();
            VirtqueueBuilder ring = activate(frontend, memory, kick, interrupt,
                    frontend.deviceFeatures());
            ring.add(ring.writable(64));
            kick.signal();
            assertEquals(1, ring.awaitUsed(1, TIMEOUT));
            frontend.reset();

            RecordingInterrupt second = new RecordingInterrupt();
            VirtqueueBuilder again = activate(frontend, memory, kick, second,
                    frontend.deviceFeatures());
            again.add(again.writable(64));
            again.add(again.writable(64));
            kick.signal();
            assertEquals(2, again.awaitUsed(2, TIMEOUT));
            assertTrue(second.awaitQueueSignals(0, 1, TIMEOUT));
        }
    }

    @Test
    void backendServesTheNextFrontendAfterOneLeaves() throws Exception {
        for (int round = 1; round <= 3; round++) {
            try (VhostUserFrontend frontend = connect(); EventFd kick = EventFd.create()) {
                RecordingInterrupt interrupt = new RecordingInterrupt();
                VirtqueueBuilder ring = activate(frontend, memory, kick, interrupt,
                        frontend.deviceFeatures());
                ring.add(ring.writable(128));
                kick.signal();
                assertEquals(1, ring.awaitUsed(1, TIMEOUT), "round " + round);
            }
        }
        assertTrue(backend.awaitConnections(3, TIMEOUT));
        assertEquals(0, backend.server().dropped());
    }

    @Test
    void buffersMadeAvailableBeforeActivationAreServedWithoutAKick() throws Exception {
        try (VhostUserFrontend frontend = connect(); EventFd kick = EventFd.create()) {
            VirtqueueBuilder ring = new VirtqueueBuilder(memory, 64, LOW + 0x1000, 0x10_0000);
            ring.add(ring.writable(32));
            long features = frontend.deviceFeatures();
            VirtioQueue q = new VirtioQueue(0, ring.create(features), kick);
            frontend.activate(new VirtioActivation(memory, features, List.of(q),
                    new RecordingInterrupt()));
            assertEquals(1, ring.awaitUsed(1, TIMEOUT));
        }
    }

    @Test
    void frontendListensAndABackendInClientModeConnectsAndReconnects() throws Exception {
        String socket = backend.socket() + ".server";
        VhostUserServer client = VhostUserServer.connectTo(
                new VirtioRng("__rng_client", VirtioRng.DEFAULT_SOURCE), socket);
        Thread t = Thread.ofPlatform().daemon().start(() -> {
            try {
                client.run();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        try {
            VhostUserFrontend.Options o = new VhostUserFrontend.Options(~0L, 0, 1, 256, 0,
                    null);
            for (int round = 1; round <= 2; round++) {
                try (VhostUserFrontend frontend = VhostUserFrontend.accept("__rng",
                        Virtio.VIRTIO_ID_RNG, socket, o); EventFd kick = EventFd.create()) {
                    VirtqueueBuilder ring = activate(frontend, memory, kick,
                            new RecordingInterrupt(), frontend.deviceFeatures());
                    ring.add(ring.writable(64));
                    kick.signal();
                    assertEquals(1, ring.awaitUsed(1, TIMEOUT), "round " + round);
                }
            }
            assertEquals(2, client.connections());
        } finally {
            client.close();
            t.join(5000);
            java.nio.file.Files.deleteIfExists(java.nio.file.Path.of(socket));
        }
    }

    private static boolean allZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }
}
