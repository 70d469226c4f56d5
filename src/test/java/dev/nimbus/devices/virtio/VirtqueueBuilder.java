package dev.nimbus.devices.virtio;

import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.nimbus.memory.GuestMemory;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Plays the driver's side of a split virtqueue in fake guest memory: lays out the descriptor
 * table, available ring and used ring the way a driver does (2.7), writes descriptor chains
 * (direct and indirect) into a data area after the rings, publishes them with a release store of
 * the available index, and reads back what the device put in the used ring.
 *
 * <p>It also writes whatever a broken or hostile driver would: raw descriptors, any available
 * index, any head.
 */
public final class VirtqueueBuilder {
    private static final VarHandle INDEX = JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN)
            .varHandle();

    /** A buffer a chain refers to. */
    public record Buf(long gpa, long len, boolean writable) {}

    private final GuestMemory memory;
    private final int size;
    private final long desc;
    private final long avail;
    private final long used;
    private long dataNext;
    private final long dataEnd;
    private int nextDesc;
    private int availIdx;

    /**
     * A queue of {@code size} entries with its rings from {@code base} and a data area up to
     * {@code base + span}.
     */
    public VirtqueueBuilder(GuestMemory memory, int size, long base, long span) {
        this.memory = memory;
        this.size = size;
        this.desc = base;
        this.avail = base + 16L * size;
        this.used = alignUp(avail + 6 + 2L * size, 4096);
        this.dataNext = alignUp(used + 6 + 8L * size, 4096);
        this.dataEnd = base + span;
        memory.zero(base, dataNext - base);
    }

    /** A queue at guest address {@code base} with 256 KiB for rings and data. */
    public VirtqueueBuilder(GuestMemory memory, int size, long base) {
        this(memory, size, base, 256 * 1024);
    }

    private static long alignUp(long v, long a) {
        return (v + a - 1) & -a;
    }

    public int size() {
        return size;
    }

    public long descGpa() {
        return desc;
    }

    public long availGpa() {
        return avail;
    }

    public long usedGpa() {
        return used;
    }

    /** The device's view of this queue. */
    public Virtqueue create(long features) throws VirtqueueException {
        return Virtqueue.create("test q0", memory, size, size, desc, avail, used, features);
    }

    /** Reserves {@code len} bytes (16-aligned) in the data area. */
    public long alloc(long len) {
        long at = dataNext;
        dataNext = alignUp(at + Math.max(len, 1), 16);
        if (dataNext > dataEnd) {
            throw new IllegalStateException("VirtqueueBuilder data area exhausted");
        }
        return at;
    }

    /** A device-readable buffer holding {@code bytes}. */
    public Buf readable(byte[] bytes) {
        long at = alloc(bytes.length);
        memory.write(at, bytes);
        return new Buf(at, bytes.length, false);
    }

    /** A zeroed device-writable buffer of {@code len} bytes. */
    public Buf writable(int len) {
        long at = alloc(len);
        memory.zero(at, len);
        return new Buf(at, len, true);
    }

    /** Writes descriptor {@code index} of the table at {@code table} as given. */
    public void writeDesc(long table, int index, long addr, long len, int flags, int next) {
        long d = table + 16L * index;
        memory.writeLong(d, addr);
        memory.writeInt(d + 8, (int) len);
        memory.writeShort(d + 12, (short) flags);
        memory.writeShort(d + 14, (short) next);
    }

    /** Writes descriptor {@code index} of the queue's own table. */
    public void writeDesc(int index, long addr, long len, int flags, int next) {
        writeDesc(desc, index, addr, len, flags, next);
    }

    /** Writes {@code bufs} as a chain of consecutive free descriptors; returns its head. */
    public int chain(Buf... bufs) {
        int head = nextDesc % size;
        for (int i = 0; i < bufs.length; i++) {
            int index = (nextDesc + i) % size;
            boolean last = i == bufs.length - 1;
            writeDesc(index, bufs[i].gpa(), bufs[i].len(),
                    (bufs[i].writable() ? Virtqueue.VIRTQ_DESC_F_WRITE : 0)
                            | (last ? 0 : Virtqueue.VIRTQ_DESC_F_NEXT),
                    last ? 0 : (index + 1) % size);
        }
        nextDesc += bufs.length;
        return head;
    }

    /** Writes {@code bufs} into an indirect table; returns the address of the table. */
    public long indirectTable(Buf... bufs) {
        long table = alloc(16L * bufs.length);
        for (int i = 0; i < bufs.length; i++) {
            boolean last = i == bufs.length - 1;
            writeDesc(table, i, bufs[i].gpa(), bufs[i].len(),
                    (bufs[i].writable() ? Virtqueue.VIRTQ_DESC_F_WRITE : 0)
                            | (last ? 0 : Virtqueue.VIRTQ_DESC_F_NEXT),
                    last ? 0 : i + 1);
        }
        return table;
    }

    /** One descriptor pointing at an indirect table holding {@code bufs}; returns its index. */
    public int indirectChain(Buf... bufs) {
        long table = indirectTable(bufs);
        int head = nextDesc++ % size;
        writeDesc(head, table, 16L * bufs.length, Virtqueue.VIRTQ_DESC_F_INDIRECT, 0);
        return head;
    }

    /** Puts {@code head} in the available ring and publishes it (2.7.13). */
    public void publish(int head) {
        memory.writeShort(avail + 4 + 2L * (availIdx % size), (short) head);
        availIdx = (availIdx + 1) & 0xFFFF;
        INDEX.setRelease(slice(avail + 2), 0L, (short) availIdx);
    }

    /** {@link #chain} then {@link #publish}; returns the head. */
    public int add(Buf... bufs) {
        int head = chain(bufs);
        publish(head);
        return head;
    }

    /** Overwrites the available index, as a broken driver might. */
    public void setAvailIdx(int idx) {
        availIdx = idx & 0xFFFF;
        INDEX.setRelease(slice(avail + 2), 0L, (short) availIdx);
    }

    public void setAvailFlags(int flags) {
        memory.writeShort(avail, (short) flags);
    }

    /** Sets {@code used_event} (VIRTIO_F_EVENT_IDX): interrupt me once used idx passes it. */
    public void setUsedEvent(int value) {
        memory.writeShort(avail + 4 + 2L * size, (short) value);
    }

    /** The device's {@code avail_event}. */
    public int availEvent() {
        return Short.toUnsignedInt(memory.readShort(used + 4 + 8L * size));
    }

    public int usedFlags() {
        return Short.toUnsignedInt(memory.readShort(used));
    }

    /** The device's used index, read with acquire ordering. */
    public int usedIdx() {
        return Short.toUnsignedInt((short) INDEX.getAcquire(slice(used + 2), 0L));
    }

    /** The id (head) of used element {@code i}. */
    public int usedId(int i) {
        return memory.readInt(used + 4 + 8L * (i % size));
    }

    /** The length of used element {@code i}. */
    public int usedLen(int i) {
        return memory.readInt(used + 4 + 8L * (i % size) + 4);
    }

    /** Waits until the used index reaches {@code count}; returns it. */
    public int awaitUsed(int count, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (((usedIdx() - count) & 0x8000) != 0 && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        return usedIdx();
    }

    private MemorySegment slice(long gpa) {
        return memory.slice(gpa, 2);
    }
}
