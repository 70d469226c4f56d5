package dev.nimbus.arch.x86_64;

import dev.nimbus.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Direct kernel boot: puts a kernel, its initramfs and command line into guest RAM, writes the
 * boot structures the kernel reads, and returns the state vCPU 0 starts in.
 *
 * <p>The kernel file is tried as ELF first, then as bzImage. An ELF kernel must carry a PVH
 * entry note and is entered in 32-bit protected mode with EBX pointing at {@code
 * hvm_start_info}. A bzImage is entered through the Linux 64-bit boot protocol at load address
 * + 0x200, in long mode on an identity map, with RSI pointing at the zero page. The initramfs
 * goes page-aligned at the top of RAM below 3 GiB (and below the bzImage's initrd_addr_max).
 *
 * <p>Sizes, addresses and headers are all checked before the first byte is written, so a
 * kernel that cannot boot leaves guest memory untouched; only a read error part way through a
 * copy leaves it partly written.
 */
public final class KernelLoader {
    private static final long PAGE_SIZE = 4096;

    private KernelLoader() {}

    /**
     * Loads {@code request} into {@code mem}, whose RAM must be mapped as {@code layout} says.
     *
     * @throws BootException if a file is missing or unreadable, the kernel is not bootable, or
     *     kernel, initramfs or command line do not fit
     */
    public static LoadedKernel load(GuestMemory mem, RamLayout layout, BootRequest request)
            throws BootException {
        for (RamRange r : layout.ramRanges()) {
            if (!mem.contains(r.gpa(), r.size())) {
                throw new IllegalArgumentException(String.format(
                        "Guest memory does not map the RAM layout: range [0x%x, 0x%x)",
                        r.gpa(), r.end()));
            }
        }
        byte[] cmdline = cmdlineBytes(request.cmdline());
        try (KernelFile kernel = KernelFile.open(request.kernel(), "Kernel")) {
            ByteBuffer head = kernel.read(0, BzImage.SETUP_HEADER_LIMIT);
            if (ElfKernel.isElf(head)) {
                return loadElf(mem, layout, request, ElfKernel.parse(kernel), kernel, cmdline);
            }
            if (BzImage.hasBootFlag(head)) {
                return loadBzImage(mem, layout, request, BzImage.parse(kernel), kernel, cmdline);
            }
            throw new BootException("Not an ELF or bzImage kernel: path=" + kernel.path());
        }
    }

    private static LoadedKernel loadElf(GuestMemory mem, RamLayout layout, BootRequest request,
            ElfKernel elf, KernelFile kernel, byte[] cmdline) throws BootException {
        long start = Long.MAX_VALUE;
        long end = 0;
        for (ElfKernel.LoadSegment s : elf.segments()) {
            // Low memory holds the boot structures written below; a segment there would
            // overwrite them or be overwritten.
            if (Long.compareUnsigned(s.paddr(), Layout.HIGH_RAM_START) < 0) {
                throw new BootException(String.format(
                        "ELF kernel segment below 1 MiB: path=%s paddr=0x%x memsz=0x%x",
                        kernel.path(), s.paddr(), s.memsz()));
            }
            // GuestMemory.contains takes the range as given, without forming its end.
            if (!mem.contains(s.paddr(), s.memsz())) {
                throw tooLittleMemory(layout, s.paddr(), s.memsz());
            }
            start = Math.min(start, s.paddr());
            end = Math.max(end, s.end());
        }
        checkCmdline(cmdline, Layout.CMDLINE_MAX_SIZE - 1, "the command line area");
        try (Initramfs initramfs = Initramfs.plan(request, layout, end, layout.lowRamEnd())) {
            for (ElfKernel.LoadSegment s : elf.segments()) {
                kernel.copyTo(mem, s.paddr(), s.offset(), s.filesz());
                mem.zero(s.paddr() + s.filesz(), s.memsz() - s.filesz());
            }
            initramfs.copyTo(mem);
            writeCommon(mem, cmdline);
            PvhStartInfo.write(mem, Layout.CMDLINE_START, request.rsdpAddr(), initramfs.addr(),
                    initramfs.size(), layout.e820());
            Gdt gdt = Gdt.forMode(EntryMode.PROTECTED_32);
            gdt.write(mem);
            // PVH ABI: flat 32-bit protected mode, paging off, EBX = start info, no stack.
            VcpuBootState vcpu = VcpuBootState.of(
                    EntryMode.PROTECTED_32, gdt, elf.pvhEntry(), 0, 0, Layout.PVH_INFO_START);
            return new LoadedKernel(LoadedKernel.Format.ELF_PVH, start, end, initramfs.addr(),
                    initramfs.size(), Layout.CMDLINE_START, vcpu);
        }
    }

    private static LoadedKernel loadBzImage(GuestMemory mem, RamLayout layout,
            BootRequest request, BzImage image, KernelFile kernel, byte[] cmdline)
            throws BootException {
        long load = image.loadAddress();
        if (Long.compareUnsigned(load, Layout.HIGH_RAM_START) < 0) {
            throw new BootException(String.format(
                    "bzImage wants to load below 1 MiB: path=%s pref_address=0x%x",
                    kernel.path(), image.prefAddress()));
        }
        // pref_address is any 64-bit value the file holds: compare before adding.
        if (!fitsBelow(load, image.footprint(), layout.lowRamEnd())) {
            throw tooLittleMemory(layout, load, image.footprint());
        }
        long end = load + image.footprint();
        checkCmdline(cmdline, Layout.CMDLINE_MAX_SIZE - 1, "the command line area");
        checkCmdline(cmdline, image.cmdlineSize(), "the kernel (cmdline_size)");
        long initrdTop = Math.min(layout.lowRamEnd(), image.initrdAddrMax() + 1);
        try (Initramfs initramfs = Initramfs.plan(request, layout, end, initrdTop)) {
            kernel.copyTo(mem, load, image.pmOffset(), image.pmSize());
            initramfs.copyTo(mem);
            writeCommon(mem, cmdline);
            ZeroPage.write(mem, image, Layout.CMDLINE_START, initramfs.addr(), initramfs.size(),
                    request.rsdpAddr(), layout.e820());
            PageTables.writeIdentityMap(mem);
            Gdt gdt = Gdt.forMode(EntryMode.LONG_64);
            gdt.write(mem);
            // 64-bit boot protocol: long mode, identity map, RSI = boot_params.
            VcpuBootState vcpu = VcpuBootState.of(EntryMode.LONG_64, gdt, image.entry64(),
                    Layout.BOOT_STACK_POINTER, Layout.ZERO_PAGE_START, 0);
            return new LoadedKernel(LoadedKernel.Format.BZIMAGE, load, end, initramfs.addr(),
                    initramfs.size(), Layout.CMDLINE_START, vcpu);
        }
    }

    /** Command line and EBDA pointer, written for both protocols. */
    private static void writeCommon(GuestMemory mem, byte[] cmdline) {
        mem.write(Layout.CMDLINE_START, cmdline);
        mem.writeByte(Layout.CMDLINE_START + cmdline.length, (byte) 0);
        // ACPI's RSDP search starts in the first KiB of the EBDA, found through this word.
        mem.writeShort(Layout.EBDA_POINTER, (short) (Layout.EBDA_START >>> 4));
    }

    private static byte[] cmdlineBytes(String cmdline) throws BootException {
        byte[] b = (cmdline == null ? "" : cmdline).getBytes(StandardCharsets.UTF_8);
        for (byte c : b) {
            if (c == 0) {
                throw new BootException("Kernel command line contains a NUL byte");
            }
        }
        return b;
    }

    private static void checkCmdline(byte[] cmdline, long limit, String whose)
            throws BootException {
        if (cmdline.length > limit) {
            throw new BootException(String.format(
                    "Kernel command line too long: length=%d, %s takes at most %d",
                    cmdline.length, whose, limit));
        }
    }

    /**
     * Whether {@code [start, start + size)} lies below {@code limit}, all three taken as
     * unsigned 64-bit values as kernel headers give them: the sum is never formed, so it cannot
     * wrap around.
     */
    static boolean fitsBelow(long start, long size, long limit) {
        return Long.compareUnsigned(start, limit) <= 0
                && Long.compareUnsigned(size, limit - start) <= 0;
    }

    /** {@code start + size} in hex, unsigned, with the 65th bit when the sum passes 2^64. */
    static String hexEnd(long start, long size) {
        long end = start + size;
        return Long.compareUnsigned(end, start) < 0
                ? String.format("0x1%016x", end)
                : "0x" + Long.toHexString(end);
    }

    private static BootException tooLittleMemory(RamLayout layout, long kernelStart,
            long kernelSize) {
        return new BootException(String.format(
                "Too little memory for kernel and initramfs: kernel needs [0x%x, %s),"
                        + " RAM below 3 GiB ends at 0x%x (ram_size=%d)",
                kernelStart, hexEnd(kernelStart, kernelSize), layout.lowRamEnd(),
                layout.ramSize()));
    }

    /** Where the initramfs goes, decided before anything is written. */
    private record Initramfs(KernelFile file, long addr, long size) implements AutoCloseable {
        static final Initramfs NONE = new Initramfs(null, 0, 0);

        /**
         * Places the initramfs page-aligned as high as possible below {@code top}, above
         * {@code kernelEnd}. Keeping it high leaves the kernel the most room to grow below it.
         */
        static Initramfs plan(BootRequest request, RamLayout layout, long kernelEnd, long top)
                throws BootException {
            if (request.initramfs() == null) {
                return NONE;
            }
            KernelFile file = KernelFile.open(request.initramfs(), "Initramfs");
            try {
                long size = file.size();
                if (size == 0) {
                    throw new BootException("Initramfs file is empty: path=" + file.path());
                }
                long addr = (top - size) & -PAGE_SIZE;
                if (top < size || addr < kernelEnd) {
                    throw new BootException(String.format(
                            "Too little memory for kernel and initramfs: kernel ends at 0x%x,"
                                    + " initramfs_size=%d must end below 0x%x (ram_size=%d)",
                            kernelEnd, size, top, layout.ramSize()));
                }
                return new Initramfs(file, addr, size);
            } catch (BootException | RuntimeException e) {
                file.close();
                throw e;
            }
        }

        void copyTo(GuestMemory mem) throws BootException {
            if (file != null) {
                file.copyTo(mem, addr, 0, size);
            }
        }

        @Override
        public void close() {
            if (file != null) {
                file.close();
            }
        }
    }
}
