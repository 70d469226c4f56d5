package dev.nimbus.acpi;

/**
 * A {@code ResourceTemplate() { ... }}: a buffer of resource descriptors closed by an End Tag
 * (ACPI 6.5, section 6.4), as _CRS and _PRS return it.
 *
 * <p>Address space descriptors (Word/DWord/QWord) describe fixed windows: minimum and maximum
 * fixed, granularity 0 and length {@code max - min + 1}, which is the one combination the spec
 * allows for a fixed-size, fixed-location range.
 */
public final class ResourceTemplate implements Aml {
    static final int IRQ_NO_FLAGS_TAG = 0x22;
    static final int IRQ_TAG = 0x23;
    static final int IO_TAG = 0x47;
    static final int END_TAG = 0x79;
    static final int MEMORY32_FIXED_TAG = 0x86;
    static final int DWORD_ADDRESS_TAG = 0x87;
    static final int WORD_ADDRESS_TAG = 0x88;
    static final int EXTENDED_INTERRUPT_TAG = 0x89;
    static final int QWORD_ADDRESS_TAG = 0x8A;

    static final int RESOURCE_TYPE_MEMORY = 0;
    static final int RESOURCE_TYPE_IO = 1;
    static final int RESOURCE_TYPE_BUS_NUMBER = 2;

    // General flags of address space descriptors (ACPI 6.5, section 6.4.3.5.1).
    static final int ADDRESS_CONSUMER = 1 << 0;
    static final int ADDRESS_MIN_FIXED = 1 << 2;
    static final int ADDRESS_MAX_FIXED = 1 << 3;

    // _RNG = EntireRange: an I/O window covering both ISA and non-ISA addresses.
    static final int IO_ENTIRE_RANGE = 3;

    /** Caching of a memory range (the _MEM field of memory address space descriptors). */
    public enum Cacheability {
        NON_CACHEABLE(0), CACHEABLE(1), WRITE_COMBINING(2), PREFETCHABLE(3);

        final int code;

        Cacheability(int code) {
            this.code = code;
        }
    }

    private final ByteBuilder descriptors = new ByteBuilder();

    /** An empty template; add descriptors with the builder methods. */
    public ResourceTemplate() {
    }

    /** {@code IO(Decode16, min, max, alignment, length)}: an I/O port range. */
    public ResourceTemplate io(int min, int max, int alignment, int length) {
        checkRange("IO minimum", min, 0xFFFF);
        checkRange("IO maximum", max, 0xFFFF);
        checkRange("IO alignment", alignment, 0xFF);
        checkRange("IO length", length, 0xFF);
        descriptors.u8(IO_TAG).u8(1).u16(min).u16(max).u8(alignment).u8(length);
        return this;
    }

    /** {@code IRQNoFlags() {irqs}}: ISA IRQs, edge-triggered, active-high, exclusive. */
    public ResourceTemplate irqNoFlags(int... irqs) {
        descriptors.u8(IRQ_NO_FLAGS_TAG).u16(irqMask(irqs));
        return this;
    }

    /** {@code IRQ(Edge|Level, ActiveHigh|ActiveLow, Exclusive|Shared) {irqs}}: ISA IRQs. */
    public ResourceTemplate irq(boolean edge, boolean activeLow, boolean shared, int... irqs) {
        int info = (edge ? 1 : 0) | (activeLow ? 1 << 3 : 0) | (shared ? 1 << 4 : 0);
        descriptors.u8(IRQ_TAG).u16(irqMask(irqs)).u8(info);
        return this;
    }

    /**
     * {@code Interrupt(ResourceConsumer|ResourceProducer, Edge|Level, ActiveHigh|ActiveLow,
     * Exclusive|Shared) {gsis}}: global system interrupts (Extended Interrupt Descriptor).
     */
    public ResourceTemplate interrupt(boolean consumer, boolean edge, boolean activeLow,
            boolean shared, long... gsis) {
        if (gsis.length == 0 || gsis.length > 0xFF) {
            throw new IllegalArgumentException("Interrupt descriptor needs 1 to 255 GSIs: count="
                    + gsis.length);
        }
        int flags = (consumer ? 1 : 0) | (edge ? 1 << 1 : 0) | (activeLow ? 1 << 2 : 0)
                | (shared ? 1 << 3 : 0);
        descriptors.u8(EXTENDED_INTERRUPT_TAG).u16(2 + 4 * gsis.length).u8(flags)
                .u8(gsis.length);
        for (long gsi : gsis) {
            checkRange("GSI", gsi, 0xFFFF_FFFFL);
            descriptors.u32(gsi);
        }
        return this;
    }

    /** {@code Memory32Fixed(ReadWrite|ReadOnly, base, length)}. */
    public ResourceTemplate memory32Fixed(boolean readWrite, long base, long length) {
        checkRange("Memory32Fixed base", base, 0xFFFF_FFFFL);
        checkRange("Memory32Fixed length", length, 0xFFFF_FFFFL);
        descriptors.u8(MEMORY32_FIXED_TAG).u16(9).u8(readWrite ? 1 : 0).u32(base).u32(length);
        return this;
    }

