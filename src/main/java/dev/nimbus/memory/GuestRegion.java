package dev.nimbus.memory;

import java.lang.foreign.MemorySegment;

/**
 * One contiguous range of guest RAM and the host memory behind it.
 *
 * @param gpa guest physical address of the first byte
 * @param segment host mapping of the region; its size is the region's size
 * @param fd file descriptor backing the mapping (a memfd), or -1 for anonymous or test memory
 * @param fdOffset offset of the region within {@code fd}
 */
public record GuestRegion(long gpa, MemorySegment segment, int fd, long fdOffset) {
    public long size() {
        return segment.byteSize();
    }

    public long end() {
        return gpa + segment.byteSize();
    }

    /** Host virtual address of the first byte, as KVM and vhost-user peers want it. */
    public long hva() {
        return segment.address();
    }

    public boolean contains(long addr, long len) {
        return addr >= gpa && len >= 0 && addr - gpa <= size() - len;
    }
}
