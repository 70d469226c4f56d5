package dev.nimbus.memory;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import dev.nimbus.sys.Linux;
import dev.nimbus.sys.SyscallException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Guest physical memory: a few RAM regions, each a host mapping.
 *
 * <p>Every access is bounds-checked against the regions; an address the guest made up raises
 * {@link GuestMemoryException}, never touches host memory outside guest RAM. Accesses may be
 * unaligned and are little-endian, as on x86. An access may not span two regions: the regions
 * are separated by holes, so a guest buffer crossing one is malformed.
 */
public final class GuestMemory implements AutoCloseable {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int MADV_HUGEPAGE = 14;

    private final GuestRegion[] regions;
    private final Arena arena;

    private GuestMemory(GuestRegion[] regions, Arena arena) {
        this.regions = regions;
        this.arena = arena;
    }

    /** Wraps existing segments (for tests and for memory a peer shared with us). */
    public static GuestMemory of(List<GuestRegion> regions) {
        return new GuestMemory(sorted(regions), null);
    }

    /**
     * Maps new guest RAM for {@code ranges} (each {gpa, size}) from one memfd, region after
     * region at increasing offsets, so the same fd can be shared with vhost-user backends.
     */
    public static GuestMemory create(List<long[]> ranges, String name) throws SyscallException {
        return create(ranges, name, false, false, false);
    }

    /**
     * As {@link #create(List, String)}, with Cloud Hypervisor's memory options: {@code prefault}
     * touches every page now ({@code MAP_POPULATE}), {@code reserve} maps without
     * {@code MAP_NORESERVE} so an overcommitted host refuses at once rather than later, and
     * {@code thp} asks for transparent huge pages ({@code MADV_HUGEPAGE}; shared memory gets
     * them only where the host's {@code shmem_enabled} allows).
     */
    public static GuestMemory create(List<long[]> ranges, String name, boolean prefault,
            boolean reserve, boolean thp) throws SyscallException {
        long total = 0;
        for (long[] r : ranges) {
            total += r[1];
        }
        int fd = Linux.memfdCreate(name, Linux.MFD_CLOEXEC | Linux.MFD_ALLOW_SEALING);
        Arena arena = Arena.ofShared();
        try {
            Linux.ftruncate(fd, total);
            List<GuestRegion> list = new ArrayList<>();
            long offset = 0;
            for (long[] r : ranges) {
                long size = r[1];
                int flags = Linux.MAP_SHARED | (reserve ? 0 : Linux.MAP_NORESERVE)
                        | (prefault ? Linux.MAP_POPULATE : 0);
                long addr = Linux.mmap(0, size, Linux.PROT_READ | Linux.PROT_WRITE, flags, fd,
                        offset);
                if (thp) {
                    // Advice only: a host without THP for shared memory just ignores it.
                    Linux.raw(Linux.SYS_MADVISE, addr, size, MADV_HUGEPAGE, 0, 0, 0);
                }
                // SAFETY: mmap returned a fresh mapping of exactly `size` bytes; it is unmapped
                // only when the arena closes, which happens after the VM and its vCPUs are gone.
                MemorySegment seg = MemorySegment.ofAddress(addr)
                        .reinterpret(size, arena, s -> Linux.munmap(s.address(), size));
                list.add(new GuestRegion(r[0], seg, fd, offset));
                offset += size;
            }
            return new GuestMemory(sorted(list), arena);
        } catch (SyscallException | RuntimeException e) {
            arena.close();
            Linux.close(fd);
            throw e;
        }
    }

    private static GuestRegion[] sorted(List<GuestRegion> list) {
        GuestRegion[] a = list.toArray(new GuestRegion[0]);
        java.util.Arrays.sort(a, (x, y) -> Long.compareUnsigned(x.gpa(), y.gpa()));
        for (int i = 1; i < a.length; i++) {
            if (a[i].gpa() < a[i - 1].end()) {
                throw new IllegalArgumentException(String.format(
                        "Guest memory regions overlap: 0x%x and 0x%x", a[i - 1].gpa(), a[i].gpa()));
            }
        }
        return a;
    }

