package dev.nimbus.arch.x86_64;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * An ELF64 x86-64 kernel with a PVH entry point (a Linux {@code vmlinux} built with
 * CONFIG_PVH, or any PVH guest): its loadable segments and the 32-bit entry address from its
 * {@code XEN_ELFNOTE_PHYS32_ENTRY} note. Layouts follow the System V gABI ELF64 structures.
 *
 * @param segments PT_LOAD segments with a non-zero memory size, in file order
 * @param pvhEntry guest physical address of the 32-bit PVH entry
 */
record ElfKernel(List<LoadSegment> segments, long pvhEntry) {
    static final byte[] ELFMAG = {0x7F, 'E', 'L', 'F'};
    static final int EI_CLASS = 4;
    static final int EI_DATA = 5;
    static final int ELFCLASS64 = 2;
    static final int ELFDATA2LSB = 1;
    static final int EM_X86_64 = 62;

    /** Elf64_Ehdr field offsets. */
    static final int SIZEOF_EHDR = 64;
    static final int OFFSETOF_E_MACHINE = 18;
    static final int OFFSETOF_E_PHOFF = 32;
    static final int OFFSETOF_E_PHENTSIZE = 54;
    static final int OFFSETOF_E_PHNUM = 56;

    /** Elf64_Phdr field offsets. */
    static final int SIZEOF_PHDR = 56;
    static final int OFFSETOF_P_TYPE = 0;
    static final int OFFSETOF_P_OFFSET = 8;
    static final int OFFSETOF_P_PADDR = 24;
    static final int OFFSETOF_P_FILESZ = 32;
    static final int OFFSETOF_P_MEMSZ = 40;
    static final int OFFSETOF_P_ALIGN = 48;

    /** Elf64_Nhdr: namesz, descsz and type, 4 bytes each. */
    static final int SIZEOF_NHDR = 12;

    static final int PT_LOAD = 1;
    static final int PT_NOTE = 4;

    /** Xen's note owner name and the note giving the 32-bit PVH entry (xen/elfnote.h). */
    static final String XEN_ELFNOTE_NAME = "Xen";
    static final int XEN_ELFNOTE_PHYS32_ENTRY = 18;

    /** Upper bound on a note segment we read; real kernels carry well under 4 KiB of notes. */
    private static final int MAX_NOTE_SEGMENT = 1 << 20;

    /**
     * One PT_LOAD segment.
     *
     * @param offset file offset of its bytes
     * @param paddr guest physical load address
     * @param filesz bytes taken from the file
     * @param memsz bytes in memory; the part past {@code filesz} is zero (bss)
     */
    record LoadSegment(long offset, long paddr, long filesz, long memsz) {
        long end() {
            return paddr + memsz;
        }
    }

    /** Whether {@code head} starts with the ELF magic. */
    static boolean isElf(ByteBuffer head) {
        if (head.limit() < ELFMAG.length) {
            return false;
        }
        for (int i = 0; i < ELFMAG.length; i++) {
            if (head.get(i) != ELFMAG[i]) {
                return false;
            }
        }
        return true;
    }

