package dev.nimbus.acpi;

/**
 * A System Description Table under construction: the 36-byte header (ACPI 6.5, section 5.2.6)
 * followed by the table's own fields, which callers append or patch through {@link #bytes()}
 * at offsets counted from the start of the table, as the spec gives them.
 *
 * <p>{@link #toByteArray()} fills in Length and Checksum, so a table can grow until then.
 */
public final class Sdt {
    /** Size of the common table header. */
    public static final int HEADER_SIZE = 36;

    /**
     * OEM ID of every table Nimbus builds. Nimbus names itself rather than borrowing Cloud
     * Hypervisor's "CLOUDH": the field only says who built the tables, neither Linux nor the
     * OVMF build for Cloud Hypervisor looks at it, and the guest's boot log then names the VMM
     * it really ran on.
     */
    public static final String OEM_ID = "NIMBUS";

    /** OEM Table ID of every table (one model, so one id for all of them). */
    public static final String OEM_TABLE_ID = "NIMBUSVM";

    /** OEM Revision of every table. */
    public static final int OEM_REVISION = 1;

    /** Creator ID: the tool that built the table, i.e. Nimbus itself. */
    public static final String CREATOR_ID = "NMBS";

    /** Creator Revision. */
    public static final int CREATOR_REVISION = 1;

    static final int LENGTH_OFFSET = 4;
    static final int REVISION_OFFSET = 8;
    static final int CHECKSUM_OFFSET = 9;

    private final ByteBuilder bytes = new ByteBuilder();

    /** A table with this four-character signature and revision and an empty body. */
    public Sdt(String signature, int revision) {
        if (signature.length() != 4) {
            throw new IllegalArgumentException("ACPI signature must be 4 characters: "
                    + signature);
        }
        bytes.ascii(signature, 4)
                .u32(0) // Length, set by toByteArray()
                .u8(revision)
                .u8(0) // Checksum, set by toByteArray()
                .ascii(OEM_ID, 6)
                .ascii(OEM_TABLE_ID, 8)
                .u32(OEM_REVISION)
                .ascii(CREATOR_ID, 4)
                .u32(CREATOR_REVISION);
    }

    /** The whole table so far, header included; append or patch the body here. */
    public ByteBuilder bytes() {
        return bytes;
    }

    /** The four-character signature. */
    public String signature() {
        byte[] b = bytes.toByteArray();
        return new String(b, 0, 4, java.nio.charset.StandardCharsets.US_ASCII);
    }

    /** The finished table: Length set to its size and Checksum making all bytes sum to 0. */
    public byte[] toByteArray() {
        bytes.set32(LENGTH_OFFSET, bytes.size());
        bytes.set8(CHECKSUM_OFFSET, 0);
        bytes.set8(CHECKSUM_OFFSET, checksum(bytes.toByteArray()));
        return bytes.toByteArray();
    }

    /** The byte that, added to the bytes of {@code b}, makes their sum 0 modulo 256. */
    public static int checksum(byte[] b) {
        return checksum(b, 0, b.length);
    }

    /** The checksum byte for {@code b[off..off+len)}. */
    public static int checksum(byte[] b, int off, int len) {
        int sum = 0;
        for (int i = off; i < off + len; i++) {
            sum += b[i];
        }
        return -sum & 0xFF;
    }
}
