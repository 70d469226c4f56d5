package dev.nimbus.devices.pci;

import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;

/**
 * Hands out BAR addresses from one MMIO window, e.g. the 32-bit PCI hole
 * 0xC000_0000..0xE7FF_FFFF or the 64-bit window above RAM: first fit, lowest address first, with
 * each range aligned as its BAR asks. Thread-safe.
 */
public final class BarAllocator {
    private final long start;
    private final long end;
    /** Allocated ranges: base to size. */
    private final TreeMap<Long, Long> used = new TreeMap<>();

    /** A window {@code [start, end)}. */
    public BarAllocator(long start, long end) {
        if (end <= start) {
            throw new IllegalArgumentException(String.format(
                    "Empty MMIO window start=0x%x end=0x%x", start, end));
        }
        this.start = start;
        this.end = end;
    }

    /** First address of the window. */
    public long start() {
        return start;
    }

    /** First address past the window. */
    public long end() {
        return end;
    }

    /** The lowest free {@code alignment}-aligned range of {@code size} bytes, now taken. */
    public synchronized OptionalLong allocate(long size, long alignment) {
        if (size <= 0 || alignment <= 0 || Long.bitCount(alignment) != 1) {
            throw new IllegalArgumentException(String.format(
                    "Invalid allocation size=0x%x alignment=0x%x", size, alignment));
        }
        long candidate = alignUp(start, alignment);
        for (Map.Entry<Long, Long> e : used.entrySet()) {
            if (candidate + size <= e.getKey()) {
                break;
            }
            candidate = Math.max(candidate, alignUp(e.getKey() + e.getValue(), alignment));
        }
        if (candidate < start || candidate + size > end || candidate + size < candidate) {
            return OptionalLong.empty();
        }
        used.put(candidate, size);
        return OptionalLong.of(candidate);
    }

    /** Takes exactly {@code [base, base+size)}; false if it leaves the window or is taken. */
    public synchronized boolean reserve(long base, long size) {
        if (size <= 0 || base < start || base + size > end || base + size < base) {
            return false;
        }
        Map.Entry<Long, Long> below = used.floorEntry(base + size - 1);
        if (below != null && below.getKey() + below.getValue() > base) {
            return false;
        }
        used.put(base, size);
        return true;
    }

    /** Returns the range starting at {@code base}; false if none started there. */
    public synchronized boolean free(long base) {
        return used.remove(base) != null;
    }

    /** Whether {@code [base, base+size)} lies inside the window. */
    public boolean contains(long base, long size) {
        return base >= start && size >= 0 && base + size <= end && base + size >= base;
    }

    private static long alignUp(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }
}
