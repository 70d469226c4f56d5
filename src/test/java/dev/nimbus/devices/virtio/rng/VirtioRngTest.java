package dev.nimbus.devices.virtio.rng;

import static dev.nimbus.devices.virtio.DeviceHarness.TIMEOUT_MILLIS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.devices.virtio.DeviceHarness;
import dev.nimbus.devices.virtio.Virtio;
import dev.nimbus.devices.virtio.VirtioDevice;
import dev.nimbus.devices.virtio.VirtioDeviceContract;
import dev.nimbus.devices.virtio.VirtqueueBuilder;
import dev.nimbus.devices.virtio.VirtqueueBuilder.Buf;
import dev.nimbus.sys.SyscallException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VirtioRngTest extends VirtioDeviceContract {
    @TempDir
    Path dir;

    @Override
    protected VirtioDevice newDevice() throws Exception {
        return new VirtioRng(VirtioRng.DEFAULT_SOURCE);
    }

    /** A source file whose byte i is i mod 251, so tests know what the guest must receive. */
    private String patternSource(int length) throws Exception {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i % 251);
        }
        Path p = dir.resolve("entropy");
        Files.write(p, b);
        return p.toString();
    }

    private static byte[] pattern(int from, int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) ((from + i) % 251);
        }
        return b;
    }

    @Test
    void identityIsTheEntropyDevice() throws Exception {
        try (VirtioRng rng = new VirtioRng(VirtioRng.DEFAULT_SOURCE)) {
            assertEquals("__rng", rng.id());
            assertEquals(Virtio.VIRTIO_ID_RNG, rng.deviceType());
            assertEquals(0, rng.configSize());
            assertArrayEquals(new int[] {256}, rng.queueMaxSizes());
        }
    }

    @Test
    void missingSourceFailsAtCreation() {
        SyscallException e = assertThrows(SyscallException.class,
                () -> new VirtioRng("/nonexistent/entropy"));
        assertTrue(e.getMessage().contains("/nonexistent/entropy"));
    }

    @Test
    void writableBuffersAreFilledFromTheSource() throws Exception {
        VirtioRng rng = new VirtioRng(patternSource(4096));
        try (DeviceHarness h = new DeviceHarness(rng, 16)) {
            h.activate();
            VirtqueueBuilder q = h.ring(0);
            Buf a = q.writable(16);
            Buf b = q.writable(8);
            int head = q.add(a, b);
            h.kick(0);

            assertEquals(1, q.awaitUsed(1, TIMEOUT_MILLIS));
            assertEquals(head, q.usedId(0));
            assertEquals(24, q.usedLen(0));
            assertArrayEquals(pattern(0, 16), h.ram().memory().read(a.gpa(), 16));
            assertArrayEquals(pattern(16, 8), h.ram().memory().read(b.gpa(), 8));
            assertTrue(h.interrupt().awaitQueueSignals(0, 1, TIMEOUT_MILLIS));
        }
    }

    @Test
    void urandomFillsTheWholeBuffer() throws Exception {
        VirtioRng rng = new VirtioRng(VirtioRng.DEFAULT_SOURCE);
        try (DeviceHarness h = new DeviceHarness(rng, 16)) {
            h.activate();
            VirtqueueBuilder q = h.ring(0);
            Buf a = q.writable(64);
            q.add(a);
            h.kick(0);
            assertEquals(1, q.awaitUsed(1, TIMEOUT_MILLIS));
            assertEquals(64, q.usedLen(0));
            assertFalse(Arrays.equals(new byte[64], h.ram().memory().read(a.gpa(), 64)));
        }
    }

    @Test
    void deviceReadableBuffersAreLeftAlone() throws Exception {
        VirtioRng rng = new VirtioRng(patternSource(64));
        try (DeviceHarness h = new DeviceHarness(rng, 16)) {
            h.activate();
            VirtqueueBuilder q = h.ring(0);
            Buf r = q.readable(new byte[] {9, 9, 9, 9});
            Buf w = q.writable(4);
            q.add(r, w);
            h.kick(0);
            assertEquals(1, q.awaitUsed(1, TIMEOUT_MILLIS));
            assertEquals(4, q.usedLen(0));
            assertArrayEquals(new byte[] {9, 9, 9, 9}, h.ram().memory().read(r.gpa(), 4));
            assertArrayEquals(pattern(0, 4), h.ram().memory().read(w.gpa(), 4));
        }
    }

    @Test
    void anExhaustedSourceReportsWhatItGave() throws Exception {
        VirtioRng rng = new VirtioRng(patternSource(10));
        try (DeviceHarness h = new DeviceHarness(rng, 16)) {
            h.activate();
            VirtqueueBuilder q = h.ring(0);
            q.add(q.writable(16));
            q.add(q.writable(16));
            h.kick(0);
            assertEquals(2, q.awaitUsed(2, TIMEOUT_MILLIS));
            assertEquals(10, q.usedLen(0));
            assertEquals(0, q.usedLen(1));
        }
    }

    @Test
    void aHugeRequestIsCapped() throws Exception {
        VirtioRng rng = new VirtioRng(VirtioRng.DEFAULT_SOURCE);
        try (DeviceHarness h = new DeviceHarness(rng, 16)) {
            h.activate();
            VirtqueueBuilder q = h.ring(0);
            q.add(q.writable(48 * 1024), q.writable(48 * 1024));
            h.kick(0);
            assertEquals(1, q.awaitUsed(1, TIMEOUT_MILLIS));
            assertEquals(VirtioRng.MAX_BYTES_PER_REQUEST, q.usedLen(0));
        }
    }

    @Test
    void manyRequestsAreServedInOrderWithFewInterrupts() throws Exception {
        VirtioRng rng = new VirtioRng(patternSource(4096));
        try (DeviceHarness h = new DeviceHarness(rng, 16)) {
            h.activate();
            VirtqueueBuilder q = h.ring(0);
            q.setUsedEvent(7); // interrupt once all eight are done
            for (int i = 0; i < 8; i++) {
                q.add(q.writable(4));
            }
            h.kick(0);
            assertEquals(8, q.awaitUsed(8, TIMEOUT_MILLIS));
            for (int i = 0; i < 8; i++) {
                assertEquals(4, q.usedLen(i));
            }
            assertTrue(h.interrupt().awaitQueueSignals(0, 1, TIMEOUT_MILLIS));
            assertEquals(8, q.availEvent(), "the device asks to be told about the next one");
        }
    }

    @Test
    void aMalformedRequestFailsAloneAndTheNextIsServed() throws Exception {
        VirtioRng rng = new VirtioRng(patternSource(64));
        try (DeviceHarness h = new DeviceHarness(rng, 16)) {
            h.activate();
            VirtqueueBuilder q = h.ring(0);
            q.writeDesc(0, 0x7FFF_0000_0000L, 16, 2, 0);
            q.publish(0);
            q.writeDesc(1, q.writable(4).gpa(), 4, 2, 0);
            q.publish(1);
            h.kick(0);
            assertEquals(2, q.awaitUsed(2, TIMEOUT_MILLIS));
            assertEquals(0, q.usedLen(0));
            assertEquals(1, q.usedId(1));
            assertEquals(4, q.usedLen(1));
            assertTrue(h.interrupt().resets().isEmpty(), "a bad request is not a bad device");
        }
    }
}
