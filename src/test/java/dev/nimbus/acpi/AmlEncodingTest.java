package dev.nimbus.acpi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class AmlEncodingTest {
    private static byte[] pkgLength(int contentLength) {
        ByteBuilder b = new ByteBuilder();
        AmlEncoding.pkgLength(b, contentLength);
        return b.toByteArray();
    }

    private static byte[] name(String path) {
        ByteBuilder b = new ByteBuilder();
        AmlEncoding.nameString(b, path);
        return b.toByteArray();
    }

    private static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }

    /** Decodes a PkgLength the way an AML parser does (ACPI 6.5, section 20.2.4). */
    private static long decode(byte[] b) {
        int follow = (b[0] & 0xFF) >>> 6;
        if (follow == 0) {
            return b[0] & 0x3F;
        }
        long v = b[0] & 0x0F;
        for (int i = 1; i <= follow; i++) {
            v |= (long) (b[i] & 0xFF) << (4 + 8 * (i - 1));
        }
        return v;
    }

    @Test
    void pkgLengthUsesOneByteWhileTheTotalFitsSixBits() {
        assertArrayEquals(bytes(0x01), pkgLength(0));
        assertArrayEquals(bytes(0x3F), pkgLength(62));
    }

    @Test
    void pkgLengthCountsItsOwnBytesWhenItGrows() {
        // 63 bytes of content plus one length byte would be 64, too big for six bits, so the
        // length takes two bytes and the total is 65.
        byte[] b = pkgLength(63);
        assertEquals(2, b.length);
        assertEquals(65, decode(b));
        assertArrayEquals(bytes(0x41, 0x04), b);
    }

    @Test
    void pkgLengthPicksTheSmallestWidthAtEveryBoundary() {
        int[][] cases = {{0xFFF - 2, 2}, {0xFFF - 1, 3}, {0xFFFFF - 3, 3}, {0xFFFFF - 2, 4},
            {0xFFFFFFF - 4, 4}};
        for (int[] c : cases) {
            byte[] b = pkgLength(c[0]);
            assertEquals(c[1], b.length, "content=" + c[0]);
            assertEquals(c[0] + c[1], decode(b), "content=" + c[0]);
        }
    }

    @Test
    void pkgLengthRejectsPackagesBeyondTwentyEightBits() {
        assertThrows(IllegalArgumentException.class, () -> pkgLength(0xFFFFFFF - 3));
    }

    @Test
    void rawLengthDoesNotCountItself() {
        ByteBuilder b = new ByteBuilder();
        AmlEncoding.rawLength(b, 0x40);
        assertArrayEquals(bytes(0x40, 0x04), b.toByteArray());
        b = new ByteBuilder();
        AmlEncoding.rawLength(b, 8);
        assertArrayEquals(bytes(0x08), b.toByteArray());
    }

    @Test
    void nameStringPadsSegmentsAndPicksThePrefix() {
        assertArrayEquals(bytes('_', 'S', '5', '_'), name("_S5"));
        assertArrayEquals(bytes('\\', 'P', 'C', 'I', '0'), name("\\PCI0"));
        assertArrayEquals(bytes('\\', 0x2E, '_', 'S', 'B', '_', 'C', 'O', 'M', '1'),
                name("\\_SB.COM1"));
        assertArrayEquals(bytes('\\', 0x2F, 3, '_', 'S', 'B', '_', 'G', 'E', 'C', '_',
                'E', 'S', 'C', 'N'), name("\\_SB_.GEC.ESCN"));
        assertArrayEquals(bytes('^', '^', 'F', 'O', 'O', '_'), name("^^FOO"));
        assertArrayEquals(bytes('\\', 0x00), name("\\"));
    }

    @Test
    void nameStringRejectsInvalidSegments() {
        for (String bad : new String[] {"ABCDE", "1ABC", "\\_SB..X", "a", "A-B", "\\_SB."}) {
            assertThrows(IllegalArgumentException.class, () -> name(bad), bad);
        }
    }
}
