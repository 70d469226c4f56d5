package dev.nimbus.vhost;

import dev.nimbus.memory.GuestMemory;
import dev.nimbus.memory.GuestRegion;
import dev.nimbus.sys.Linux;
import dev.nimbus.sys.SyscallException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The front-end's guest memory as a back-end maps it from SET_MEM_TABLE: each region's
 * descriptor mapped shared, wrapped as a {@link GuestMemory} so the same device engines run on
 * it, plus the translation from the front-end's own addresses (which the vring addresses are
 * given in) to guest physical addresses.
 *
 * <p>A region (struct VhostUserMemoryRegion) is four u64s: guest physical address, size, the
 * front-end's user address and the offset of the region in the descriptor.
 */
public final class MemoryTable implements AutoCloseable {
    private static final long PAGE_SIZE = 4096;

    /** One region as the front-end described it. */
    public record Region(long guestAddress, long size, long userAddress, long mmapOffset) {}

    private final List<Region> regions;
    private final GuestMemory memory;
    private final Arena arena;

    private MemoryTable(List<Region> regions, GuestMemory memory, Arena arena) {
        this.regions = regions;
        this.memory = memory;
        this.arena = arena;
    }

    /**
     * Maps the regions of a SET_MEM_TABLE message. Takes ownership of the message's descriptors:
     * they are closed here whatever happens (a mapping outlives its descriptor).
     *
     * @throws VhostUserException if the table is malformed, regions overlap, or a descriptor
     *     cannot be mapped
     */
    public static MemoryTable map(VhostUserMessage message) throws VhostUserException {
        int[] fds = message.fds();
        Arena arena = Arena.ofShared();
        try {
            List<Region> regions = parse(message.payload(), fds.length);
            List<GuestRegion> mapped = new ArrayList<>();
            for (int i = 0; i < regions.size(); i++) {
                mapped.add(mapRegion(regions.get(i), fds[i], arena, i));
            }
            GuestMemory memory;
            try {
                memory = GuestMemory.of(mapped);
            } catch (IllegalArgumentException e) {
                throw new VhostUserException("SET_MEM_TABLE: " + e.getMessage());
            }
            return new MemoryTable(List.copyOf(regions), memory, arena);
        } catch (VhostUserException | RuntimeException e) {
            arena.close();
            throw e;
        } finally {
            VhostUserChannel.closeAll(fds);
        }
    }

    /** Checks the table's shape: 1 to 8 regions, one descriptor each, sane and disjoint. */
    static List<Region> parse(byte[] payload, int fdCount) throws VhostUserException {
        if (payload.length < VhostUser.MEMORY_TABLE_HEADER_SIZE) {
            throw new VhostUserException("SET_MEM_TABLE: payload too short: size="
                    + payload.length);
        }
        ByteBuffer b = ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN);
        int n = b.getInt(0);
        if (n < 1 || n > VhostUser.VHOST_MEMORY_BASELINE_NREGIONS) {
            throw new VhostUserException("SET_MEM_TABLE: region count out of range: nregions="
                    + Integer.toUnsignedLong(n));
        }
        if (payload.length < VhostUser.MEMORY_TABLE_HEADER_SIZE + n * VhostUser.MEMORY_REGION_SIZE) {
            throw new VhostUserException("SET_MEM_TABLE: payload too short for " + n
                    + " regions: size=" + payload.length);
        }
        if (fdCount != n) {
            throw new VhostUserException("SET_MEM_TABLE: " + n + " regions but " + fdCount
                    + " descriptors");
        }
        List<Region> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int o = VhostUser.MEMORY_TABLE_HEADER_SIZE + i * VhostUser.MEMORY_REGION_SIZE;
            Region r = new Region(b.getLong(o), b.getLong(o + 8), b.getLong(o + 16),
                    b.getLong(o + 24));
            if (r.size() <= 0 || r.mmapOffset() < 0
                    || r.guestAddress() + r.size() < r.guestAddress()
                    || r.userAddress() + r.size() < r.userAddress()
                    || r.mmapOffset() + r.size() < 0) {
                throw new VhostUserException(String.format(
                        "SET_MEM_TABLE: bad region %d: gpa=0x%x size=0x%x uva=0x%x offset=0x%x",
                        i, r.guestAddress(), r.size(), r.userAddress(), r.mmapOffset()));
            }
            for (Region other : list) {
                if (overlap(r.guestAddress(), other.guestAddress(), r.size(), other.size())
                        || overlap(r.userAddress(), other.userAddress(), r.size(),
                                other.size())) {
                    throw new VhostUserException(String.format(
                            "SET_MEM_TABLE: region %d overlaps another: gpa=0x%x uva=0x%x", i,
                            r.guestAddress(), r.userAddress()));
                }
            }
            list.add(r);
        }
        return list;
    }

    private static boolean overlap(long a, long b, long aSize, long bSize) {
        return Long.compareUnsigned(a, b + bSize) < 0 && Long.compareUnsigned(b, a + aSize) < 0;
    }

    private static GuestRegion mapRegion(Region r, int fd, Arena arena, int index)
            throws VhostUserException {
        // mmap needs a page-aligned offset; map from the page holding the region's start.
        long slack = r.mmapOffset() % PAGE_SIZE;
        long length = r.size() + slack;
        long addr;
        try {
            addr = Linux.mmap(0, length, Linux.PROT_READ | Linux.PROT_WRITE,
                    Linux.MAP_SHARED | Linux.MAP_NORESERVE, fd, r.mmapOffset() - slack);
        } catch (SyscallException e) {
            throw new VhostUserException(String.format(
                    "SET_MEM_TABLE: cannot map region %d: fd=%d size=0x%x offset=0x%x: %s",
                    index, fd, r.size(), r.mmapOffset(), e.getMessage()), e);
        }
        // SAFETY: a fresh mapping of `length` bytes, unmapped only when the arena closes, after
        // the device threads that use it have stopped.
        MemorySegment whole = MemorySegment.ofAddress(addr)
                .reinterpret(length, arena, s -> Linux.munmap(s.address(), length));
        return new GuestRegion(r.guestAddress(), whole.asSlice(slack, r.size()), -1,
                r.mmapOffset());
    }

    /** Guest memory over the mapped regions. */
    public GuestMemory memory() {
        return memory;
    }

    public List<Region> regions() {
        return regions;
    }

    /**
     * The guest physical address of the front-end's user address {@code uva}.
     *
     * @throws VhostUserException if no region holds it
     */
    public long toGuestAddress(long uva) throws VhostUserException {
        for (Region r : regions) {
            if (Long.compareUnsigned(uva, r.userAddress()) >= 0
                    && Long.compareUnsigned(uva - r.userAddress(), r.size()) < 0) {
                return r.guestAddress() + (uva - r.userAddress());
            }
        }
        throw new VhostUserException(String.format(
                "Address outside the memory table: uva=0x%x", uva));
    }

    /** Unmaps the regions; only once no device thread touches them any more. */
    @Override
    public void close() {
        arena.close();
    }
}