    /** Parses the headers and notes of an ELF kernel; loads nothing. */
    static ElfKernel parse(KernelFile file) throws BootException {
        ByteBuffer eh = file.read(0, SIZEOF_EHDR);
        if (eh.limit() < SIZEOF_EHDR) {
            throw malformed(file, "file shorter than the ELF header: size=" + file.size());
        }
        int elfClass = eh.get(EI_CLASS);
        int data = eh.get(EI_DATA);
        int machine = Short.toUnsignedInt(eh.getShort(OFFSETOF_E_MACHINE));
        if (elfClass != ELFCLASS64 || data != ELFDATA2LSB || machine != EM_X86_64) {
            throw new BootException(String.format(
                    "ELF kernel is not little-endian x86-64 ELF64: path=%s class=%d data=%d"
                            + " machine=%d",
                    file.path(), elfClass, data, machine));
        }
        long phoff = eh.getLong(OFFSETOF_E_PHOFF);
        int phentsize = Short.toUnsignedInt(eh.getShort(OFFSETOF_E_PHENTSIZE));
        int phnum = Short.toUnsignedInt(eh.getShort(OFFSETOF_E_PHNUM));
        if (phentsize != SIZEOF_PHDR) {
            throw malformed(file, "program header size " + phentsize + ", expected 56");
        }
        if (!KernelLoader.fitsBelow(phoff, (long) phnum * SIZEOF_PHDR, file.size())) {
            throw malformed(file, "program headers outside the file: phoff="
                    + Long.toUnsignedString(phoff) + " phnum=" + phnum);
        }

        ByteBuffer ph = file.read(phoff, phnum * SIZEOF_PHDR);
        List<LoadSegment> segments = new ArrayList<>();
        Long entry = null;
        for (int i = 0; i < phnum; i++) {
            int base = i * SIZEOF_PHDR;
            int type = ph.getInt(base + OFFSETOF_P_TYPE);
            long offset = ph.getLong(base + OFFSETOF_P_OFFSET);
            long filesz = ph.getLong(base + OFFSETOF_P_FILESZ);
            if (type != PT_LOAD && type != PT_NOTE) {
                continue;
            }
            // ELF64 offsets, sizes and addresses are unsigned 64-bit: compared and printed so.
            if (!KernelLoader.fitsBelow(offset, filesz, file.size())) {
                throw malformed(file, "segment " + i + " outside the file: offset="
                        + Long.toUnsignedString(offset) + " filesz="
                        + Long.toUnsignedString(filesz) + " file_size=" + file.size());
            }
            if (type == PT_LOAD) {
                long paddr = ph.getLong(base + OFFSETOF_P_PADDR);
                long memsz = ph.getLong(base + OFFSETOF_P_MEMSZ);
                if (Long.compareUnsigned(filesz, memsz) > 0) {
                    throw malformed(file, "segment " + i + " has filesz="
                            + Long.toUnsignedString(filesz) + " larger than memsz="
                            + Long.toUnsignedString(memsz));
                }
                if (!KernelLoader.fitsBelow(paddr, memsz, -1L)) {
                    throw malformed(file, String.format(
                            "segment %d runs past the top of the address space: paddr=0x%x"
                                    + " memsz=0x%x", i, paddr, memsz));
                }
                if (memsz != 0) {
                    segments.add(new LoadSegment(offset, paddr, filesz, memsz));
                }
            } else if (entry == null) {
                long align = ph.getLong(base + OFFSETOF_P_ALIGN);
                entry = findPvhEntry(file, offset, filesz, align == 8 ? 8 : 4);
            }
        }
        if (segments.isEmpty()) {
            throw malformed(file, "no loadable segment");
        }
        if (entry == null) {
            throw new BootException("Kernel missing PVH header: path=" + file.path()
                    + " (no Xen note XEN_ELFNOTE_PHYS32_ENTRY; build Linux with CONFIG_PVH=y)");
        }
        return new ElfKernel(List.copyOf(segments), entry);
    }

    /**
     * Walks the notes of one PT_NOTE segment (Elf64_Nhdr: namesz, descsz, type, then name and
     * desc, each starting at an offset aligned to the segment's {@code align}) and returns the
     * PVH entry, or null if absent.
     */
    private static Long findPvhEntry(KernelFile file, long offset, long filesz, int align)
            throws BootException {
        if (filesz > MAX_NOTE_SEGMENT) {
            throw malformed(file, "note segment too large: filesz=" + filesz);
        }
        ByteBuffer notes = file.read(offset, (int) filesz);
        int pos = 0;
        while (notes.limit() - pos >= SIZEOF_NHDR) {
            long namesz = Integer.toUnsignedLong(notes.getInt(pos));
            long descsz = Integer.toUnsignedLong(notes.getInt(pos + 4));
            int type = notes.getInt(pos + 8);
            // The offsets of name, desc and the next note are aligned, which pads each part
            // (System V gABI, "Note Section"); 12 bytes of header leave an 8-aligned name
            // misaligned, so padding the sizes alone would not do.
            long nameAt = pos + SIZEOF_NHDR;
            long descAt = alignUp(nameAt + namesz, align);
            long next = alignUp(descAt + descsz, align);
            if (descAt + descsz > notes.limit()) {
                throw malformed(file, "note runs past its segment at offset " + (offset + pos));
            }
            if (type == XEN_ELFNOTE_PHYS32_ENTRY && isName(notes, (int) nameAt, namesz)) {
                return switch ((int) descsz) {
                    case 4 -> Integer.toUnsignedLong(notes.getInt((int) descAt));
                    case 8 -> notes.getLong((int) descAt);
                    default -> throw malformed(file, "PVH entry note has descsz=" + descsz);
                };
            }
            pos = (int) Math.min(next, notes.limit());
        }
        return null;
    }

    /** Whether the note name is "Xen" with its NUL terminator. */
    private static boolean isName(ByteBuffer notes, int at, long namesz) {
        byte[] want = XEN_ELFNOTE_NAME.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        if (namesz != want.length + 1) {
            return false;
        }
        for (int i = 0; i < want.length; i++) {
            if (notes.get(at + i) != want[i]) {
                return false;
            }
        }
        return notes.get(at + want.length) == 0;
    }

    private static long alignUp(long v, int align) {
        return (v + align - 1) & -align;
    }

    private static BootException malformed(KernelFile file, String why) {
        return new BootException("ELF kernel is malformed: path=" + file.path() + ", " + why);
    }
}
