package dev.nimbus.arch.x86_64;

import java.nio.ByteBuffer;

/**
 * A Linux bzImage: its real-mode setup header (Documentation/arch/x86/boot.rst, "The
 * Real-Mode Kernel Header"), checked for what the 64-bit boot protocol needs, and where its
 * protected-mode part is in the file. Header fields sit at the same offsets in the image and
 * in {@code struct boot_params}, so the {@code OFFSETOF_} constants serve both.
 *
 * @param header the raw setup header, file bytes [0x1F1, {@link #headerEnd})
 * @param headerEnd first byte past the header: 0x202 plus the jump offset at 0x201
 * @param setupSects setup sectors after the boot sector (0 in the file means 4)
 * @param version boot protocol version, major in the high byte
 * @param loadflags LOADED_HIGH and friends
 * @param xloadflags XLF_ flags (protocol 2.12+)
 * @param initrdAddrMax highest address an initramfs byte may occupy
 * @param kernelAlignment alignment the kernel wants when relocated
 * @param relocatable whether the protected-mode part runs at any aligned address
 * @param cmdlineSize longest command line the kernel takes, NUL excluded
 * @param prefAddress address the kernel prefers to run at (protocol 2.10+), 0 if none
 * @param initSize bytes from the load address the kernel needs before it reads the e820 map
 * @param pmOffset file offset of the protected-mode kernel
 * @param pmSize bytes of protected-mode kernel in the file
 */
