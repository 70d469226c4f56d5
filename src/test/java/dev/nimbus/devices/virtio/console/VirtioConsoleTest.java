package dev.nimbus.devices.virtio.console;

import static dev.nimbus.devices.virtio.DeviceHarness.TIMEOUT_MILLIS;
import static dev.nimbus.devices.virtio.console.VirtioConsole.RECEIVEQ;
import static dev.nimbus.devices.virtio.console.VirtioConsole.TRANSMITQ;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.devices.ConsoleOutput;
import dev.nimbus.devices.virtio.DeviceHarness;
import dev.nimbus.devices.virtio.Virtio;
import dev.nimbus.devices.virtio.VirtioDevice;
import dev.nimbus.devices.virtio.VirtioDeviceContract;
import dev.nimbus.devices.virtio.VirtqueueBuilder;
import dev.nimbus.devices.virtio.VirtqueueBuilder.Buf;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class VirtioConsoleTest extends VirtioDeviceContract {
    /** Captures what the guest writes. */
    static final class Captured implements ConsoleOutput {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        public synchronized void write(byte b) {
            bytes.write(b);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            bytes.write(b, off, len);
        }

        synchronized String text() {
            return bytes.toString(StandardCharsets.US_ASCII);
        }

        @Override
        public void close() {}
    }

    private final Captured out = new Captured();

    @Override
    protected VirtioDevice newDevice() throws Exception {
        return new VirtioConsole(out);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private void feed(VirtioConsole console, String s) {
        for (byte b : ascii(s)) {
            assertTrue(console.receive(b));
        }
    }

    @Test
    void identityAndFeaturesMatchASinglePortConsole() throws Exception {
        try (VirtioConsole c = new VirtioConsole(out)) {
            assertEquals("__console", c.id());
            assertEquals(Virtio.VIRTIO_ID_CONSOLE, c.deviceType());
            assertEquals(2, c.queueMaxSizes().length);
            assertTrue(Virtio.has(c.deviceFeatures(), VirtioConsole.VIRTIO_CONSOLE_F_SIZE));
            assertTrue(Virtio.has(c.deviceFeatures(), VirtioConsole.VIRTIO_CONSOLE_F_EMERG_WRITE));
            assertFalse(Virtio.has(c.deviceFeatures(), VirtioConsole.VIRTIO_CONSOLE_F_MULTIPORT));
        }
    }

    @Test
    void transmittedBuffersReachTheOutput() throws Exception {
        VirtioConsole console = new VirtioConsole(out);
        try (DeviceHarness h = new DeviceHarness(console, 16)) {
            h.activate();
            VirtqueueBuilder tx = h.ring(TRANSMITQ);
            tx.add(tx.readable(ascii("hello ")), tx.readable(ascii("world\n")));
            tx.add(tx.readable(ascii("$ ")));
            h.kick(TRANSMITQ);

            assertEquals(2, tx.awaitUsed(2, TIMEOUT_MILLIS));
            assertEquals("hello world\n$ ", out.text());
            assertEquals(0, tx.usedLen(0), "nothing was written into the guest's buffers");
            assertTrue(h.interrupt().awaitQueueSignals(TRANSMITQ, 1, TIMEOUT_MILLIS));
        }
    }

    @Test
    void bigOutputIsCopiedWhole() throws Exception {
        VirtioConsole console = new VirtioConsole(out);
        try (DeviceHarness h = new DeviceHarness(console, 16)) {
            h.activate();
            VirtqueueBuilder tx = h.ring(TRANSMITQ);
            byte[] big = ascii("0123456789abcdef".repeat(1000));
            tx.add(tx.readable(big));
            h.kick(TRANSMITQ);
            assertEquals(1, tx.awaitUsed(1, TIMEOUT_MILLIS));
            assertEquals(new String(big, StandardCharsets.US_ASCII), out.text());
        }
    }

    @Test
    void inputTypedBeforeTheDriverIsReadyWaitsForReceiveBuffers() throws Exception {
        VirtioConsole console = new VirtioConsole(out);
        try (DeviceHarness h = new DeviceHarness(console, 16)) {
            feed(console, "ls\n");
            h.activate();
            VirtqueueBuilder rx = h.ring(RECEIVEQ);
            Buf buf = rx.writable(8);
            rx.add(buf);
            h.kick(RECEIVEQ);

            assertEquals(1, rx.awaitUsed(1, TIMEOUT_MILLIS));
            assertEquals(3, rx.usedLen(0));
            assertArrayEquals(ascii("ls\n"), h.ram().memory().read(buf.gpa(), 3));
            assertTrue(h.interrupt().awaitQueueSignals(RECEIVEQ, 1, TIMEOUT_MILLIS));
        }
    }

    @Test
    void inputArrivingLaterFillsBuffersAlreadyPosted() throws Exception {
        VirtioConsole console = new VirtioConsole(out);
        try (DeviceHarness h = new DeviceHarness(console, 16)) {
            h.activate();
            VirtqueueBuilder rx = h.ring(RECEIVEQ);
            Buf[] bufs = new Buf[10];
            for (int i = 0; i < bufs.length; i++) {
                bufs[i] = rx.writable(4);
                rx.add(bufs[i]);
            }
            h.kick(RECEIVEQ);
            Thread.sleep(20);
            assertEquals(0, rx.usedIdx(), "no input, no completion");

            // Bytes go to the guest as they arrive, so they may spread over several buffers;
            // in order, none lost, none longer than its buffer.
            feed(console, "0123456789");
            StringBuilder got = new StringBuilder();
            long deadline = System.nanoTime() + TIMEOUT_MILLIS * 1_000_000;
            int seen = 0;
            while (got.length() < 10 && System.nanoTime() < deadline) {
                for (; seen < rx.usedIdx(); seen++) {
                    int len = rx.usedLen(seen);
                    assertTrue(len >= 1 && len <= 4, "len=" + len);
                    assertEquals(seen, rx.usedId(seen), "buffers are used in order");
                    got.append(new String(h.ram().memory().read(bufs[seen].gpa(), len),
                            StandardCharsets.US_ASCII));
                }
                Thread.sleep(1);
            }
            assertEquals("0123456789", got.toString());
        }
    }

    @Test
    void inputBeyondTheBufferIsRefusedAndCounted() throws Exception {
        try (VirtioConsole console = new VirtioConsole(out)) {
            for (int i = 0; i < VirtioConsole.INPUT_CAPACITY; i++) {
                assertTrue(console.receive((byte) 'x'));
            }
            assertFalse(console.receive((byte) 'y'));
            assertEquals(1, console.droppedInput());
        }
    }

    @Test
    void emergencyWriteOutputsAByteEvenBeforeActivation() throws Exception {
        try (VirtioConsole console = new VirtioConsole(out)) {
            console.writeConfig(VirtioConsole.CONFIG_EMERG_WR, 4, '!');
            console.writeConfig(VirtioConsole.CONFIG_COLS, 2, 99);
            assertEquals("!", out.text());
            assertEquals(0, console.readConfig(VirtioConsole.CONFIG_COLS, 2),
                    "cols are read-only");
        }
    }

    @Test
    void configurationShowsTheSizeAndOnePort() throws Exception {
        VirtioConsole console = new VirtioConsole(out);
        try (DeviceHarness h = new DeviceHarness(console, 16)) {
            console.setSize(132, 43);
            assertEquals(132, console.readConfig(VirtioConsole.CONFIG_COLS, 2));
            assertEquals(43, console.readConfig(VirtioConsole.CONFIG_ROWS, 2));
            assertEquals(132 | 43 << 16, console.readConfig(0, 4));
            assertEquals(1, console.readConfig(VirtioConsole.CONFIG_MAX_NR_PORTS, 4));
            assertEquals(0, console.readConfig(VirtioConsole.CONFIG_EMERG_WR, 4));
            assertEquals(0, h.interrupt().configChanges(), "no driver to tell yet");

            h.activate();
            console.setSize(80, 25);
            assertEquals(1, h.interrupt().configChanges());
        }
    }

    @Test
    void sizeChangesAreNotSignalledWithoutTheSizeFeature() throws Exception {
        VirtioConsole console = new VirtioConsole(out);
        try (DeviceHarness h = new DeviceHarness(console, 16)) {
            h.activate(Virtio.RING_FEATURES);
            console.setSize(80, 25);
            assertEquals(0, h.interrupt().configChanges());
        }
    }
}
