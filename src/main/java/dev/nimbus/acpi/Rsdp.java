package dev.nimbus.acpi;

/**
 * The Root System Description Pointer, revision 2 (ACPI 6.5, section 5.2.5.3): where the OS
 * finds the XSDT.
 *
 * <p>It has two checksums: one over the first 20 bytes (the ACPI 1.0 structure) and an extended
 * one over all 36 bytes.
 */
public final class Rsdp {
    public static final int LENGTH = 36;
    public static final int REVISION = 2;
    public static final String SIGNATURE = "RSD PTR ";

    // Field offsets (ACPI 6.5, table 5.3).
    public static final int CHECKSUM = 8;
    public static final int OEMID = 9;
    public static final int REVISION_OFFSET = 15;
    public static final int RSDT_ADDRESS = 16;
    public static final int LENGTH_OFFSET = 20;
    public static final int XSDT_ADDRESS = 24;
    public static final int EXTENDED_CHECKSUM = 32;

    /** Bytes the first checksum covers. */
    public static final int V1_LENGTH = 20;

    private Rsdp() {
    }

    /** The RSDP pointing at an XSDT at {@code xsdtGpa}; there is no RSDT. */
    public static byte[] build(long xsdtGpa) {
        ByteBuilder b = new ByteBuilder()
                .ascii(SIGNATURE, 8)
                .u8(0) // Checksum
                .ascii(Sdt.OEM_ID, 6)
                .u8(REVISION)
                .u32(0) // RsdtAddress
                .u32(LENGTH)
                .u64(xsdtGpa)
                .u8(0) // Extended Checksum
                .zeros(3);
        b.set8(CHECKSUM, Sdt.checksum(b.toByteArray(), 0, V1_LENGTH));
        b.set8(EXTENDED_CHECKSUM, Sdt.checksum(b.toByteArray()));
        return b.toByteArray();
    }
}