record BzImage(byte[] header, int headerEnd, int setupSects, int version, int loadflags,
        int xloadflags, long initrdAddrMax, long kernelAlignment, boolean relocatable,
        long cmdlineSize, long prefAddress, long initSize, long pmOffset, long pmSize) {

    static final int OFFSETOF_SETUP_HEADER = 0x1F1;
    static final int OFFSETOF_SETUP_SECTS = 0x1F1;
    static final int OFFSETOF_BOOT_FLAG = 0x1FE;
    static final int OFFSETOF_JUMP = 0x200;
    static final int OFFSETOF_HEADER = 0x202;
    static final int OFFSETOF_VERSION = 0x206;
    static final int OFFSETOF_TYPE_OF_LOADER = 0x210;
    static final int OFFSETOF_LOADFLAGS = 0x211;
    static final int OFFSETOF_CODE32_START = 0x214;
    static final int OFFSETOF_RAMDISK_IMAGE = 0x218;
    static final int OFFSETOF_RAMDISK_SIZE = 0x21C;
    static final int OFFSETOF_HEAP_END_PTR = 0x224;
    static final int OFFSETOF_CMD_LINE_PTR = 0x228;
    static final int OFFSETOF_INITRD_ADDR_MAX = 0x22C;
    static final int OFFSETOF_KERNEL_ALIGNMENT = 0x230;
    static final int OFFSETOF_RELOCATABLE_KERNEL = 0x234;
    static final int OFFSETOF_XLOADFLAGS = 0x236;
    static final int OFFSETOF_CMDLINE_SIZE = 0x238;
    static final int OFFSETOF_PREF_ADDRESS = 0x258;
    static final int OFFSETOF_INIT_SIZE = 0x260;
    /** End of the room {@code struct boot_params} has for the setup header. */
    static final int SETUP_HEADER_LIMIT = 0x290;

    static final int BOOT_FLAG_MAGIC = 0xAA55;
    /** "HdrS", little-endian. */
    static final int HDRS_MAGIC = 0x53726448;
    /** Protocol 2.12 introduced xloadflags and with it XLF_KERNEL_64. */
    static final int MIN_VERSION = 0x020C;
    /** loadflags bit 0: protected-mode code is loaded at 1 MiB (a bzImage). */
    static final int LOADED_HIGH = 0x01;
    /** loadflags bit 7: heap_end_ptr is valid. */
    static final int CAN_USE_HEAP = 0x80;
    /** xloadflags bit 0: the kernel has the 64-bit entry at load address + 0x200. */
    static final int XLF_KERNEL_64 = 0x01;
    /** xloadflags bit 1: kernel, zero page, command line and initramfs may sit above 4 GiB. */
    static final int XLF_CAN_BE_LOADED_ABOVE_4G = 0x02;
    /** Offset of the 64-bit entry from the start of the protected-mode kernel. */
    static final long STARTUP_64_OFFSET = 0x200;
    /** Sector size the setup header counts in. */
    static final int SECTOR_SIZE = 512;

    /** Whether {@code head} (the first 0x200+ bytes of a file) carries the boot sector flag. */
    static boolean hasBootFlag(ByteBuffer head) {
        return head.limit() >= OFFSETOF_BOOT_FLAG + 2
                && Short.toUnsignedInt(head.getShort(OFFSETOF_BOOT_FLAG)) == BOOT_FLAG_MAGIC;
    }

    /** Parses and checks the setup header of a file whose boot flag is present. */
    static BzImage parse(KernelFile file) throws BootException {
        ByteBuffer h = file.read(0, SETUP_HEADER_LIMIT);
        if (h.limit() < OFFSETOF_HEADER + 4 || h.getInt(OFFSETOF_HEADER) != HDRS_MAGIC) {
            throw new BootException("bzImage too old: no HdrS setup header signature: path="
                    + file.path());
        }
        int version = Short.toUnsignedInt(h.getShort(OFFSETOF_VERSION));
        if (version < MIN_VERSION) {
            throw new BootException(String.format(
                    "bzImage boot protocol too old for the 64-bit entry: path=%s version=%d.%02d"
                            + " (need 2.12)",
                    file.path(), version >> 8, version & 0xFF));
        }
        if (h.limit() < SETUP_HEADER_LIMIT) {
            throw truncated(file, SETUP_HEADER_LIMIT);
        }
        int loadflags = Byte.toUnsignedInt(h.get(OFFSETOF_LOADFLAGS));
        if ((loadflags & LOADED_HIGH) == 0) {
            throw new BootException(String.format(
                    "Kernel is a zImage, not a bzImage: path=%s loadflags=0x%x (LOADED_HIGH clear)",
                    file.path(), loadflags));
        }
        int xloadflags = Short.toUnsignedInt(h.getShort(OFFSETOF_XLOADFLAGS));
        if ((xloadflags & XLF_KERNEL_64) == 0) {
            throw new BootException(String.format(
                    "bzImage is not 64-bit capable: path=%s xloadflags=0x%x (XLF_KERNEL_64 clear)",
                    file.path(), xloadflags));
        }
        int setupSects = Byte.toUnsignedInt(h.get(OFFSETOF_SETUP_SECTS));
        if (setupSects == 0) {
            setupSects = 4;
        }
        long pmOffset = (long) (setupSects + 1) * SECTOR_SIZE;
        if (file.size() <= pmOffset) {
            throw truncated(file, pmOffset + 1);
        }
        // The jump at 0x200 skips the header, so its offset gives the header's length.
        int headerEnd = Math.min(OFFSETOF_HEADER + Byte.toUnsignedInt(h.get(OFFSETOF_JUMP + 1)),
                SETUP_HEADER_LIMIT);
        byte[] header = new byte[headerEnd - OFFSETOF_SETUP_HEADER];
        h.get(OFFSETOF_SETUP_HEADER, header);
        return new BzImage(header, headerEnd, setupSects, version, loadflags, xloadflags,
                Integer.toUnsignedLong(h.getInt(OFFSETOF_INITRD_ADDR_MAX)),
                Integer.toUnsignedLong(h.getInt(OFFSETOF_KERNEL_ALIGNMENT)),
                h.get(OFFSETOF_RELOCATABLE_KERNEL) != 0,
                Integer.toUnsignedLong(h.getInt(OFFSETOF_CMDLINE_SIZE)),
                h.getLong(OFFSETOF_PREF_ADDRESS),
                Integer.toUnsignedLong(h.getInt(OFFSETOF_INIT_SIZE)),
                pmOffset, file.size() - pmOffset);
    }

    /**
     * Where the protected-mode kernel goes: {@code pref_address}, else 1 MiB.
     *
     * <p>A non-relocatable kernel moves itself to pref_address wherever it is loaded, and a
     * relocatable 64-bit one decompresses to max(its aligned load address, LOAD_PHYSICAL_ADDR),
     * which is pref_address. Loading there means [load address, + init_size) is all the memory
     * the kernel touches before it reads the e820 map, instead of that range plus a copy at
     * 1 MiB. pref_address is aligned to kernel_alignment by construction.
     */
    long loadAddress() {
        return prefAddress != 0 ? prefAddress : Layout.HIGH_RAM_START;
    }

    /** Bytes from the load address the kernel needs: the larger of init_size and the file. */
    long footprint() {
        return Math.max(initSize, pmSize);
    }

    /** The 64-bit entry point: load address + 0x200 (startup_64). */
    long entry64() {
        return loadAddress() + STARTUP_64_OFFSET;
    }

    private static BootException truncated(KernelFile file, long need) {
        return new BootException(String.format(
                "bzImage is truncated: path=%s size=%d, need at least %d",
                file.path(), file.size(), need));
    }
}
