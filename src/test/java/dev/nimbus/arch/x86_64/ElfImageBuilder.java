package dev.nimbus.arch.x86_64;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds small ELF64 files shaped like a PVH kernel: an Elf64_Ehdr, a program header table,
 * PT_LOAD segments and PT_NOTE segments holding Elf64_Nhdr notes.
 */
final class ElfImageBuilder {
    private int elfClass = ElfKernel.ELFCLASS64;
    private int machine = ElfKernel.EM_X86_64;
    private final List<Load> loads = new ArrayList<>();
    private final List<NoteSegment> noteSegments = new ArrayList<>();

    record Load(long paddr, byte[] data, long memsz) {}

    record Note(String name, int type, byte[] desc) {}

    /** A PT_NOTE segment whose p_align is {@code align} (4, or 8 for newer toolchains' notes). */
    record NoteSegment(int align, List<Note> notes) {}

    ElfImageBuilder elfClass(int c) {
        this.elfClass = c;
        return this;
    }

    ElfImageBuilder machine(int m) {
        this.machine = m;
        return this;
    }

    ElfImageBuilder load(long paddr, byte[] data, long memsz) {
        loads.add(new Load(paddr, data, memsz));
        return this;
    }

    ElfImageBuilder notes(Note... notes) {
        return alignedNotes(4, notes);
    }

    /** A PT_NOTE segment with p_align {@code align}, its notes laid out at that alignment. */
    ElfImageBuilder alignedNotes(int align, Note... notes) {
        noteSegments.add(new NoteSegment(align, List.of(notes)));
        return this;
    }

    /** A PT_NOTE segment with the PVH entry note, 8-byte descriptor as Linux emits it. */
    ElfImageBuilder pvhEntry(long entry) {
        return notes(new Note("Xen", ElfKernel.XEN_ELFNOTE_PHYS32_ENTRY, le64(entry)));
    }

    static byte[] le64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    static byte[] le32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    byte[] build() {
        int phnum = loads.size() + noteSegments.size();
        long dataStart = align(64 + 56L * phnum, 16);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        ByteBuffer ph = ByteBuffer.allocate(56 * phnum).order(ByteOrder.LITTLE_ENDIAN);
        for (Load l : loads) {
            long off = dataStart + body.size();
            body.writeBytes(l.data());
            pad(body, 16);
            phdr(ph, ElfKernel.PT_LOAD, off, l.paddr(), l.data().length, l.memsz(), 0x1000);
        }
        for (NoteSegment seg : noteSegments) {
            long off = dataStart + body.size();
            byte[] notes = encodeNotes(seg.notes(), seg.align());
            body.writeBytes(notes);
            pad(body, 16);
            phdr(ph, ElfKernel.PT_NOTE, off, 0, notes.length, notes.length, seg.align());
        }
        ByteBuffer eh = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        eh.put(ElfKernel.ELFMAG).put((byte) elfClass).put((byte) 1).put((byte) 1);
        eh.putShort(16, (short) 2); // ET_EXEC
        eh.putShort(18, (short) machine);
        eh.putInt(20, 1);
        eh.putLong(24, loads.isEmpty() ? 0 : loads.get(0).paddr());
        eh.putLong(32, 64); // e_phoff
        eh.putShort(52, (short) 64);
        eh.putShort(54, (short) 56);
        eh.putShort(56, (short) phnum);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(eh.array());
        out.writeBytes(ph.array());
        while (out.size() < dataStart) {
            out.write(0);
        }
        out.writeBytes(body.toByteArray());
        return out.toByteArray();
    }

    private static void phdr(ByteBuffer ph, int type, long off, long paddr, long filesz,
            long memsz, long align) {
        ph.putInt(type).putInt(7).putLong(off).putLong(paddr | 0xFFFF_FFFF_8000_0000L)
                .putLong(paddr).putLong(filesz).putLong(memsz).putLong(align);
    }

    /**
     * Notes as the gABI lays them out in a segment aligned to {@code align}: the 12-byte header,
     * then name and descriptor each starting at an offset that is a multiple of {@code align}
     * (the segment starts aligned, so offsets from its start are what count).
     */
    static byte[] encodeNotes(List<Note> notes, int align) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Note n : notes) {
            byte[] name = (n.name() + "\0").getBytes(StandardCharsets.US_ASCII);
            out.writeBytes(le32(name.length));
            out.writeBytes(le32(n.desc().length));
            out.writeBytes(le32(n.type()));
            out.writeBytes(name);
            pad(out, align);
            out.writeBytes(n.desc());
            pad(out, align);
        }
        return out.toByteArray();
    }

    private static void pad(ByteArrayOutputStream out, int align) {
        while (out.size() % align != 0) {
            out.write(0);
        }
    }

    private static long align(long v, long a) {
        return (v + a - 1) / a * a;
    }
}
