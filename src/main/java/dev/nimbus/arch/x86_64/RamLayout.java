package dev.nimbus.arch.x86_64;

import static dev.nimbus.arch.x86_64.Layout.EBDA_START;
import static dev.nimbus.arch.x86_64.Layout.HIGH_RAM_START;
import static dev.nimbus.arch.x86_64.Layout.MEM_32BIT_RESERVED_START;
import static dev.nimbus.arch.x86_64.Layout.PCI_MMCONFIG_SIZE;
import static dev.nimbus.arch.x86_64.Layout.PCI_MMCONFIG_START;
import static dev.nimbus.arch.x86_64.Layout.RAM_64BIT_START;

import java.util.ArrayList;
import java.util.List;

/**
 * Where a guest's RAM goes and the memory map it is told about.
 *
 * <p>RAM fills the guest physical space from 0 up to the 32-bit device hole at 3 GiB; whatever
 * does not fit continues at 4 GiB. The memory map hides [640 KiB, 1 MiB) from the guest (EBDA,
 * ACPI tables, SMBIOS, legacy BIOS area) although it is backed by RAM, and reserves the ECAM
 * window so the guest does not hand it out as MMIO space to other devices.
 *
 * @param ramSize total guest RAM in bytes
 */
public record RamLayout(long ramSize) {
    private static final long PAGE_SIZE = 4096;

    public RamLayout {
        if (ramSize <= 0 || ramSize % PAGE_SIZE != 0) {
            throw new IllegalArgumentException(String.format(
                    "Guest RAM size must be a positive multiple of 4 KiB: size=%d", ramSize));
        }
    }

    /** The layout for {@code ramSize} bytes of RAM. */
    public static RamLayout of(long ramSize) {
        return new RamLayout(ramSize);
    }

    /** End of the RAM below the 32-bit hole: min(RAM size, 3 GiB). */
    public long lowRamEnd() {
        return Math.min(ramSize, MEM_32BIT_RESERVED_START);
    }

    /** Bytes of RAM mapped from 4 GiB up; 0 when everything fits below 3 GiB. */
    public long highRamSize() {
        return ramSize - lowRamEnd();
    }

    /** First guest physical address past the last byte of RAM. */
    public long ramEnd() {
        return highRamSize() == 0 ? lowRamEnd() : RAM_64BIT_START + highRamSize();
    }

    /** The RAM ranges to map, in address order: [0, low end), then [4 GiB, end) if any. */
    public List<RamRange> ramRanges() {
        List<RamRange> ranges = new ArrayList<>(2);
        ranges.add(new RamRange(0, lowRamEnd()));
        if (highRamSize() > 0) {
            ranges.add(new RamRange(RAM_64BIT_START, highRamSize()));
        }
        return List.copyOf(ranges);
    }

    /** {@link #ramRanges()} as {gpa, size} pairs, the form {@code GuestMemory.create} takes. */
    public List<long[]> ramRangePairs() {
        return ramRanges().stream().map(r -> new long[] {r.gpa(), r.size()}).toList();
    }

    /**
     * The guest memory map (e820 / PVH memmap): RAM [0, 640 KiB), RAM [1 MiB, low end),
     * RAM [4 GiB, end), then the reserved ECAM window. The ECAM entry comes last although it
     * lies below 4 GiB, as in Cloud Hypervisor's table; guests sort the map before use.
     */
    public List<E820Entry> e820() {
        List<E820Entry> map = new ArrayList<>(4);
        map.add(new E820Entry(0, Math.min(EBDA_START, lowRamEnd()), E820Entry.E820_RAM));
        if (lowRamEnd() > HIGH_RAM_START) {
            map.add(new E820Entry(
                    HIGH_RAM_START, lowRamEnd() - HIGH_RAM_START, E820Entry.E820_RAM));
        }
        if (highRamSize() > 0) {
            map.add(new E820Entry(RAM_64BIT_START, highRamSize(), E820Entry.E820_RAM));
        }
        map.add(new E820Entry(PCI_MMCONFIG_START, PCI_MMCONFIG_SIZE, E820Entry.E820_RESERVED));
        return List.copyOf(map);
    }
}
