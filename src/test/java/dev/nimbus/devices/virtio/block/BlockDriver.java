package dev.nimbus.devices.virtio.block;

import static dev.nimbus.devices.virtio.DeviceHarness.TIMEOUT_MILLIS;

import dev.nimbus.devices.virtio.DeviceHarness;
import dev.nimbus.devices.virtio.VirtqueueBuilder;
import dev.nimbus.devices.virtio.VirtqueueBuilder.Buf;
import dev.nimbus.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The guest driver's side of a block queue for tests: builds requests as header, data and status
 * buffers the way Linux's virtio_blk does, publishes them, kicks and waits for the device.
 */
final class BlockDriver {
    /** What the device returned. */
    record Completion(int status, int usedLen, byte[] data, long statusGpa) {}

    private final DeviceHarness harness;
    private final int queue;
    private int completed;

    BlockDriver(DeviceHarness harness, int queue) {
        this.harness = harness;
        this.queue = queue;
    }

    VirtqueueBuilder ring() {
        return harness.ring(queue);
    }

    GuestMemory memory() {
        return harness.ram().memory();
    }

    static byte[] header(int type, long sector) {
        return ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(type).putInt(0)
                .putLong(sector).array();
    }

    static byte[] segment(long sector, int sectors, int flags) {
        return ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(sector)
                .putInt(sectors).putInt(flags).array();
    }

    /** A status buffer preset to 0xFF, so a test sees whether the device wrote it. */
    Buf status() {
        Buf b = ring().writable(1);
        memory().writeByte(b.gpa(), (byte) 0xFF);
        return b;
    }

    Completion read(long sector, int len) throws InterruptedException {
        Buf data = ring().writable(len);
        Buf status = status();
        return submit(data, status, ring().readable(header(BlockRequestHandler.VIRTIO_BLK_T_IN,
                sector)), data, status);
    }

    Completion write(long sector, byte[] bytes) throws InterruptedException {
        Buf status = status();
        return submit(null, status, ring().readable(header(BlockRequestHandler.VIRTIO_BLK_T_OUT,
                sector)), ring().readable(bytes), status);
    }

    Completion simple(int type, long sector) throws InterruptedException {
        Buf status = status();
        return submit(null, status, ring().readable(header(type, sector)), status);
    }

    Completion getId(int len) throws InterruptedException {
        Buf data = ring().writable(len);
        Buf status = status();
        return submit(data, status,
                ring().readable(header(BlockRequestHandler.VIRTIO_BLK_T_GET_ID, 0)), data, status);
    }

    Completion discardOrZero(int type, long sector, int sectors, int flags)
            throws InterruptedException {
        Buf status = status();
        return submit(null, status, ring().readable(header(type, 0)),
                ring().readable(segment(sector, sectors, flags)), status);
    }

    /**
     * Publishes {@code bufs} as one chain and waits for it; {@code data} (may be null) is read
     * back, {@code status} is the status buffer (may be null).
     */
    Completion submit(Buf data, Buf status, Buf... bufs) throws InterruptedException {
        ring().add(bufs);
        harness.kick(queue);
        completed++;
        int used = ring().awaitUsed(completed, TIMEOUT_MILLIS);
        if (used != completed) {
            throw new AssertionError("device did not complete the request: used=" + used);
        }
        int len = ring().usedLen(completed - 1);
        byte[] bytes = data == null ? null : memory().read(data.gpa(), (int) data.len());
        int s = status == null ? -1 : memory().readByte(status.gpa()) & 0xFF;
        return new Completion(s, len, bytes, status == null ? 0 : status.gpa());
    }

    /** Counts a request completed by other means (raw chains). */
    void expectCompleted(int n) {
        completed += n;
    }

    int completed() {
        return completed;
    }
}
