package dev.nimbus.acpi;

import java.util.List;
import java.util.UUID;

/**
 * AML data objects (ACPI 6.5, section 20.2.3): integers, strings, EISA ids, buffers, packages,
 * and references to named objects.
 */
public final class AmlData {
    static final int ZERO_OP = 0x00;
    static final int ONE_OP = 0x01;
    static final int ONES_OP = 0xFF;
    static final int BYTE_PREFIX = 0x0A;
    static final int WORD_PREFIX = 0x0B;
    static final int DWORD_PREFIX = 0x0C;
    static final int STRING_PREFIX = 0x0D;
    static final int QWORD_PREFIX = 0x0E;
    static final int BUFFER_OP = 0x11;
    static final int PACKAGE_OP = 0x12;
    static final int VAR_PACKAGE_OP = 0x13;

    /** The integer 0 (ZeroOp). */
    public static final Aml ZERO = out -> out.u8(ZERO_OP);

    /** The integer 1 (OneOp). */
    public static final Aml ONE = out -> out.u8(ONE_OP);

    /**
     * All bits set (OnesOp). Its value depends on the integer width of the definition block:
     * 64 bits in the tables Nimbus builds (revision 2 and later).
     */
    public static final Aml ONES = out -> out.u8(ONES_OP);

    private AmlData() {
    }

    /**
     * An integer in its smallest encoding: ZeroOp, OneOp, or a byte, word, dword or qword
     * constant. {@code value} is taken as unsigned 64 bits.
     */
    public static Aml integer(long value) {
        return out -> {
            if (value == 0) {
                out.u8(ZERO_OP);
            } else if (value == 1) {
                out.u8(ONE_OP);
            } else if ((value & ~0xFFL) == 0) {
                out.u8(BYTE_PREFIX).u8((int) value);
            } else if ((value & ~0xFFFFL) == 0) {
                out.u8(WORD_PREFIX).u16((int) value);
            } else if ((value & ~0xFFFF_FFFFL) == 0) {
                out.u8(DWORD_PREFIX).u32(value);
            } else {
                out.u8(QWORD_PREFIX).u64(value);
            }
        };
    }

    /** A NUL-terminated ASCII string constant; NUL itself may not appear inside. */
    public static Aml string(String s) {
        byte[] b = ByteBuilder.asciiBytes(s);
        for (byte c : b) {
            if (c == 0) {
                throw new IllegalArgumentException("AML string contains NUL: " + s);
            }
        }
        return out -> out.u8(STRING_PREFIX).bytes(b).u8(0);
    }

    /**
     * A compressed EISA id such as {@code PNP0A08}, always as a dword so that it reads back as
     * an EISA id: three letters of five bits each, then four hex digits, stored big-endian
     * (ACPI 6.5, the EISAID macro in section 19.6).
     */
    public static Aml eisaId(String id) {
        long value = Integer.toUnsignedLong(eisaIdValue(id));
        return out -> out.u8(DWORD_PREFIX).u32(value);
    }

    /** The 32-bit value of a compressed EISA id, as it reads in little-endian memory. */
    static int eisaIdValue(String id) {
        if (!id.matches("[A-Z]{3}[0-9A-F]{4}")) {
            throw new IllegalArgumentException("Invalid EISA id: " + id);
        }
        int v = ((id.charAt(0) - 0x40) << 26) | ((id.charAt(1) - 0x40) << 21)
                | ((id.charAt(2) - 0x40) << 16) | Integer.parseInt(id.substring(3), 16);
        return Integer.reverseBytes(v);
    }

    /** A buffer holding {@code bytes}. */
    public static Aml buffer(byte[] bytes) {
        byte[] copy = bytes.clone();
        return out -> {
            out.u8(BUFFER_OP);
            AmlEncoding.withPkgLength(out, body -> {
                integer(copy.length).encode(body);
                body.bytes(copy);
            });
        };
    }

    /**
     * A 16-byte buffer holding {@code uuid} in the mixed-endian order of ToUUID (ACPI 6.5,
     * section 19.6): the first three fields little-endian, the last eight bytes as written.
     */
    public static Aml uuid(String uuid) {
        UUID u = UUID.fromString(uuid);
        long hi = u.getMostSignificantBits();
        ByteBuilder b = new ByteBuilder();
        b.u32(hi >>> 32).u16((int) (hi >>> 16)).u16((int) hi);
        long lo = u.getLeastSignificantBits();
        for (int shift = 56; shift >= 0; shift -= 8) {
            b.u8((int) (lo >>> shift));
        }
        return buffer(b.toByteArray());
    }

    /** A package of {@code elements} (data objects or name references). */
    public static Aml pkg(Aml... elements) {
        return pkg(List.of(elements));
    }

    /**
     * A package of {@code elements}; more than 255 elements need a VarPackage, whose count is a
     * term rather than a byte.
     */
    public static Aml pkg(List<? extends Aml> elements) {
        List<Aml> copy = List.copyOf(elements);
        return out -> {
            boolean small = copy.size() <= 0xFF;
            out.u8(small ? PACKAGE_OP : VAR_PACKAGE_OP);
            AmlEncoding.withPkgLength(out, body -> {
                if (small) {
                    body.u8(copy.size());
                } else {
                    integer(copy.size()).encode(body);
                }
                Aml.sequence(copy).encode(body);
            });
        };
    }

    /**
     * A reference to a named object by path, e.g. {@code \_SB_.PWRB} or {@code GDAT}; as a
     * statement it also invokes a method that takes no arguments.
     */
    public static Aml path(String path) {
        ByteBuilder b = new ByteBuilder();
        AmlEncoding.nameString(b, path);
        byte[] encoded = b.toByteArray();
        return out -> out.bytes(encoded);
    }
}
