package dev.nimbus.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks the built images against the formats a loader reads: the ELF64 PVH note and the Linux
 * setup header (Documentation/arch/x86/boot.rst).
 */
class GuestKitTest {
    private static final int ELFCLASS64 = 2;
    private static final int EM_X86_64 = 62;
    private static final int PT_LOAD = 1;
    private static final int PT_NOTE = 4;
    private static final int XEN_ELFNOTE_PHYS32_ENTRY = 18;

    @Test
    void pvhGuestIsElf64WithPhys32EntryNoteInsideItsCode() throws IOException {
        ByteBuffer elf = read(GuestKit.pvhGuest());

        assertEquals(0x464C457F, elf.getInt(0), "ELF magic");
        assertEquals(ELFCLASS64, elf.get(4));
        assertEquals(EM_X86_64, elf.getShort(18));
        long phoff = elf.getLong(32);
        int phentsize = elf.getShort(54);
        int phnum = elf.getShort(56);

        long entry = -1;
        long loadStart = Long.MAX_VALUE;
        long loadEnd = 0;
        boolean entryInCode = false;
        for (int i = 0; i < phnum; i++) {
            int ph = (int) (phoff + (long) i * phentsize);
            int type = elf.getInt(ph);
            long offset = elf.getLong(ph + 8);
            long paddr = elf.getLong(ph + 24);
            long filesz = elf.getLong(ph + 32);
            if (type == PT_NOTE) {
                entry = phys32Entry(elf, (int) offset, (int) filesz);
            } else if (type == PT_LOAD) {
                loadStart = Math.min(loadStart, paddr);
                loadEnd = Math.max(loadEnd, paddr + filesz);
            }
        }
        for (int i = 0; i < phnum; i++) {
            int ph = (int) (phoff + (long) i * phentsize);
            long paddr = elf.getLong(ph + 24);
            boolean executable = (elf.getInt(ph + 4) & 1) != 0;
            if (elf.getInt(ph) == PT_LOAD && executable && entry >= paddr
                    && entry < paddr + elf.getLong(ph + 32)) {
                entryInCode = true;
            }
        }
        assertEquals(0x100000, entry, "PVH entry");
        assertTrue(entryInCode, "PVH entry lies in an executable PT_LOAD segment");
        assertEquals(0x100000, loadStart, "loaded from 1 MiB");
        assertTrue(loadEnd < 0x200000, "small image: end=" + Long.toHexString(loadEnd));
    }

    @Test
    void bzImageCarriesA215SetupHeaderForA64BitRelocatableKernel() throws IOException {
        ByteBuffer bz = read(GuestKit.bzImageGuest());
        int size = bz.capacity();

        int setupSects = bz.get(0x1F1) & 0xFF;
        int pmOffset = (setupSects + 1) * 512;
        int pmSize = size - pmOffset;
        assertEquals((short) 0xAA55, bz.getShort(0x1FE), "boot_flag");
        assertEquals("HdrS", ascii(bz, 0x202, 4));
        assertEquals(0x020F, bz.getShort(0x206), "protocol version");
        assertTrue(setupSects >= 1, "setup_sects=" + setupSects);
        assertEquals((pmSize + 15) / 16, bz.getInt(0x1F4), "syssize in 16-byte units");
        assertEquals(0x01, bz.get(0x211) & 0x01, "loadflags LOADED_HIGH");
        assertEquals(0x01, bz.getShort(0x236) & 0x01, "xloadflags XLF_KERNEL_64");
        assertEquals(1, bz.get(0x234), "relocatable_kernel");
        assertEquals(0x100000, bz.getInt(0x214), "code32_start");
        assertEquals(0x100000, bz.getLong(0x258), "pref_address");
        int alignment = bz.getInt(0x230);
        assertEquals(1, Integer.bitCount(alignment), "kernel_alignment is a power of two");
        assertEquals(alignment, 1 << bz.get(0x235), "min_alignment is log2 of it");
        assertEquals(2047, bz.getInt(0x238), "cmdline_size");
        int initSize = bz.getInt(0x260);
        assertTrue(initSize >= pmSize && initSize % 4096 == 0, "init_size=" + initSize);

        // The jump at 0x200 lands right after the header, which ends at 0x26C.
        assertEquals((byte) 0xEB, bz.get(0x200));
        assertEquals(0x26C, 0x202 + bz.get(0x201));
        int kernelInfo = pmOffset + bz.getInt(0x268);
        assertEquals("LToP", ascii(bz, kernelInfo, 4), "kernel_info");
        int versionString = 0x200 + bz.getShort(0x20E);
        assertEquals("nimbus-kit", ascii(bz, versionString, 10));
    }

