package dev.nimbus.arch.x86_64;

import dev.nimbus.memory.GuestMemory;
import java.util.List;

/**
 * Linux {@code struct boot_params} (the "zero page", Documentation/arch/x86/zero-page.rst and
 * arch/x86/include/uapi/asm/bootparam.h) as Nimbus fills it for a bzImage 64-bit entry.
 */
final class ZeroPage {
    private ZeroPage() {}

    static final int OFFSETOF_ACPI_RSDP_ADDR = 0x070;
    static final int OFFSETOF_EXT_RAMDISK_IMAGE = 0x0C0;
    static final int OFFSETOF_EXT_RAMDISK_SIZE = 0x0C4;
    static final int OFFSETOF_EXT_CMD_LINE_PTR = 0x0C8;
    static final int OFFSETOF_E820_ENTRIES = 0x1E8;
    /** Non-zero when a loader copied the whole first page of the image; must stay 0. */
    static final int OFFSETOF_SENTINEL = 0x1EF;
    static final int OFFSETOF_E820_TABLE = 0x2D0;
    /** Capacity of {@code e820_table} (E820_MAX_ENTRIES_ZEROPAGE). */
    static final int E820_MAX_ENTRIES_ZEROPAGE = 128;

    /** type_of_loader for a loader without an assigned id. */
    static final int LOADER_TYPE_UNDEFINED = 0xFF;
    /** The protocol version from which acpi_rsdp_addr is read (2.14). */
    static final int RSDP_MIN_VERSION = 0x020E;

    /**
     * Writes the zero page at {@link Layout#ZERO_PAGE_START}.
     *
     * @param image the kernel whose setup header is copied in
     * @param cmdlineAddr guest address of the NUL-terminated command line
     * @param ramdiskAddr initramfs address, 0 if none
     * @param ramdiskSize initramfs size, 0 if none
     * @param rsdpAddr ACPI RSDP address, 0 if none
     * @param e820 the memory map
     */
    static void write(GuestMemory mem, BzImage image, long cmdlineAddr, long ramdiskAddr,
            long ramdiskSize, long rsdpAddr, List<E820Entry> e820) {
        if (e820.size() > E820_MAX_ENTRIES_ZEROPAGE) {
            throw new IllegalArgumentException("Too many e820 entries: " + e820.size());
        }
        long zp = Layout.ZERO_PAGE_START;
        mem.zero(zp, Layout.ZERO_PAGE_SIZE);

        // The 32/64-bit boot protocols start from a zeroed boot_params holding a copy of the
        // setup header; only the header is copied, so the sentinel at 0x1EF stays zero.
        mem.write(zp + BzImage.OFFSETOF_SETUP_HEADER, image.header());

        mem.writeByte(zp + BzImage.OFFSETOF_TYPE_OF_LOADER, (byte) LOADER_TYPE_UNDEFINED);
        // code32_start must name where a relocated kernel really is; only the 32-bit entry
        // reads it, but leaving the image's 0x100000 there would be a lie.
        mem.writeInt(zp + BzImage.OFFSETOF_CODE32_START, (int) image.loadAddress());
        // heap_end_ptr and CAN_USE_HEAP describe the real-mode setup code's heap. That code
        // does not run on a 64-bit entry, so both stay as the image has them.
        mem.writeInt(zp + BzImage.OFFSETOF_CMD_LINE_PTR, (int) cmdlineAddr);
        mem.writeInt(zp + OFFSETOF_EXT_CMD_LINE_PTR, (int) (cmdlineAddr >>> 32));
        mem.writeInt(zp + BzImage.OFFSETOF_RAMDISK_IMAGE, (int) ramdiskAddr);
        mem.writeInt(zp + BzImage.OFFSETOF_RAMDISK_SIZE, (int) ramdiskSize);
        mem.writeInt(zp + OFFSETOF_EXT_RAMDISK_IMAGE, (int) (ramdiskAddr >>> 32));
        mem.writeInt(zp + OFFSETOF_EXT_RAMDISK_SIZE, (int) (ramdiskSize >>> 32));
        if (rsdpAddr != 0 && image.version() >= RSDP_MIN_VERSION) {
            mem.writeLong(zp + OFFSETOF_ACPI_RSDP_ADDR, rsdpAddr);
        }

        mem.writeByte(zp + OFFSETOF_E820_ENTRIES, (byte) e820.size());
        for (int i = 0; i < e820.size(); i++) {
            e820.get(i).writeBootE820Entry(
                    mem, zp + OFFSETOF_E820_TABLE + (long) i * E820Entry.SIZEOF_BOOT_E820_ENTRY);
        }
    }
}
