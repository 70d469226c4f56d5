package dev.nimbus.arch.x86_64;

import dev.nimbus.hypervisor.Segment;

import static dev.nimbus.arch.x86_64.BzImageBuilder.pattern;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.arch.x86_64.ElfImageBuilder.Note;
import dev.nimbus.memory.GuestMemory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KernelLoaderElfTest {
    private static final long MIB = 1L << 20;
    private static final long GIB = 1L << 30;
    private static final long TEXT_AT = 0x100_0000L;
    private static final long DATA_AT = 0x120_0000L;
    private static final long PVH_ENTRY = 0x100_0850L;
    private static final String CMDLINE = "console=ttyS0 root=/dev/vda rw";

    @TempDir
    Path dir;

    private final byte[] text = pattern(0x2345, 1);
    private final byte[] data = pattern(0x800, 7);

    /** A vmlinux-like image: text, data with bss, and Linux notes before the Xen one. */
    private ElfImageBuilder vmlinux() {
        return new ElfImageBuilder()
                .load(TEXT_AT, text, text.length)
                .load(DATA_AT, data, 0x3000)
                .notes(new Note("GNU", 3, pattern(20, 9)),
                        new Note("Linux", 0x101, new byte[] {0}),
                        new Note("Xen", ElfKernel.XEN_ELFNOTE_PHYS32_ENTRY,
                                ElfImageBuilder.le64(PVH_ENTRY)));
    }

    private Path file(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    @Test
    void loadsSegmentsAndZeroesBss() throws Exception {
        RamLayout layout = RamLayout.of(128 * MIB);
        try (GuestMemory mem = TestGuest.memory(layout)) {
            byte[] junk = new byte[0x3000 - data.length];
            Arrays.fill(junk, (byte) 0xEE);
            mem.write(DATA_AT + data.length, junk);

            LoadedKernel k = KernelLoader.load(mem, layout,
                    new BootRequest(file("vmlinux", vmlinux().build()), null, CMDLINE, 0));

            assertArrayEquals(text, mem.read(TEXT_AT, text.length));
            assertArrayEquals(data, mem.read(DATA_AT, data.length));
            assertArrayEquals(new byte[junk.length], mem.read(DATA_AT + data.length, junk.length));
            assertEquals(LoadedKernel.Format.ELF_PVH, k.format());
            assertEquals(TEXT_AT, k.kernelStart());
            assertEquals(DATA_AT + 0x3000, k.kernelEnd());
        }
    }

    @Test
    void writesStartInfoModuleListAndMemmap() throws Exception {
        RamLayout layout = RamLayout.of(128 * MIB);
        byte[] initrd = pattern(10000, 3);
        try (GuestMemory mem = TestGuest.memory(layout)) {
            KernelLoader.load(mem, layout, new BootRequest(file("vmlinux", vmlinux().build()),
                    file("initrd", initrd), CMDLINE, Layout.RSDP_POINTER));

            long si = 0x6000;
            assertEquals(0x336EC578, mem.readInt(si));
            assertEquals(1, mem.readInt(si + 4)); // version
            assertEquals(0, mem.readInt(si + 8)); // flags
            assertEquals(1, mem.readInt(si + 12)); // nr_modules
            assertEquals(0x6040, mem.readLong(si + 16)); // modlist_paddr
            assertEquals(0x20000, mem.readLong(si + 24)); // cmdline_paddr
            assertEquals(0xA0000, mem.readLong(si + 32)); // rsdp_paddr
            assertEquals(0x7000, mem.readLong(si + 40)); // memmap_paddr
            assertEquals(3, mem.readInt(si + 48)); // memmap_entries
            assertEquals(0, mem.readInt(si + 52)); // reserved

            // Page-aligned at the top of the 128 MiB: (0x8000000 - 10000) & ~0xFFF.
            long initrdAt = 0x7FFD000L;
            assertEquals(initrdAt, mem.readLong(0x6040)); // paddr
            assertEquals(10000, mem.readLong(0x6048)); // size
            assertEquals(0, mem.readLong(0x6050)); // cmdline_paddr
            assertEquals(0, mem.readLong(0x6058)); // reserved
            assertArrayEquals(initrd, mem.read(initrdAt, initrd.length));

            assertMemmap(mem, List.of(
                    new long[] {0, 0xA0000, 1},
                    new long[] {MIB, 127 * MIB, 1},
                    new long[] {0xE800_0000L, 256 * MIB, 2}));

            byte[] cmd = CMDLINE.getBytes(StandardCharsets.US_ASCII);
            assertArrayEquals(cmd, mem.read(0x20000, cmd.length));
            assertEquals(0, mem.readByte(0x20000 + cmd.length));
            assertEquals((short) 0xA000, mem.readShort(Layout.EBDA_POINTER));
        }
    }

    private static void assertMemmap(GuestMemory mem, List<long[]> want) {
        for (int i = 0; i < want.size(); i++) {
            long e = 0x7000 + 24L * i;
            assertEquals(want.get(i)[0], mem.readLong(e), "memmap " + i + " addr");
            assertEquals(want.get(i)[1], mem.readLong(e + 8), "memmap " + i + " size");
            assertEquals(want.get(i)[2], mem.readInt(e + 16), "memmap " + i + " type");
            assertEquals(0, mem.readInt(e + 20), "memmap " + i + " reserved");
        }
    }

    @Test
    void bootStateIsFlat32BitProtectedModeWithStartInfoInEbx() throws Exception {
        RamLayout layout = RamLayout.of(128 * MIB);
        try (GuestMemory mem = TestGuest.memory(layout)) {
            VcpuBootState s = KernelLoader.load(mem, layout,
                    new BootRequest(file("vmlinux", vmlinux().build()), null, null, 0)).vcpu();

            assertEquals(EntryMode.PROTECTED_32, s.mode());
            assertEquals(PVH_ENTRY, s.rip());
            assertEquals(0x6000, s.rbx());
            assertEquals(0, s.rsi());
            assertEquals(0, s.rsp());
            assertEquals(0x2, s.rflags());
            assertEquals(1, s.cr0());
            assertEquals(0, s.cr3());
            assertEquals(0, s.cr4());
            assertEquals(0, s.efer());
            Gdt gdt = Gdt.forMode(EntryMode.PROTECTED_32);
            assertEquals(gdt.code(), s.cs());
            assertEquals(1, s.cs().db());
            assertEquals(0, s.cs().l());
            for (Segment d : List.of(s.ds(), s.es(), s.fs(), s.gs(), s.ss())) {
                assertEquals(gdt.data(), d);
            }
            assertEquals(gdt.tss(), s.tr());
            assertEquals(new DescriptorTable(0x500, 31), s.gdt());
            assertEquals(new DescriptorTable(0x520, 7), s.idt());
            for (int i = 0; i < Gdt.ENTRIES; i++) {
                assertEquals(gdt.entry(i), mem.readLong(0x500 + 8L * i));
            }
        }
    }

    @Test
    void noInitramfsMeansNoModulesAndEmptyCommandLine() throws Exception {
        RamLayout layout = RamLayout.of(128 * MIB);
        try (GuestMemory mem = TestGuest.memory(layout)) {
            LoadedKernel k = KernelLoader.load(mem, layout,
                    new BootRequest(file("vmlinux", vmlinux().build()), null, null, 0));
            assertEquals(0, mem.readInt(0x600C)); // nr_modules
            assertEquals(0, mem.readLong(0x6010)); // modlist_paddr
            assertEquals(0, mem.readLong(0x6020)); // rsdp_paddr
            assertEquals(0, mem.readLong(0x6040)); // module list untouched
            assertEquals(0, mem.readByte(0x20000));
            assertEquals(0, k.initramfsAddr());
            assertEquals(0, k.initramfsSize());
        }
    }

    @Test
    void initramfsGoesBelow3GibWhenRamSpansTheHole() throws Exception {
        RamLayout layout = RamLayout.of(3584 * MIB);
        byte[] initrd = pattern(10000, 4);
        try (GuestMemory mem = TestGuest.memory(layout)) {
            LoadedKernel k = KernelLoader.load(mem, layout, new BootRequest(
                    file("vmlinux", vmlinux().build()), file("initrd", initrd), "x", 0));
            assertEquals(0xBFFF_D000L, k.initramfsAddr());
            assertArrayEquals(initrd, mem.read(0xBFFF_D000L, initrd.length));
            assertEquals(4, mem.readInt(0x6030));
            assertMemmap(mem, List.of(
                    new long[] {0, 0xA0000, 1},
                    new long[] {MIB, 3 * GIB - MIB, 1},
                    new long[] {4 * GIB, 512 * MIB, 1},
                    new long[] {0xE800_0000L, 256 * MIB, 2}));
        }
    }

    @Test
    void fourByteEntryNoteIsAccepted() throws Exception {
        byte[] elf = new ElfImageBuilder().load(TEXT_AT, text, text.length)
                .notes(new Note("Xen", ElfKernel.XEN_ELFNOTE_PHYS32_ENTRY,
                        ElfImageBuilder.le32(0x100_0010)))
                .build();
        RamLayout layout = RamLayout.of(64 * MIB);
        try (GuestMemory mem = TestGuest.memory(layout)) {
            LoadedKernel k = KernelLoader.load(mem, layout,
                    new BootRequest(file("tiny", elf), null, null, 0));
            assertEquals(0x100_0010L, k.vcpu().rip());
        }
    }

    /**
     * A GNU property note (NT_GNU_PROPERTY_TYPE_0 = 5) holding GNU_PROPERTY_X86_FEATURE_1_AND
     * (0xc0000002) with IBT and SHSTK set, padded to 8 bytes: what x86-64 toolchains emit in
     * an 8-byte aligned PT_NOTE segment.
     */
    private static Note gnuProperty() {
        byte[] desc = java.nio.ByteBuffer.allocate(16).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .putInt(0xc0000002).putInt(4).putInt(3).putInt(0).array();
        return new Note("GNU", 5, desc);
    }

    private long pvhEntryOf(byte[] elf) throws Exception {
        RamLayout layout = RamLayout.of(64 * MIB);
        try (GuestMemory mem = TestGuest.memory(layout)) {
            return KernelLoader.load(mem, layout,
                    new BootRequest(file("vmlinux", elf), null, null, 0)).vcpu().rip();
        }
    }

    @Test
    void eightByteAlignedNotesPadNameAndDescToTheirOffsets() {
        // "GNU\0" ends at 16, already 8-aligned: the desc follows at once. Padding namesz
        // alone (12 + 8) would look for it at 20.
        byte[] seg = ElfImageBuilder.encodeNotes(List.of(gnuProperty()), 8);
        assertEquals(32, seg.length);
        assertEquals(0xc0000002, java.nio.ByteBuffer.wrap(seg)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(16));
    }

    @Test
    void eightByteAlignedPropertyNoteBeforeThePvhNoteIsWalked() throws Exception {
        // Regression: this valid file was refused with "note runs past its segment".
        byte[] elf = new ElfImageBuilder().load(TEXT_AT, text, text.length)
                .alignedNotes(8, gnuProperty())
                .notes(new Note("Linux", 0x101, new byte[] {0}),
                        new Note("Xen", ElfKernel.XEN_ELFNOTE_PHYS32_ENTRY,
                                ElfImageBuilder.le64(PVH_ENTRY)))
                .build();
        assertEquals(PVH_ENTRY, pvhEntryOf(elf));
    }

    @Test
    void pvhNoteInAnEightByteAlignedSegmentIsFound() throws Exception {
        // "Linux\0" (namesz 6) ends at 18: its desc starts at 24 and the next note at 32.
        byte[] elf = new ElfImageBuilder().load(TEXT_AT, text, text.length)
                .alignedNotes(8, new Note("Linux", 0x101, new byte[] {0}), gnuProperty(),
                        new Note("Xen", ElfKernel.XEN_ELFNOTE_PHYS32_ENTRY,
                                ElfImageBuilder.le64(PVH_ENTRY)))
                .build();
        assertEquals(PVH_ENTRY, pvhEntryOf(elf));
    }

    @Test
    void longestCommandLineFitsItsArea() throws Exception {
        RamLayout layout = RamLayout.of(128 * MIB);
        String cmd = "a".repeat(0xFFFF);
        try (GuestMemory mem = TestGuest.memory(layout)) {
            KernelLoader.load(mem, layout,
                    new BootRequest(file("vmlinux", vmlinux().build()), null, cmd, 0));
            assertEquals('a', mem.readByte(0x20000 + 0xFFFE));
            assertEquals(0, mem.readByte(0x20000 + 0xFFFF));
        }
    }

    // ---- errors ----

    private String failure(RamLayout layout, BootRequest request) {
        try (GuestMemory mem = TestGuest.memory(layout)) {
            BootException e = assertThrows(BootException.class,
                    () -> KernelLoader.load(mem, layout, request));
            assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
            return e.getMessage();
        }
    }

    private String failure(byte[] kernel) throws IOException {
        return failure(RamLayout.of(128 * MIB),
                new BootRequest(file("kernel", kernel), null, null, 0));
    }

    @Test
    void missingKernelFile() {
        Path p = dir.resolve("nope");
        String m = failure(RamLayout.of(128 * MIB), new BootRequest(p, null, null, 0));
        assertEquals("Kernel file not found: path=" + p, m);
    }

    @Test
    void kernelPathIsADirectory() {
        String m = failure(RamLayout.of(128 * MIB), new BootRequest(dir, null, null, 0));
        assertEquals("Kernel path is a directory: path=" + dir, m);
    }

    @Test
    void kernelAndInitramfsMustBeRegularFiles() throws IOException {
        String m = failure(RamLayout.of(128 * MIB),
                new BootRequest(Path.of("/dev/zero"), null, null, 0));
        assertEquals("Kernel file is not a regular file: path=/dev/zero", m);
        // Regression: a character device reports size 0 and was called an empty file.
        m = failure(RamLayout.of(128 * MIB),
                new BootRequest(file("k", vmlinux().build()), Path.of("/dev/zero"), null, 0));
        assertEquals("Initramfs file is not a regular file: path=/dev/zero", m);
    }

    @Test
    void kernelBehindASymbolicLinkIsFollowed() throws Exception {
        Path target = file("vmlinux", vmlinux().build());
        Path link = Files.createSymbolicLink(dir.resolve("link"), target);
        RamLayout layout = RamLayout.of(128 * MIB);
        try (GuestMemory mem = TestGuest.memory(layout)) {
            assertEquals(PVH_ENTRY, KernelLoader.load(mem, layout,
                    new BootRequest(link, null, null, 0)).vcpu().rip());
        }
    }

    @Test
    void neitherElfNorBzImage() throws IOException {
        assertTrue(failure(pattern(4096, 0)).startsWith("Not an ELF or bzImage kernel: path="));
        assertTrue(failure(new byte[0]).startsWith("Not an ELF or bzImage kernel: path="));
    }

    @Test
    void elf32IsRejected() throws IOException {
        String m = failure(vmlinux().elfClass(1).build());
        assertTrue(m.startsWith("ELF kernel is not little-endian x86-64 ELF64"), m);
        assertTrue(m.contains("class=1"), m);
    }

    @Test
    void foreignMachineIsRejected() throws IOException {
        String m = failure(vmlinux().machine(183).build());
        assertTrue(m.contains("machine=183"), m);
    }

    @Test
    void elfWithoutPvhNoteIsRejected() throws IOException {
        byte[] otherNotes = new ElfImageBuilder().load(TEXT_AT, text, text.length)
                .notes(new Note("Linux", 0x101, new byte[] {0}),
                        new Note("Xen", 1, ElfImageBuilder.le64(PVH_ENTRY)),
                        new Note("Xenon", ElfKernel.XEN_ELFNOTE_PHYS32_ENTRY,
                                ElfImageBuilder.le64(PVH_ENTRY)))
                .build();
        assertTrue(failure(otherNotes).startsWith("Kernel missing PVH header: path="));
        byte[] noNotes = new ElfImageBuilder().load(TEXT_AT, text, text.length).build();
        assertTrue(failure(noNotes).startsWith("Kernel missing PVH header: path="));
    }

    @Test
    void truncatedElfIsMalformed() throws IOException {
        byte[] elf = vmlinux().build();
        assertTrue(failure(Arrays.copyOf(elf, 40)).startsWith("ELF kernel is malformed"));
        assertTrue(failure(Arrays.copyOf(elf, 100)).contains("program headers outside the file"));
        assertTrue(failure(Arrays.copyOf(elf, elf.length - 200))
                .contains("outside the file"));
    }

    private static byte[] patchLong(byte[] elf, int at, long value) {
        byte[] copy = elf.clone();
        java.nio.ByteBuffer.wrap(copy).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(at, value);
        return copy;
    }

    /** File offset of field {@code field} in program header {@code i}. */
    private static int phdr(int i, int field) {
        return ElfKernel.SIZEOF_EHDR + i * ElfKernel.SIZEOF_PHDR + field;
    }

    @Test
    void unsignedHeaderFieldsArePrintedUnsigned() throws IOException {
        // Regression: these printed as memsz=-1, offset=-256 and phoff=-256.
        byte[] elf = vmlinux().build();
        String m = failure(patchLong(elf, phdr(0, ElfKernel.OFFSETOF_P_MEMSZ), -1L));
        assertTrue(m.endsWith(", segment 0 runs past the top of the address space:"
                + " paddr=0x1000000 memsz=0xffffffffffffffff"), m);
        m = failure(patchLong(elf, phdr(0, ElfKernel.OFFSETOF_P_OFFSET), -256L));
        assertTrue(m.endsWith(", segment 0 outside the file: offset=18446744073709551360"
                + " filesz=9029 file_size=" + elf.length), m);
        m = failure(patchLong(elf, ElfKernel.OFFSETOF_E_PHOFF, -256L));
        assertTrue(m.endsWith(", program headers outside the file:"
                + " phoff=18446744073709551360 phnum=3"), m);
        m = failure(patchLong(elf, phdr(1, ElfKernel.OFFSETOF_P_MEMSZ), 0x10));
        assertTrue(m.endsWith(", segment 1 has filesz=2048 larger than memsz=16"), m);
    }

    @Test
    void segmentAboveTwoToThe63IsTooLittleMemoryNotLowMemory() throws IOException {
        byte[] elf = patchLong(vmlinux().build(), phdr(0, ElfKernel.OFFSETOF_P_PADDR),
                0x8000_0000_0000_0000L);
        assertEquals("Too little memory for kernel and initramfs: kernel needs"
                + " [0x8000000000000000, 0x8000000000002345), RAM below 3 GiB ends at 0x8000000"
                + " (ram_size=134217728)", failure(elf));
    }

    @Test
    void segmentOfMoreThan2To63BytesIsNotMistakenForAnEmptyOne() throws IOException {
        byte[] elf = patchLong(vmlinux().build(), phdr(0, ElfKernel.OFFSETOF_P_MEMSZ),
                0x8000_0000_0000_0000L);
        assertEquals("Too little memory for kernel and initramfs: kernel needs"
                + " [0x1000000, 0x8000000001000000), RAM below 3 GiB ends at 0x8000000"
                + " (ram_size=134217728)", failure(elf));
    }

    @Test
    void segmentBelow1MibIsRejected() throws IOException {
        byte[] elf = new ElfImageBuilder().load(0x8000, text, text.length)
                .pvhEntry(0x8000).build();
        assertTrue(failure(elf).startsWith("ELF kernel segment below 1 MiB"));
    }

    @Test
    void segmentBeyondRamIsTooLittleMemory() throws IOException {
        byte[] elf = new ElfImageBuilder().load(127 * MIB, text, 2 * MIB)
                .pvhEntry(127 * MIB).build();
        String m = failure(elf);
        assertEquals("Too little memory for kernel and initramfs: kernel needs"
                + " [0x7f00000, 0x8100000), RAM below 3 GiB ends at 0x8000000"
                + " (ram_size=134217728)", m);
    }

    @Test
    void segmentInTheDeviceHoleIsTooLittleMemory() throws IOException {
        byte[] elf = new ElfImageBuilder().load(0xC000_0000L, text, text.length)
                .pvhEntry(0xC000_0000L).build();
        String m = failure(RamLayout.of(3584 * MIB),
                new BootRequest(file("k", elf), null, null, 0));
        assertTrue(m.startsWith("Too little memory for kernel and initramfs"), m);
    }

    @Test
    void missingInitramfs() throws IOException {
        Path p = dir.resolve("no-initrd");
        String m = failure(RamLayout.of(128 * MIB),
                new BootRequest(file("k", vmlinux().build()), p, null, 0));
        assertEquals("Initramfs file not found: path=" + p, m);
    }

    @Test
    void emptyInitramfs() throws IOException {
        String m = failure(RamLayout.of(128 * MIB), new BootRequest(
                file("k", vmlinux().build()), file("initrd", new byte[0]), null, 0));
        assertTrue(m.startsWith("Initramfs file is empty"), m);
    }

    @Test
    void initramfsThatDoesNotFitAboveTheKernel() throws IOException {
        RamLayout layout = RamLayout.of(32 * MIB);
        Path initrd = file("initrd", new byte[(int) (14 * MIB)]);
        Path kernel = file("k", vmlinux().build());
        try (GuestMemory mem = TestGuest.memory(layout)) {
            BootException e = assertThrows(BootException.class, () -> KernelLoader.load(
                    mem, layout, new BootRequest(kernel, initrd, CMDLINE, 0)));
            assertEquals("Too little memory for kernel and initramfs: kernel ends at 0x1203000,"
                    + " initramfs_size=14680064 must end below 0x2000000 (ram_size=33554432)",
                    e.getMessage());
            // Nothing was written before the check failed.
            assertArrayEquals(new byte[text.length], mem.read(TEXT_AT, text.length));
            assertEquals(0, mem.readInt(0x6000));
            assertEquals(0, mem.readByte(0x20000));
            assertEquals(0, mem.readLong(0x500 + 8));
        }
    }

    @Test
    void commandLineLongerThanItsArea() throws IOException {
        String m = failure(RamLayout.of(128 * MIB),
                new BootRequest(file("k", vmlinux().build()), null, "a".repeat(0x10000), 0));
        assertEquals("Kernel command line too long: length=65536, the command line area takes"
                + " at most 65535", m);
    }

    @Test
    void commandLineWithNulByte() throws IOException {
        String m = failure(RamLayout.of(128 * MIB),
                new BootRequest(file("k", vmlinux().build()), null, "a\0b", 0));
        assertEquals("Kernel command line contains a NUL byte", m);
    }
}
