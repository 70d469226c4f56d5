package dev.nimbus.devices.virtio;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import dev.nimbus.log.RateLimitedLog;
import dev.nimbus.memory.GuestMemory;
import dev.nimbus.memory.GuestMemoryException;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The device side of a split virtqueue (virtio 1.2, 2.7): the descriptor table, the available
 * ring the driver fills and the used ring the device fills, all in guest memory.
 *
 * <p>{@link #pop()} walks the next available chain, checking every descriptor against guest
 * memory and the rules of 2.7.5, and hands it out as a {@link DescriptorChain} of guest memory
 * slices. A malformed chain (a buffer outside RAM, a loop, a chain longer than the queue, a
 * nested or badly sized indirect table, a bad head or next index, a readable buffer after a
 * writable one) fails that request only: it goes back to the used ring with length 0, is counted
 * in {@link #malformedChains()} and logged at a limited rate, and {@code pop} moves on. A ring
 * that cannot be used at all raises {@link VirtqueueException}, for the device to set
 * DEVICE_NEEDS_RESET.
 *
 * <p>Both notification directions honour VIRTIO_F_EVENT_IDX when negotiated: {@link
 * #needsNotification()} for used buffers (2.7.7) and {@link #enableNotification()} for available
 * buffers (2.7.10).
 *
 * <p>Not thread-safe: one device thread owns a queue between activation and reset.
 */
public final class Virtqueue {
    private static final RateLimitedLog CHAIN_ERRORS =
            new RateLimitedLog(System.getLogger(Virtqueue.class.getName()));

    // struct virtq_desc, 2.7.5.
    public static final int VIRTQ_DESC_SIZE = 16;
    public static final int VIRTQ_DESC_F_NEXT = 1;
    public static final int VIRTQ_DESC_F_WRITE = 2;
    public static final int VIRTQ_DESC_F_INDIRECT = 4;
    // struct virtq_avail, 2.7.6, and struct virtq_used, 2.7.8.
    public static final int VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
    public static final int VIRTQ_USED_F_NO_NOTIFY = 1;
    public static final int VIRTQ_USED_ELEM_SIZE = 8;
    /** The largest split queue, 2.7: Queue Size is at most 32768. */
    public static final int MAX_QUEUE_SIZE = 32768;
    // Alignment of the three parts, the table in 2.7.
    public static final int DESC_TABLE_ALIGN = 16;
    public static final int AVAIL_RING_ALIGN = 2;
    public static final int USED_RING_ALIGN = 4;

    private static final ValueLayout.OfShort U16 = JAVA_SHORT_UNALIGNED
            .withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = JAVA_INT_UNALIGNED
            .withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = JAVA_LONG_UNALIGNED
            .withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Aligned 16-bit access with memory-ordering modes, for the two ring indices. */
    private static final VarHandle INDEX = JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN)
            .varHandle();

    private static final long AVAIL_FLAGS = 0;
    private static final long AVAIL_IDX = 2;
    private static final long AVAIL_RING = 4;
    private static final long USED_FLAGS = 0;
    private static final long USED_IDX = 2;
    private static final long USED_RING = 4;

    private final String name;
    private final GuestMemory memory;
    private final int size;
    private final boolean indirectDesc;
    private final boolean eventIdx;
    private final MemorySegment descTable;
    private final MemorySegment availRing;
    private final MemorySegment usedRing;
    private final long usedEventOffset;
    private final long availEventOffset;
    private final long descGpa;
    private final long availGpa;
    private final long usedGpa;

    private int nextAvail;
    private int nextUsed;
    private int signalledUsed;
    private boolean signalledUsedValid;
    private boolean broken;
    private long malformedChains;

    private Virtqueue(String name, GuestMemory memory, int size, long features,
            long descGpa, long availGpa, long usedGpa,
            MemorySegment descTable, MemorySegment availRing, MemorySegment usedRing) {
        this.descGpa = descGpa;
        this.availGpa = availGpa;
        this.usedGpa = usedGpa;
        this.name = name;
        this.memory = memory;
        this.size = size;
        this.indirectDesc = Virtio.has(features, Virtio.VIRTIO_F_INDIRECT_DESC);
        this.eventIdx = Virtio.has(features, Virtio.VIRTIO_F_EVENT_IDX);
        this.descTable = descTable;
        this.availRing = availRing;
        this.usedRing = usedRing;
        this.usedEventOffset = AVAIL_RING + 2L * size;
        this.availEventOffset = USED_RING + (long) VIRTQ_USED_ELEM_SIZE * size;
    }

    /**
     * A queue of {@code size} entries whose parts the driver placed at {@code descGpa} (Descriptor
     * Area), {@code availGpa} (Driver Area) and {@code usedGpa} (Device Area).
     *
     * @param name for logs, e.g. {@code __rng q0}
     * @param maxSize the largest size the device offered for this queue
     * @param features the negotiated feature bits
     * @throws VirtqueueException if the size or a part's address breaks 2.7's rules
     */
    public static Virtqueue create(String name, GuestMemory memory, int size, int maxSize,
            long descGpa, long availGpa, long usedGpa, long features) throws VirtqueueException {
        if (size <= 0 || size > Math.min(maxSize, MAX_QUEUE_SIZE) || Integer.bitCount(size) != 1) {
            throw new VirtqueueException(String.format(
                    "%s: queue size is not a power of two up to the maximum: size=%d max=%d",
                    name, size, maxSize));
        }
        checkAlignment(name, "descriptor table", descGpa, DESC_TABLE_ALIGN);
        checkAlignment(name, "available ring", availGpa, AVAIL_RING_ALIGN);
        checkAlignment(name, "used ring", usedGpa, USED_RING_ALIGN);
        // Sizes from the table in 2.7; the event fields are always laid out.
        MemorySegment desc = part(name, "descriptor table", memory, descGpa,
                (long) VIRTQ_DESC_SIZE * size);
        MemorySegment avail = part(name, "available ring", memory, availGpa, 6 + 2L * size);
        MemorySegment used = part(name, "used ring", memory, usedGpa,
                6 + (long) VIRTQ_USED_ELEM_SIZE * size);
        return new Virtqueue(name, memory, size, features, descGpa, availGpa, usedGpa, desc, avail,
                used);
    }

    private static void checkAlignment(String name, String part, long gpa, int alignment)
            throws VirtqueueException {
        if ((gpa & (alignment - 1)) != 0) {
            throw new VirtqueueException(String.format(
                    "%s: %s is not %d-byte aligned: gpa=0x%x", name, part, alignment, gpa));
        }
    }

    private static MemorySegment part(String name, String part, GuestMemory memory, long gpa,
            long length) throws VirtqueueException {
        try {
            return memory.slice(gpa, length);
        } catch (GuestMemoryException e) {
            throw new VirtqueueException(String.format(
                    "%s: %s is outside guest memory: gpa=0x%x len=%d", name, part, gpa, length));
        }
    }

    public int size() {
        return size;
    }

    public String name() {
        return name;
    }

    /** Guest physical address of the descriptor table (Descriptor Area). */
    public long descGpa() {
        return descGpa;
    }

    /** Guest physical address of the available ring (Driver Area). */
    public long availGpa() {
        return availGpa;
    }

    /** Guest physical address of the used ring (Device Area). */
    public long usedGpa() {
        return usedGpa;
    }

    /**
     * Continues where another device instance left the queue: the next available index to take
     * and the used index already published. A vhost-user back-end gets the first from
     * SET_VRING_BASE and reads the second from the used ring; call before the first {@link #pop}.
     */
    public void restoreIndices(int nextAvail, int nextUsed) {
        this.nextAvail = nextAvail & 0xFFFF;
        this.nextUsed = nextUsed & 0xFFFF;
        this.signalledUsedValid = false;
    }

    /** The used index as it stands in guest memory (what a driver sees published). */
    public int publishedUsedIndex() {
        return Short.toUnsignedInt((short) INDEX.getAcquire(usedRing, USED_IDX));
    }

    /** Whether VIRTIO_F_EVENT_IDX was negotiated for this queue. */
    public boolean eventIdx() {
        return eventIdx;
    }

    /** The index in the available ring the next {@link #pop()} looks at (mod 2^16). */
    public int nextAvail() {
        return nextAvail;
    }

    /** The used index this device has published (mod 2^16). */
    public int nextUsed() {
        return nextUsed;
    }

    /** Chains rejected as malformed since activation. */
    public long malformedChains() {
        return malformedChains;
    }

    /** Whether the driver has made buffers available that {@link #pop()} has not taken. */
    public boolean hasAvailable() {
        return !broken && availIdx() != nextAvail;
    }

    /** The driver's available index. */
    private int availIdx() {
        // 2.7.13.3: the driver publishes ring entries (and the descriptors behind them) before
        // it updates idx; the acquire load keeps our reads of those entries after this one.
        return Short.toUnsignedInt((short) INDEX.getAcquire(availRing, AVAIL_IDX));
    }

    /**
     * The next available chain, or null when the driver has made none available. Malformed
     * chains are completed with length 0 and skipped.
     *
     * @throws VirtqueueException if the available index ran further ahead than the ring holds;
     *     the queue then stays unusable until reset
     */
    public DescriptorChain pop() throws VirtqueueException {
        while (!broken) {
            int availIdx = availIdx();
            if (availIdx == nextAvail) {
                return null;
            }
            int outstanding = (availIdx - nextAvail) & 0xFFFF;
            if (outstanding > size) {
                broken = true;
                throw new VirtqueueException(String.format(
                        "%s: available index ran ahead of the ring: avail_idx=%d next=%d size=%d",
                        name, availIdx, nextAvail, size));
            }
            int slot = nextAvail & (size - 1);
            int head = Short.toUnsignedInt(availRing.get(U16, AVAIL_RING + 2L * slot));
            nextAvail = (nextAvail + 1) & 0xFFFF;
            try {
                return walk(head);
            } catch (MalformedChain e) {
                malformedChains++;
                CHAIN_ERRORS.log(Level.WARNING, () -> String.format(
                        "%s: dropped malformed descriptor chain head=%d: %s", name, head,
                        e.getMessage()));
                if (head < size) {
                    addUsed(head, 0);
                }
            }
        }
        return null;
    }

    /** Follows the chain from {@code head}, checking each descriptor. */
    private DescriptorChain walk(int head) throws MalformedChain {
        if (head >= size) {
            throw new MalformedChain("head index out of range: size=" + size);
        }
        List<MemorySegment> readable = new ArrayList<>(4);
        List<MemorySegment> writable = new ArrayList<>(4);
        MemorySegment table = descTable;
        long tableEntries = size;
        boolean inIndirect = false;
        int i = head;
        int buffers = 0;
        long totalBytes = 0;
        while (true) {
            long d = (long) i * VIRTQ_DESC_SIZE;
            long addr = table.get(U64, d);
            long len = Integer.toUnsignedLong(table.get(U32, d + 8));
            int flags = Short.toUnsignedInt(table.get(U16, d + 12));
            int next = Short.toUnsignedInt(table.get(U16, d + 14));

            if ((flags & VIRTQ_DESC_F_INDIRECT) != 0) {
                // 2.7.5.3.1: one table per chain, never chained on, only when negotiated.
                if (!indirectDesc) {
                    throw new MalformedChain("indirect descriptor without VIRTIO_F_INDIRECT_DESC");
                }
                if (inIndirect) {
                    throw new MalformedChain("nested indirect table");
                }
                if ((flags & VIRTQ_DESC_F_NEXT) != 0) {
                    throw new MalformedChain("indirect descriptor with VIRTQ_DESC_F_NEXT");
                }
                if (len == 0 || len % VIRTQ_DESC_SIZE != 0
                        || len / VIRTQ_DESC_SIZE > 0x1_0000) {
                    throw new MalformedChain("indirect table length is not a positive multiple"
                            + " of 16 up to 1 MiB: len=" + len);
                }
                table = slice(addr, len, "indirect table");
                tableEntries = len / VIRTQ_DESC_SIZE;
                inIndirect = true;
                i = 0;
                continue;
            }

            // 2.7.5.3.1 bounds a chain by the queue size; this also ends any loop.
            if (++buffers > size) {
                throw new MalformedChain("chain longer than the queue size " + size);
            }
            totalBytes += len;
            if (totalBytes > 0xFFFF_FFFFL) {
                throw new MalformedChain("chain longer than 4 GiB");
            }
            MemorySegment buffer = slice(addr, len, "buffer");
            if ((flags & VIRTQ_DESC_F_WRITE) != 0) {
                writable.add(buffer);
            } else if (!writable.isEmpty()) {
                // 2.7.4.2: device-writable buffers come after all device-readable ones.
                throw new MalformedChain("device-readable buffer after a device-writable one");
            } else {
                readable.add(buffer);
            }

            if ((flags & VIRTQ_DESC_F_NEXT) == 0) {
                return new DescriptorChain(head, readable, writable);
            }
            if (next >= tableEntries) {
                throw new MalformedChain("next index out of range: next=" + next
                        + " entries=" + tableEntries);
            }
            i = next;
        }
    }

    private MemorySegment slice(long gpa, long len, String what) throws MalformedChain {
        try {
            return memory.slice(gpa, len);
        } catch (GuestMemoryException e) {
            throw new MalformedChain(String.format("%s outside guest memory: gpa=0x%x len=%d",
                    what, gpa, len));
        }
    }

    /**
     * Returns chain {@code head} to the driver with {@code len} bytes written into its writable
     * buffers.
     */
    public void addUsed(int head, int len) {
        long elem = USED_RING + (long) VIRTQ_USED_ELEM_SIZE * (nextUsed & (size - 1));
        usedRing.set(U32, elem, head);
        usedRing.set(U32, elem + 4, len);
        nextUsed = (nextUsed + 1) & 0xFFFF;
        // 2.7.8.2: the element (and the data it describes) must be visible before the new idx;
        // the release store orders every earlier store before it.
        INDEX.setRelease(usedRing, USED_IDX, (short) nextUsed);
    }

    /**
     * Whether the driver wants an interrupt for the buffers used since the last call: with
     * VIRTIO_F_EVENT_IDX, when the used index passed the driver's {@code used_event} (2.7.7);
     * without, unless it set VIRTQ_AVAIL_F_NO_INTERRUPT. False when nothing was used since.
     */
    public boolean needsNotification() {
        // 2.7.7: our used idx store must be visible before we read the driver's suppression
        // state, or the driver could update used_event after our read without seeing the new
        // idx and both sides would wait. Store then load: only a full fence orders that.
        VarHandle.fullFence();
        int newUsed = nextUsed;
        int old = signalledUsed;
        boolean valid = signalledUsedValid;
        signalledUsed = newUsed;
        signalledUsedValid = true;
        if (valid && old == newUsed) {
            return false;
        }
        if (!eventIdx) {
            int flags = Short.toUnsignedInt(availRing.get(U16, AVAIL_FLAGS));
            return (flags & VIRTQ_AVAIL_F_NO_INTERRUPT) == 0;
        }
        if (!valid) {
            return true;
        }
        int usedEvent = Short.toUnsignedInt(availRing.get(U16, usedEventOffset));
        // vring_need_event() of the spec's virtio_ring.h: did idx step past used_event?
        return ((newUsed - usedEvent - 1) & 0xFFFF) < ((newUsed - old) & 0xFFFF);
    }

    /**
     * Asks the driver not to notify for new buffers (a hint, 2.7.10). With VIRTIO_F_EVENT_IDX
     * nothing needs writing: the driver only notifies when it passes {@code avail_event}.
     */
    public void disableNotification() {
        if (!eventIdx) {
            usedRing.set(U16, USED_FLAGS, (short) VIRTQ_USED_F_NO_NOTIFY);
        }
    }

    /**
     * Asks the driver to notify when it makes the next buffer available, then returns whether one
     * arrived already (the caller then keeps processing instead of waiting).
     */
    public boolean enableNotification() {
        if (eventIdx) {
            usedRing.set(U16, availEventOffset, (short) nextAvail);
        } else {
            usedRing.set(U16, USED_FLAGS, (short) 0);
        }
        // 2.7.10: the driver reads our flags/avail_event after publishing its idx; we must make
        // our store visible before re-reading idx, or a buffer added in between goes unnoticed.
        VarHandle.fullFence();
        return hasAvailable();
    }

    /** A chain broke a rule; only its request fails. Carries no stack trace: it is routine. */
    private static final class MalformedChain extends Exception {
        private static final long serialVersionUID = 1L;

        MalformedChain(String message) {
            super(message, null, false, false);
        }
    }
}