    /** {@code DWordMemory(...)}: a 32-bit memory range {@code [min, max]}. */
    public ResourceTemplate dwordMemory(boolean consumer, Cacheability cache, boolean readWrite,
            long min, long max) {
        checkWindow("DWordMemory", min, max, 0xFFFF_FFFFL);
        int typeFlags = (readWrite ? 1 : 0) | (cache.code << 1);
        address(DWORD_ADDRESS_TAG, 4, RESOURCE_TYPE_MEMORY, consumer, typeFlags, min, max);
        return this;
    }

    /** {@code QWordMemory(...)}: a 64-bit memory range {@code [min, max]}. */
    public ResourceTemplate qwordMemory(boolean consumer, Cacheability cache, boolean readWrite,
            long min, long max) {
        checkWindow("QWordMemory", min, max, -1L);
        int typeFlags = (readWrite ? 1 : 0) | (cache.code << 1);
        address(QWORD_ADDRESS_TAG, 8, RESOURCE_TYPE_MEMORY, consumer, typeFlags, min, max);
        return this;
    }

    /** DWordMemory when {@code max} fits in 32 bits, QWordMemory otherwise. */
    public ResourceTemplate memory(boolean consumer, Cacheability cache, boolean readWrite,
            long min, long max) {
        return Long.compareUnsigned(max, 0xFFFF_FFFFL) <= 0
                ? dwordMemory(consumer, cache, readWrite, min, max)
                : qwordMemory(consumer, cache, readWrite, min, max);
    }

    /** {@code WordBusNumber(ResourceProducer, ...)}: the bus numbers a host bridge decodes. */
    public ResourceTemplate wordBusNumber(int min, int max) {
        checkWindow("WordBusNumber", min, max, 0xFF);
        address(WORD_ADDRESS_TAG, 2, RESOURCE_TYPE_BUS_NUMBER, false, 0, min, max);
        return this;
    }

    /** {@code WordIO(ResourceProducer, ..., EntireRange)}: an I/O window a bridge forwards. */
    public ResourceTemplate wordIo(int min, int max) {
        checkWindow("WordIO", min, max, 0xFFFF);
        address(WORD_ADDRESS_TAG, 2, RESOURCE_TYPE_IO, false, IO_ENTIRE_RANGE, min, max);
        return this;
    }

    /** {@code DWordIO(ResourceProducer, ..., EntireRange)}: an I/O window a bridge forwards. */
    public ResourceTemplate dwordIo(long min, long max) {
        checkWindow("DWordIO", min, max, 0xFFFF_FFFFL);
        address(DWORD_ADDRESS_TAG, 4, RESOURCE_TYPE_IO, false, IO_ENTIRE_RANGE, min, max);
        return this;
    }

    /** The descriptors added so far, without the End Tag. */
    public byte[] descriptors() {
        return descriptors.toByteArray();
    }

    @Override
    public void encode(ByteBuilder out) {
        ByteBuilder b = new ByteBuilder().bytes(descriptors.toByteArray());
        // A zero checksum tells the OS not to verify one (ACPI 6.5, section 6.4.2.9).
        b.u8(END_TAG).u8(0);
        AmlData.buffer(b.toByteArray()).encode(out);
    }

    private void address(int tag, int width, int type, boolean consumer, int typeFlags,
            long min, long max) {
        int general = ADDRESS_MIN_FIXED | ADDRESS_MAX_FIXED | (consumer ? ADDRESS_CONSUMER : 0);
        descriptors.u8(tag).u16(3 + 5 * width).u8(type).u8(general).u8(typeFlags);
        long[] fields = {0, min, max, 0, max - min + 1}; // _GRA, _MIN, _MAX, _TRA, _LEN
        for (long v : fields) {
            switch (width) {
                case 2 -> descriptors.u16((int) v);
                case 4 -> descriptors.u32(v);
                default -> descriptors.u64(v);
            }
        }
    }

    private static int irqMask(int... irqs) {
        int mask = 0;
        for (int irq : irqs) {
            checkRange("ISA IRQ", irq, 15);
            mask |= 1 << irq;
        }
        return mask;
    }

    private static void checkRange(String what, long value, long max) {
        if (value < 0 || value > max) {
            throw new IllegalArgumentException(String.format(
                    "%s out of range: value=0x%x max=0x%x", what, value, max));
        }
    }

    private static void checkWindow(String what, long min, long max, long limit) {
        if (Long.compareUnsigned(min, max) > 0 || Long.compareUnsigned(max, limit) > 0
                || (min == 0 && max == -1L)) {
            throw new IllegalArgumentException(String.format(
                    "%s window invalid: min=0x%x max=0x%x", what, min, max));
        }
    }
}
