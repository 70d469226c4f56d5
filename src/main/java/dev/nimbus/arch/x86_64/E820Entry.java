package dev.nimbus.arch.x86_64;

import dev.nimbus.memory.GuestMemory;

/**
 * One guest memory map entry: a range and its type. The same record feeds both tables the
 * guest can read: the zero page's {@code struct boot_e820_entry} (20 bytes, packed) and the
 * PVH {@code struct hvm_memmap_table_entry} (24 bytes). Both use the ACPI address range types.
 *
 * @param addr first guest physical address of the range
 * @param size length in bytes
 * @param type {@link #E820_RAM} or {@link #E820_RESERVED}
 */
public record E820Entry(long addr, long size, int type) {
    /** Usable RAM (ACPI AddressRangeMemory). */
    public static final int E820_RAM = 1;
    /** Reserved, not usable by the OS (ACPI AddressRangeReserved). */
    public static final int E820_RESERVED = 2;

    /** Bytes per entry in {@code boot_params.e820_table}: u64 addr, u64 size, u32 type. */
    public static final int SIZEOF_BOOT_E820_ENTRY = 20;
    /** Bytes per {@code hvm_memmap_table_entry}: u64 addr, u64 size, u32 type, u32 reserved. */
    public static final int SIZEOF_HVM_MEMMAP_TABLE_ENTRY = 24;

    public E820Entry {
        if (size <= 0) {
            throw new IllegalArgumentException(
                    String.format("E820 entry must not be empty: addr=0x%x size=%d", addr, size));
        }
    }

    /** First address past the range. */
    public long end() {
        return addr + size;
    }

    /** Writes this entry as a zero-page {@code struct boot_e820_entry} at {@code gpa}. */
    public void writeBootE820Entry(GuestMemory mem, long gpa) {
        mem.writeLong(gpa, addr);
        mem.writeLong(gpa + 8, size);
        mem.writeInt(gpa + 16, type);
    }

    /** Writes this entry as a PVH {@code struct hvm_memmap_table_entry} at {@code gpa}. */
    public void writeHvmMemmapEntry(GuestMemory mem, long gpa) {
        mem.writeLong(gpa, addr);
        mem.writeLong(gpa + 8, size);
        mem.writeInt(gpa + 16, type);
        mem.writeInt(gpa + 20, 0);
    }
}
