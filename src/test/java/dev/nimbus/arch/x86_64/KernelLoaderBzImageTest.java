package dev.nimbus.arch.x86_64;

import dev.nimbus.hypervisor.Segment;

import static dev.nimbus.arch.x86_64.BzImageBuilder.pattern;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.memory.GuestMemory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KernelLoaderBzImageTest {
    private static final long MIB = 1L << 20;
    private static final long GIB = 1L << 30;
    private static final long ZP = 0x7000;
    private static final String CMDLINE = "console=ttyS0 reboot=k panic=1";

    @TempDir
    Path dir;

    private Path file(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    private static long le32(byte[] b, int off) {
        return Integer.toUnsignedLong(
                ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(off));
    }

    @Test
    void protectedModeKernelGoesToPrefAddress() throws Exception {
        BzImageBuilder b = new BzImageBuilder();
        RamLayout layout = RamLayout.of(128 * MIB);
        try (GuestMemory mem = TestGuest.memory(layout)) {
            LoadedKernel k = KernelLoader.load(mem, layout,
                    new BootRequest(file("bzImage", b.build()), null, CMDLINE, 0));
            assertEquals(LoadedKernel.Format.BZIMAGE, k.format());
            assertArrayEquals(b.payload, mem.read(0x100_0000L, b.payload.length));
            assertEquals(0x100_0000L, k.kernelStart());
            assertEquals(0x100_0000L + b.initSize, k.kernelEnd());
        }
    }

    @Test
    void zeroPageHoldsTheSetupHeaderAndLoaderFields() throws Exception {
        BzImageBuilder b = new BzImageBuilder();
        byte[] image = b.build();
        byte[] initrd = pattern(5000, 2);
        RamLayout layout = RamLayout.of(128 * MIB);
        try (GuestMemory mem = TestGuest.memory(layout)) {
            mem.write(ZP, pattern(4096, 0x77)); // stale bytes the loader must clear
            KernelLoader.load(mem, layout, new BootRequest(file("bzImage", image),
                    file("initrd", initrd), CMDLINE, Layout.RSDP_POINTER));
            byte[] zp = mem.read(ZP, 4096);
            ByteBuffer z = ByteBuffer.wrap(zp).order(ByteOrder.LITTLE_ENDIAN);

            // Fields the loader writes.
            long initrdAt = 0x7FFE000L; // (0x8000000 - 5000) & ~0xFFF
            assertEquals((byte) 0xFF, zp[0x210]); // type_of_loader
            assertEquals(0x100_0000, z.getInt(0x214)); // code32_start
            assertEquals(initrdAt, Integer.toUnsignedLong(z.getInt(0x218))); // ramdisk_image
            assertEquals(5000, z.getInt(0x21C)); // ramdisk_size
            assertEquals(0x20000, z.getInt(0x228)); // cmd_line_ptr
            assertEquals(0xA0000L, z.getLong(0x070)); // acpi_rsdp_addr
            assertEquals(0, z.getInt(0x0C0)); // ext_ramdisk_image
            assertEquals(0, z.getInt(0x0C4)); // ext_ramdisk_size
            assertEquals(0, z.getInt(0x0C8)); // ext_cmd_line_ptr
            assertEquals(3, zp[0x1E8]); // e820_entries
            assertEquals(0, zp[0x1EF]); // sentinel: only the header was copied

            // Every other header byte is the image's, up to the header's end at 0x26C.
            Set<Integer> written = Set.of(0x210, 0x214, 0x215, 0x216, 0x217, 0x218, 0x219,
                    0x21A, 0x21B, 0x21C, 0x21D, 0x21E, 0x21F, 0x228, 0x229, 0x22A, 0x22B);
            for (int off = 0x1F1; off < 0x26C; off++) {
                if (!written.contains(off)) {
                    assertEquals(image[off], zp[off], String.format("header byte 0x%x", off));
                }
            }
            // No real-mode code runs, so loadflags (CAN_USE_HEAP clear) and heap_end_ptr stay.
            assertEquals(BzImage.LOADED_HIGH, zp[0x211]);
            assertEquals(le32(image, 0x224) & 0xFFFF, z.getShort(0x224) & 0xFFFF);

            // e820 table: three 20-byte entries.
            List<long[]> want = List.of(new long[] {0, 0xA0000, 1},
                    new long[] {MIB, 127 * MIB, 1}, new long[] {0xE800_0000L, 256 * MIB, 2});
            for (int i = 0; i < want.size(); i++) {
                int e = 0x2D0 + 20 * i;
                assertEquals(want.get(i)[0], z.getLong(e), "e820 " + i + " addr");
                assertEquals(want.get(i)[1], z.getLong(e + 8), "e820 " + i + " size");
                assertEquals(want.get(i)[2], z.getInt(e + 16), "e820 " + i + " type");
            }

            // Everything else in the page is zero.
            for (int off = 0; off < 4096; off++) {
                boolean rsdp = off >= 0x070 && off < 0x078;
                boolean count = off == 0x1E8;
                boolean header = off >= 0x1F1 && off < 0x26C;
                boolean e820 = off >= 0x2D0 && off < 0x2D0 + 60;
                if (!rsdp && !count && !header && !e820) {
                    assertEquals(0, zp[off], String.format("zero page byte 0x%x", off));
                }
            }

            assertArrayEquals(initrd, mem.read(initrdAt, initrd.length));
            byte[] cmd = CMDLINE.getBytes(StandardCharsets.US_ASCII);
            assertArrayEquals(cmd, mem.read(0x20000, cmd.length));
            assertEquals(0, mem.readByte(0x20000 + cmd.length));
            assertEquals((short) 0xA000, mem.readShort(Layout.EBDA_POINTER));
        }
    }

    @Test
    void bootStateIsLongModeAtStartup64() throws Exception {
        RamLayout layout = RamLayout.of(128 * MIB);
        try (GuestMemory mem = TestGuest.memory(layout)) {
            VcpuBootState s = KernelLoader.load(mem, layout, new BootRequest(
                    file("bzImage", new BzImageBuilder().build()), null, null, 0)).vcpu();
            assertEquals(EntryMode.LONG_64, s.mode());
            assertEquals(0x100_0200L, s.rip());
            assertEquals(0x7000, s.rsi());
            assertEquals(0x8FF0, s.rsp());
            assertEquals(0, s.rbx());
            assertEquals(0x2, s.rflags());
            assertEquals(0x8000_0001L, s.cr0());
            assertEquals(0xA000, s.cr3());
            assertEquals(0x20, s.cr4());
            assertEquals(0x500, s.efer());
            Gdt gdt = Gdt.forMode(EntryMode.LONG_64);
            assertEquals(gdt.code(), s.cs());
            assertEquals(1, s.cs().l());
            assertEquals(0, s.cs().db());
            for (Segment d : List.of(s.ds(), s.es(), s.fs(), s.gs(), s.ss())) {
                assertEquals(gdt.data(), d);
            }
            assertEquals(gdt.tss(), s.tr());
            assertEquals(0x00AF_9B00_0000_FFFFL, mem.readLong(0x508));
            // The identity map is in place.
            assertEquals(0xB003L, mem.readLong(0xA000));
            assertEquals(0xC003L, mem.readLong(0xB000));
            assertEquals(0x83L | 0x100_0000L, mem.readLong(0xC000 + 8 * 8));
            assertEquals(0x83L | 0xFFE0_0000L, mem.readLong(0xF000 + 8 * 511));
        }
    }

    @Test
    void noRsdpBeforeProtocol214() throws Exception {
        BzImageBuilder b = new BzImageBuilder();
        b.version = 0x020D;
        RamLayout layout = RamLayout.of(128 * MIB);
        try (GuestMemory mem = TestGuest.memory(layout)) {
            KernelLoader.load(mem, layout,
                    new BootRequest(file("bzImage", b.build()), null, null, 0xA0000));
            assertEquals(0, mem.readLong(ZP + 0x070));
            assertEquals(0x020D, mem.readShort(ZP + 0x206));
        }
    }

    @Test
    void withoutPrefAddressKernelLoadsAt1Mib() throws Exception {
        BzImageBuilder b = new BzImageBuilder();
        b.prefAddress = 0;
        RamLayout layout = RamLayout.of(128 * MIB);
        try (GuestMemory mem = TestGuest.memory(layout)) {
            LoadedKernel k = KernelLoader.load(mem, layout,
                    new BootRequest(file("bzImage", b.build()), null, null, 0));
            assertEquals(0x10_0200L, k.vcpu().rip());
            assertArrayEquals(b.payload, mem.read(0x10_0000L, b.payload.length));
            assertEquals(0x10_0000, mem.readInt(ZP + 0x214));
        }
    }

    @Test
    void zeroSetupSectsMeansFour() throws Exception {
        BzImageBuilder b = new BzImageBuilder();
        b.setupSects = 0;
        RamLayout layout = RamLayout.of(128 * MIB);
        try (GuestMemory mem = TestGuest.memory(layout)) {
            KernelLoader.load(mem, layout,
                    new BootRequest(file("bzImage", b.build()), null, null, 0));
            assertArrayEquals(b.payload, mem.read(0x100_0000L, b.payload.length));
        }
    }

    @Test
    void shorterHeaderIsCopiedOnlyAsFarAsItGoes() throws Exception {
        BzImageBuilder b = new BzImageBuilder();
        b.jump = 0x62; // header ends at 0x264, before handover_offset
        RamLayout layout = RamLayout.of(128 * MIB);
        try (GuestMemory mem = TestGuest.memory(layout)) {
            KernelLoader.load(mem, layout,
                    new BootRequest(file("bzImage", b.build()), null, null, 0));
            assertEquals(b.initSize, mem.readInt(ZP + 0x260));
            assertEquals(0, mem.readInt(ZP + 0x264));
            assertEquals(0, mem.readInt(ZP + 0x268));
        }
    }

    @Test
    void initramfsStaysBelowInitrdAddrMax() throws Exception {
        byte[] initrd = pattern(9000, 5);
        RamLayout layout = RamLayout.of(3584 * MIB);
        try (GuestMemory mem = TestGuest.memory(layout)) {
            LoadedKernel k = KernelLoader.load(mem, layout, new BootRequest(
                    file("bzImage", new BzImageBuilder().build()), file("i", initrd), null, 0));
            // initrd_addr_max 0x7FFFFFFF: (0x80000000 - 9000) & ~0xFFF.
            assertEquals(0x7FFF_D000L, k.initramfsAddr());
            assertArrayEquals(initrd, mem.read(0x7FFF_D000L, initrd.length));
            assertEquals(0x7FFF_D000L, Integer.toUnsignedLong(mem.readInt(ZP + 0x218)));
            assertEquals(4, mem.readByte(ZP + 0x1E8));
            assertEquals(4 * GIB, mem.readLong(ZP + 0x2D0 + 20 * 2));
            assertEquals(512 * MIB, mem.readLong(ZP + 0x2D0 + 20 * 2 + 8));
        }
    }

    @Test
    void initramfsStaysBelow3GibWhenTheKernelAllowsMore() throws Exception {
        BzImageBuilder b = new BzImageBuilder();
        b.initrdAddrMax = 0xFFFF_FFFFL;
        RamLayout layout = RamLayout.of(6 * GIB);
        try (GuestMemory mem = TestGuest.memory(layout)) {
            LoadedKernel k = KernelLoader.load(mem, layout, new BootRequest(
                    file("bzImage", b.build()), file("i", pattern(4096, 1)), null, 0));
            assertEquals(3 * GIB - 4096, k.initramfsAddr());
        }
    }

    @Test
    void longestCommandLineTheKernelTakes() throws Exception {
        RamLayout layout = RamLayout.of(128 * MIB);
        try (GuestMemory mem = TestGuest.memory(layout)) {
            KernelLoader.load(mem, layout, new BootRequest(
                    file("bzImage", new BzImageBuilder().build()), null, "b".repeat(0x7FF), 0));
            assertEquals('b', mem.readByte(0x20000 + 0x7FE));
            assertEquals(0, mem.readByte(0x20000 + 0x7FF));
        }
    }

    // ---- errors ----

    private String failure(RamLayout layout, byte[] image, byte[] initrd, String cmdline)
            throws IOException {
        Path k = file("bzImage", image);
        Path i = initrd == null ? null : file("initrd", initrd);
        try (GuestMemory mem = TestGuest.memory(layout)) {
            BootException e = assertThrows(BootException.class,
                    () -> KernelLoader.load(mem, layout, new BootRequest(k, i, cmdline, 0)));
            // Nothing reached guest memory.
            assertEquals(0, mem.readLong(ZP + 0x1F0));
            assertEquals(0, mem.readByte(0x20000));
            assertEquals(0, mem.readLong(0xA000));
            return e.getMessage();
        }
    }

    private String failure(BzImageBuilder b) throws IOException {
        return failure(RamLayout.of(128 * MIB), b.build(), null, null);
    }

    @Test
    void missingHdrSIsTooOld() throws IOException {
        BzImageBuilder b = new BzImageBuilder();
        b.hdrs = false;
        assertTrue(failure(b).startsWith("bzImage too old: no HdrS setup header signature"));
        // A boot sector alone: boot flag, nothing after it.
        byte[] sector = Arrays.copyOf(b.build(), 0x200);
        assertTrue(failure(RamLayout.of(128 * MIB), sector, null, null)
                .startsWith("bzImage too old: no HdrS"));
    }

    @Test
    void protocolBefore212IsTooOld() throws IOException {
        BzImageBuilder b = new BzImageBuilder();
        b.version = 0x020B;
        String m = failure(b);
        assertTrue(m.startsWith("bzImage boot protocol too old for the 64-bit entry"), m);
        assertTrue(m.contains("version=2.11 (need 2.12)"), m);
    }

    @Test
    void kernelWithout64BitEntry() throws IOException {
        BzImageBuilder b = new BzImageBuilder();
        b.xloadflags = 0x1C;
        String m = failure(b);
        assertTrue(m.startsWith("bzImage is not 64-bit capable"), m);
        assertTrue(m.contains("xloadflags=0x1c (XLF_KERNEL_64 clear)"), m);
    }

    @Test
    void zImageIsRejected() throws IOException {
        BzImageBuilder b = new BzImageBuilder();
        b.loadflags = 0;
        assertTrue(failure(b).startsWith("Kernel is a zImage, not a bzImage"));
    }

    @Test
    void truncatedImage() throws IOException {
        byte[] image = Arrays.copyOf(new BzImageBuilder().build(), 28 * 512);
        String m = failure(RamLayout.of(128 * MIB), image, null, null);
        assertTrue(m.startsWith("bzImage is truncated"), m);
        assertTrue(m.contains("size=14336, need at least 14337"), m);
    }

    @Test
    void commandLineLongerThanCmdlineSize() throws IOException {
        String m = failure(RamLayout.of(128 * MIB), new BzImageBuilder().build(), null,
                "c".repeat(0x800));
        assertEquals("Kernel command line too long: length=2048, the kernel (cmdline_size)"
                + " takes at most 2047", m);
    }

    @Test
    void kernelLargerThanRam() throws IOException {
        BzImageBuilder b = new BzImageBuilder();
        b.initSize = 20 * MIB;
        String m = failure(RamLayout.of(32 * MIB), b.build(), null, null);
        assertEquals("Too little memory for kernel and initramfs: kernel needs"
                + " [0x1000000, 0x2400000), RAM below 3 GiB ends at 0x2000000"
                + " (ram_size=33554432)", m);
    }

    @Test
    void initramfsWithNoRoomBelowInitrdAddrMax() throws IOException {
        BzImageBuilder b = new BzImageBuilder();
        b.initrdAddrMax = 0x13F_FFFFL; // the kernel's init_size ends right there
        String m = failure(RamLayout.of(128 * MIB), b.build(), pattern(100, 1), null);
        assertEquals("Too little memory for kernel and initramfs: kernel ends at 0x1400000,"
                + " initramfs_size=100 must end below 0x1400000 (ram_size=134217728)", m);
    }

    @Test
    void prefAddressInLowMemoryIsRejected() throws IOException {
        BzImageBuilder b = new BzImageBuilder();
        b.prefAddress = 0x8_0000;
        assertTrue(failure(b).startsWith("bzImage wants to load below 1 MiB"));
    }

    @Test
    void prefAddressNearTheTopOfTheAddressSpaceIsTooLittleMemory() throws IOException {
        // Regression: pref_address + init_size wrapped past 2^63, the fit check passed and
        // copying the kernel failed with a GuestMemoryException.
        BzImageBuilder b = new BzImageBuilder();
        b.prefAddress = 0x7fff_ffff_ffff_f000L;
        assertEquals("Too little memory for kernel and initramfs: kernel needs"
                + " [0x7ffffffffffff000, 0x80000000003ff000), RAM below 3 GiB ends at 0x8000000"
                + " (ram_size=134217728)", failure(b));
        // Past 2^63 the address is not "below 1 MiB", and the end passes 2^64.
        b.prefAddress = 0xffff_ffff_ffff_f000L;
        assertEquals("Too little memory for kernel and initramfs: kernel needs"
                + " [0xfffffffffffff000, 0x100000000003ff000), RAM below 3 GiB ends at 0x8000000"
                + " (ram_size=134217728)", failure(b));
    }

    @Test
    void fitsBelowNeverFormsAWrappingSum() {
        assertTrue(KernelLoader.fitsBelow(0x100000, 0x100000, 0x200000));
        assertFalse(KernelLoader.fitsBelow(0x100000, 0x100001, 0x200000));
        assertFalse(KernelLoader.fitsBelow(0x7fff_ffff_ffff_f000L, 0x40_0000, 0x800_0000));
        assertFalse(KernelLoader.fitsBelow(0x100000, -1L, 0x800_0000));
        assertFalse(KernelLoader.fitsBelow(-4096L, 0x2000, -1L));
        assertTrue(KernelLoader.fitsBelow(-4096L, 0xfff, -1L));
        assertEquals("0x100000000000003ff", KernelLoader.hexEnd(-1L, 0x400));
        assertEquals("0x2000", KernelLoader.hexEnd(0x1000, 0x1000));
    }
}