    @Test
    void secondUseReusesTheBuild() throws IOException {
        Path pvh = GuestKit.pvhGuest();
        FileTime built = Files.getLastModifiedTime(pvh);

        assertEquals(pvh, GuestKit.pvhGuest());
        assertEquals(built, Files.getLastModifiedTime(pvh));
        assertEquals(pvh.getParent(), GuestKit.bzImageGuest().getParent());
        assertEquals(GuestKit.sourceHash(GuestKit.sourceDirectory()),
                pvh.getParent().getFileName().toString());
    }

    @Test
    void sourceHashChangesWithAnySourceByte(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("a.c"), "int a;");
        Files.writeString(dir.resolve("notes.md"), "not hashed");
        String before = GuestKit.sourceHash(dir);
        Files.writeString(dir.resolve("notes.md"), "edited, still not hashed");
        String docsEdited = GuestKit.sourceHash(dir);
        Files.writeString(dir.resolve("a.c"), "int b;");

        assertEquals(before, docsEdited);
        assertNotEquals(before, GuestKit.sourceHash(dir));
        assertEquals(16, before.length());
    }

    @Test
    void builtImagesAreReproducible(@TempDir Path dir) throws Exception {
        Process p = new ProcessBuilder("sh", GuestKit.sourceDirectory().resolve("build.sh")
                .toString(), dir.toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), log);

        assertArrayEquals(Files.readAllBytes(GuestKit.pvhGuest()),
                Files.readAllBytes(dir.resolve("kit-pvh.elf")));
        assertArrayEquals(Files.readAllBytes(GuestKit.bzImageGuest()),
                Files.readAllBytes(dir.resolve("kit-bzImage")));
    }

    @Test
    void missingToolsAreNamedWithTheirPackages(@TempDir Path dir) throws IOException {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        for (String tool : new String[] {"as", "objcopy", "readelf"}) {
            Path t = Files.writeString(bin.resolve(tool), "#!/bin/sh\n");
            t.toFile().setExecutable(true);
        }

        String message = GuestKit.missingTools(bin.toString());

        assertTrue(message.contains("missing=gcc,ld "), message);
        assertTrue(message.contains("gcc-multilib binutils"), message);
        assertNull(GuestKit.missingTools(System.getenv("PATH")), "this host has the tools");
    }

    /** The address in the Xen PHYS32_ENTRY note (4- or 8-byte descriptor), or -1. */
    private static long phys32Entry(ByteBuffer elf, int offset, int size) {
        int p = offset;
        while (p + 12 <= offset + size) {
            int namesz = elf.getInt(p);
            int descsz = elf.getInt(p + 4);
            int type = elf.getInt(p + 8);
            String name = ascii(elf, p + 12, Math.max(0, namesz - 1));
            int desc = p + 12 + align4(namesz);
            if (name.equals("Xen") && type == XEN_ELFNOTE_PHYS32_ENTRY) {
                return descsz == 8 ? elf.getLong(desc) : elf.getInt(desc) & 0xFFFFFFFFL;
            }
            p = desc + align4(descsz);
        }
        return -1;
    }

    private static int align4(int n) {
        return (n + 3) & ~3;
    }

    private static String ascii(ByteBuffer b, int offset, int length) {
        byte[] bytes = new byte[length];
        b.get(offset, bytes);
        return new String(bytes, StandardCharsets.US_ASCII);
    }

    private static ByteBuffer read(Path p) throws IOException {
        return ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
    }
}
