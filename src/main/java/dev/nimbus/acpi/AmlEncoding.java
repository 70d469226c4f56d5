package dev.nimbus.acpi;

/**
 * The low-level AML encodings every object uses: PkgLength and NameString (ACPI 6.5, sections
 * 20.2.4 and 20.2.2).
 */
public final class AmlEncoding {
    static final int NULL_NAME = 0x00;
    static final int DUAL_NAME_PREFIX = 0x2E;
    static final int MULTI_NAME_PREFIX = 0x2F;
    static final int ROOT_CHAR = 0x5C;
    static final int PARENT_PREFIX_CHAR = 0x5E;

    private AmlEncoding() {
    }

    /**
     * Appends the PkgLength of a package whose contents after the PkgLength are {@code
     * contentLength} bytes. The encoded value counts the PkgLength bytes themselves, so the
     * encoding picks the smallest byte count whose total still fits.
     */
    public static void pkgLength(ByteBuilder out, int contentLength) {
        for (int n = 1; n <= 4; n++) {
            long total = (long) contentLength + n;
            if (total <= maxForBytes(n)) {
                writeLength(out, total, n);
                return;
            }
        }
        throw new IllegalArgumentException("AML package too long: length=" + contentLength);
    }

    /**
     * Appends {@code value} in PkgLength form without counting the encoding itself, as field
     * lists use it for bit widths (ACPI 6.5, section 20.2.5.2, NamedField and ReservedField).
     */
    public static void rawLength(ByteBuilder out, long value) {
        for (int n = 1; n <= 4; n++) {
            if (value >= 0 && value <= maxForBytes(n)) {
                writeLength(out, value, n);
                return;
            }
        }
        throw new IllegalArgumentException("AML length out of range: value=" + value);
    }

    /** Appends {@code body}'s encoding preceded by its PkgLength. */
    public static void withPkgLength(ByteBuilder out, Aml body) {
        byte[] content = body.toByteArray();
        pkgLength(out, content.length);
        out.bytes(content);
    }

    /**
     * Appends a NameString: an optional root ({@code \}) or parent prefixes ({@code ^}), then
     * dot-separated name segments of up to four characters, each padded with {@code _}. An empty
     * path after the prefixes encodes as NullName.
     */
    public static void nameString(ByteBuilder out, String path) {
        int i = 0;
        if (path.startsWith("\\")) {
            out.u8(ROOT_CHAR);
            i = 1;
        } else {
            while (i < path.length() && path.charAt(i) == '^') {
                out.u8(PARENT_PREFIX_CHAR);
                i++;
            }
        }
        String rest = path.substring(i);
        if (rest.isEmpty()) {
            out.u8(NULL_NAME);
            return;
        }
        String[] segs = rest.split("\\.", -1);
        if (segs.length == 2) {
            out.u8(DUAL_NAME_PREFIX);
        } else if (segs.length > 2) {
            if (segs.length > 255) {
                throw new IllegalArgumentException("AML name path too deep: " + path);
            }
            out.u8(MULTI_NAME_PREFIX).u8(segs.length);
        }
        for (String seg : segs) {
            nameSeg(out, seg, path);
        }
    }

    /** Appends one NameSeg: four characters, the first a letter or {@code _}. */
    public static void nameSeg(ByteBuilder out, String seg) {
        nameSeg(out, seg, seg);
    }

    private static void nameSeg(ByteBuilder out, String seg, String path) {
        if (seg.isEmpty() || seg.length() > 4) {
            throw new IllegalArgumentException("Invalid AML name segment: path=" + path);
        }
        for (int i = 0; i < 4; i++) {
            char c = i < seg.length() ? seg.charAt(i) : '_';
            boolean lead = (c >= 'A' && c <= 'Z') || c == '_';
            boolean digit = c >= '0' && c <= '9';
            if (!lead && !(digit && i > 0)) {
                throw new IllegalArgumentException("Invalid AML name segment: path=" + path);
            }
            out.u8(c);
        }
    }

    private static long maxForBytes(int n) {
        // One byte keeps 6 bits; a longer encoding keeps 4 bits in the lead byte and 8 in each
        // following byte (ACPI 6.5, section 20.2.4).
        return n == 1 ? 0x3F : (1L << (4 + 8 * (n - 1))) - 1;
    }

    private static void writeLength(ByteBuilder out, long value, int n) {
        if (n == 1) {
            out.u8((int) value);
            return;
        }
        out.u8(((n - 1) << 6) | (int) (value & 0x0F));
        for (int k = 1; k < n; k++) {
            out.u8((int) (value >>> (4 + 8 * (k - 1))));
        }
    }
}
