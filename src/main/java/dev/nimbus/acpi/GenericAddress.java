package dev.nimbus.acpi;

/**
 * A Generic Address Structure (ACPI 6.5, section 5.2.3.2): where a register lives and how wide
 * an access to it is.
 *
 * @param spaceId address space: {@link #SYSTEM_MEMORY} or {@link #SYSTEM_IO}
 * @param bitWidth width of the register in bits
 * @param bitOffset offset of the register within the address, in bits
 * @param accessSize {@link #ACCESS_BYTE}, {@link #ACCESS_WORD}, {@link #ACCESS_DWORD} or
 *     {@link #ACCESS_QWORD}
 * @param address the register's address in its space
 */
public record GenericAddress(int spaceId, int bitWidth, int bitOffset, int accessSize,
        long address) {
    /** Size of the encoded structure. */
    public static final int SIZE = 12;

    // Address space ids.
    public static final int SYSTEM_MEMORY = 0;
    public static final int SYSTEM_IO = 1;

    // Access sizes.
    public static final int ACCESS_BYTE = 1;
    public static final int ACCESS_WORD = 2;
    public static final int ACCESS_DWORD = 3;
    public static final int ACCESS_QWORD = 4;

    /** A byte-wide I/O port register. */
    public static GenericAddress ioPort8(int port) {
        return new GenericAddress(SYSTEM_IO, 8, 0, ACCESS_BYTE, port);
    }

    /** A dword-wide I/O port register. */
    public static GenericAddress ioPort32(int port) {
        return new GenericAddress(SYSTEM_IO, 32, 0, ACCESS_DWORD, port);
    }

    /** The 12-byte encoding. */
    public byte[] toByteArray() {
        return new ByteBuilder().u8(spaceId).u8(bitWidth).u8(bitOffset).u8(accessSize)
                .u64(address).toByteArray();
    }

    /** Decodes the structure at {@code offset} of {@code b}. */
    public static GenericAddress parse(byte[] b, int offset) {
        long address = 0;
        for (int i = 7; i >= 0; i--) {
            address = (address << 8) | (b[offset + 4 + i] & 0xFF);
        }
        return new GenericAddress(b[offset] & 0xFF, b[offset + 1] & 0xFF, b[offset + 2] & 0xFF,
                b[offset + 3] & 0xFF, address);
    }
}
