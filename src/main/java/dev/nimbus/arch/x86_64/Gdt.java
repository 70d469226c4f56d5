package dev.nimbus.arch.x86_64;

import dev.nimbus.hypervisor.Segment;

import dev.nimbus.memory.GuestMemory;

/**
 * The boot GDT at {@link Layout#BOOT_GDT_START}: null, code, data and TSS descriptors, all
 * flat from base 0, and the matching hidden segment register values.
 *
 * <p>Descriptor flags are written as a 16-bit value the way Linux's {@code GDT_ENTRY} macro
 * takes them: bits 0-7 are the access byte (P, DPL, S, type) and bits 12-15 are G, D/B, L and
 * AVL (Intel SDM vol. 3, 3.4.5). So 0xC09B is a 32-bit code segment, 0xA09B a 64-bit one.
 */
public final class Gdt {
    /** Present ring-0 code, execute/read, accessed; 4 KiB granular, 32-bit (D=1). */
    public static final int CODE32_FLAGS = 0xC09B;
    /** Present ring-0 code, execute/read, accessed; 4 KiB granular, 64-bit (L=1). */
    public static final int CODE64_FLAGS = 0xA09B;
    /** Present ring-0 data, read/write, accessed; 4 KiB granular, 32-bit stack (B=1). */
    public static final int DATA_FLAGS = 0xC093;
    /** Present busy TSS (type 0xB), byte granular. */
    public static final int TSS_FLAGS = 0x008B;

    /**
     * TSS limit: 0x67 covers the 104-byte 64-bit TSS and is exactly what the PVH ABI asks
     * for ("TR: 32-bit TSS (active) with base 0 and limit 0x67").
     */
    public static final int TSS_LIMIT = 0x67;

    /** Descriptor indexes; the selector is the index times 8. */
    public static final int NULL_INDEX = 0;
    public static final int CODE_INDEX = 1;
    public static final int DATA_INDEX = 2;
    public static final int TSS_INDEX = 3;

    /** Number of descriptors in the boot GDT. */
    public static final int ENTRIES = 4;

    private final long[] entries;

    private Gdt(long[] entries) {
        this.entries = entries;
    }

    /** The boot GDT for a guest entered in {@code mode}. */
    public static Gdt forMode(EntryMode mode) {
        int code = mode == EntryMode.LONG_64 ? CODE64_FLAGS : CODE32_FLAGS;
        return new Gdt(new long[] {
            0,
            entry(code, 0, 0xFFFFF),
            entry(DATA_FLAGS, 0, 0xFFFFF),
            entry(TSS_FLAGS, 0, TSS_LIMIT),
        });
    }

    /**
     * Encodes one segment descriptor (Intel SDM vol. 3, figure 3-8).
     *
     * @param flags access byte in bits 0-7, G/DB/L/AVL in bits 12-15
     * @param base 32-bit segment base
     * @param limit 20-bit segment limit, in units the G bit selects
     */
    public static long entry(int flags, int base, int limit) {
        long b = Integer.toUnsignedLong(base);
        long f = flags & 0xF0FF;
        return ((b & 0xFF00_0000L) << 32)
                | (f << 40)
                | (((long) limit & 0xF_0000L) << 32)
                | ((b & 0x00FF_FFFFL) << 16)
                | (limit & 0xFFFFL);
    }

    /** The hidden segment register values a descriptor loads, for selector index {@code index}. */
    public static Segment segment(long entry, int index) {
        long base = ((entry >>> 32) & 0xFF00_0000L) | ((entry >>> 16) & 0x00FF_FFFFL);
        int rawLimit = (int) (((entry >>> 32) & 0xF_0000L) | (entry & 0xFFFFL));
        int g = bit(entry, 55);
        // The hardware scales the limit by 4 KiB when G is set; KVM wants the scaled value.
        int limit = g == 1 ? (rawLimit << 12) | 0xFFF : rawLimit;
        int present = bit(entry, 47);
        return new Segment(base, limit, index * 8,
                (int) ((entry >>> 40) & 0xF),
                present,
                (int) ((entry >>> 45) & 0x3),
                bit(entry, 54),
                bit(entry, 44),
                bit(entry, 53),
                g,
                bit(entry, 52),
                present == 0 ? 1 : 0);
    }

    private static int bit(long v, int n) {
        return (int) ((v >>> n) & 1);
    }

    /** Descriptor {@code index} (0 to {@link #ENTRIES} - 1). */
    public long entry(int index) {
        return entries[index];
    }

    /** CS: the code descriptor. */
    public Segment code() {
        return segment(entries[CODE_INDEX], CODE_INDEX);
    }

    /** DS, ES, FS, GS, SS: the data descriptor. */
    public Segment data() {
        return segment(entries[DATA_INDEX], DATA_INDEX);
    }

    /** TR: the TSS descriptor. */
    public Segment tss() {
        return segment(entries[TSS_INDEX], TSS_INDEX);
    }

    /** The GDTR value for this table at {@link Layout#BOOT_GDT_START}. */
    public DescriptorTable gdtr() {
        return new DescriptorTable(Layout.BOOT_GDT_START, ENTRIES * 8 - 1);
    }

    /** The IDTR value: one empty gate at {@link Layout#BOOT_IDT_START}. */
    public static DescriptorTable idtr() {
        return new DescriptorTable(Layout.BOOT_IDT_START, 8 - 1);
    }

    /** Writes the descriptors at {@link Layout#BOOT_GDT_START} and a zero IDT gate. */
    public void write(GuestMemory mem) {
        for (int i = 0; i < entries.length; i++) {
            mem.writeLong(Layout.BOOT_GDT_START + 8L * i, entries[i]);
        }
        mem.writeLong(Layout.BOOT_IDT_START, 0);
    }
}
