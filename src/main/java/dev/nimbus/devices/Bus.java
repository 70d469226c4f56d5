package dev.nimbus.devices;

import java.util.Arrays;

/**
 * An address space of device ranges (the I/O port space, or guest physical MMIO), looked up on
 * every exit. Ranges never overlap. Registration publishes a new immutable array, so lookups from
 * vCPU threads take no lock even while devices are hot-plugged.
 */
public final class Bus {
    /** A registered range {@code [base, base+length)}. */
    public record Range(long base, long length, BusDevice device, String name) {
        boolean contains(long addr) {
            return addr >= base && addr - base < length;
        }
    }

    private final String name;
    private volatile Range[] ranges = new Range[0];

    public Bus(String name) {
        this.name = name;
    }

    /** Adds {@code device} at {@code [base, base+length)}; refuses an overlap. */
    public synchronized void register(long base, long length, BusDevice device, String deviceName) {
        if (length <= 0) {
            throw new IllegalArgumentException("Empty bus range for " + deviceName);
        }
        for (Range r : ranges) {
            if (base < r.base + r.length && r.base < base + length) {
                throw new IllegalArgumentException(String.format(
                        "%s range 0x%x+0x%x for %s overlaps %s at 0x%x+0x%x",
                        name, base, length, deviceName, r.name, r.base, r.length));
            }
        }
        Range[] next = Arrays.copyOf(ranges, ranges.length + 1);
        next[ranges.length] = new Range(base, length, device, deviceName);
        Arrays.sort(next, (a, b) -> Long.compareUnsigned(a.base, b.base));
        ranges = next;
    }

    /** Removes the range starting at {@code base}; returns whether one was there. */
    public synchronized boolean unregister(long base) {
        Range[] cur = ranges;
        for (int i = 0; i < cur.length; i++) {
            if (cur[i].base == base) {
                Range[] next = new Range[cur.length - 1];
                System.arraycopy(cur, 0, next, 0, i);
                System.arraycopy(cur, i + 1, next, i, cur.length - i - 1);
                ranges = next;
                return true;
            }
        }
        return false;
    }

    /** The range holding {@code addr}, or null. */
    public Range find(long addr) {
        Range[] cur = ranges;
        int lo = 0;
        int hi = cur.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            Range r = cur[mid];
            if (Long.compareUnsigned(addr, r.base) < 0) {
                hi = mid - 1;
            } else if (r.contains(addr)) {
                return r;
            } else {
                lo = mid + 1;
            }
        }
        return null;
    }

    /**
     * Dispatches a guest read; returns false when no device claims {@code addr} (the caller
     * then gives the guest all ones, as an unclaimed ISA or PCI read does).
     */
    public boolean read(long addr, int size, long[] value) {
        Range r = find(addr);
        if (r == null) {
            return false;
        }
        value[0] = r.device.read(addr - r.base, size);
        return true;
    }

    /** Dispatches a guest write; returns false when no device claims {@code addr}. */
    public boolean write(long addr, int size, long value) {
        Range r = find(addr);
        if (r == null) {
            return false;
        }
        r.device.write(addr - r.base, size, value);
        return true;
    }
}