    public List<GuestRegion> regions() {
        return List.of(regions);
    }

    /** Total bytes of RAM over all regions. */
    public long totalSize() {
        long t = 0;
        for (GuestRegion r : regions) {
            t += r.size();
        }
        return t;
    }

    /** Whether {@code [gpa, gpa+len)} lies entirely inside one RAM region. */
    public boolean contains(long gpa, long len) {
        return find(gpa, len) != null;
    }

    private GuestRegion find(long gpa, long len) {
        for (GuestRegion r : regions) {
            if (r.contains(gpa, len)) {
                return r;
            }
        }
        return null;
    }

    private GuestRegion region(long gpa, long len) {
        GuestRegion r = find(gpa, len);
        if (r == null) {
            throw new GuestMemoryException(String.format(
                    "Guest address range outside RAM: gpa=0x%x len=%d", gpa, len));
        }
        return r;
    }

    /**
     * A view of {@code [gpa, gpa+len)} in place, for device I/O straight into guest memory.
     * The range must lie inside one region.
     */
    public MemorySegment slice(long gpa, long len) {
        GuestRegion r = region(gpa, len);
        return r.segment().asSlice(gpa - r.gpa(), len);
    }

    public byte readByte(long gpa) {
        GuestRegion r = region(gpa, 1);
        return r.segment().get(JAVA_BYTE, gpa - r.gpa());
    }

    public short readShort(long gpa) {
        GuestRegion r = region(gpa, 2);
        return r.segment().get(JAVA_SHORT_UNALIGNED.withOrder(LE), gpa - r.gpa());
    }

    public int readInt(long gpa) {
        GuestRegion r = region(gpa, 4);
        return r.segment().get(JAVA_INT_UNALIGNED.withOrder(LE), gpa - r.gpa());
    }

    public long readLong(long gpa) {
        GuestRegion r = region(gpa, 8);
        return r.segment().get(JAVA_LONG_UNALIGNED.withOrder(LE), gpa - r.gpa());
    }

    public void writeByte(long gpa, byte v) {
        GuestRegion r = region(gpa, 1);
        r.segment().set(JAVA_BYTE, gpa - r.gpa(), v);
    }

    public void writeShort(long gpa, short v) {
        GuestRegion r = region(gpa, 2);
        r.segment().set(JAVA_SHORT_UNALIGNED.withOrder(LE), gpa - r.gpa(), v);
    }

    public void writeInt(long gpa, int v) {
        GuestRegion r = region(gpa, 4);
        r.segment().set(JAVA_INT_UNALIGNED.withOrder(LE), gpa - r.gpa(), v);
    }

    public void writeLong(long gpa, long v) {
        GuestRegion r = region(gpa, 8);
        r.segment().set(JAVA_LONG_UNALIGNED.withOrder(LE), gpa - r.gpa(), v);
    }

    /** Copies {@code len} bytes of guest memory at {@code gpa} into {@code dst[off..]}. */
    public void read(long gpa, byte[] dst, int off, int len) {
        MemorySegment.copy(slice(gpa, len), JAVA_BYTE, 0, dst, off, len);
    }

    public byte[] read(long gpa, int len) {
        byte[] b = new byte[len];
        read(gpa, b, 0, len);
        return b;
    }

    /** Copies {@code src[off..off+len)} into guest memory at {@code gpa}. */
    public void write(long gpa, byte[] src, int off, int len) {
        MemorySegment.copy(src, off, slice(gpa, len), JAVA_BYTE, 0, len);
    }

    public void write(long gpa, byte[] src) {
        write(gpa, src, 0, src.length);
    }

    /** Fills {@code [gpa, gpa+len)} with zeros. */
    public void zero(long gpa, long len) {
        slice(gpa, len).fill((byte) 0);
    }

    /** Unmaps RAM this object created. Call only after every vCPU and device has stopped. */
    @Override
    public void close() {
        if (arena != null) {
            int fd = regions.length > 0 ? regions[0].fd() : -1;
            arena.close();
            Linux.close(fd);
        }
    }
}
