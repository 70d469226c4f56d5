package dev.nimbus.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

/**
 * The Java side of the kit's disk pattern and test frames must match the guest's C code
 * byte for byte. The expected CRC-32 values below are what the kit guest reported for the
 * same inputs (under QEMU and under Nimbus) when the format was written.
 */
class KitFrameTest {
    @Test
    void patternMatchesTheGuestsXorshift() {
        assertEquals(0xD75ECA94L, crc(KitPattern.bytes(0x1234, 512)));
        assertEquals(0xB6200D10L, crc(KitPattern.bytes(0x99, 2048)));
    }

    @Test
    void zeroSeedDoesNotGiveZeros() {
        byte[] p = KitPattern.bytes(0, 64);
        assertArrayEquals(KitPattern.bytes(KitPattern.ZERO_SEED, 64), p);
        int nonZero = 0;
        for (byte b : p) {
            nonZero += b != 0 ? 1 : 0;
        }
        assertTrue(nonZero > 48, "nonzero bytes: " + nonZero);
    }

    @Test
    void framesMatchTheGuestsFrames() {
        // Sent by the guest (MAC 52:54:00:12:34:56) to 02:00:00:00:00:02, default sizes.
        String dst = "02:00:00:00:00:02";
        String src = "52:54:00:12:34:56";
        byte[] f0 = KitFrame.build(dst, src, 0, KitFrame.guestPatternLength(0));
        byte[] f1 = KitFrame.build(dst, src, 1, KitFrame.guestPatternLength(1));
        byte[] f2 = KitFrame.build(dst, src, 2, KitFrame.guestPatternLength(2));
        assertEquals(64, f0.length);
        assertEquals(453, f1.length);
        assertEquals(842, f2.length);
        assertEquals(0x2358CFC3L, KitFrame.crc32(f0));
        assertEquals(0xBBC2A832L, KitFrame.crc32(f1));
        assertEquals(0xD30A21D3L, KitFrame.crc32(f2));
    }

    @Test
    void shortFramesArePaddedToTheEthernetMinimum() {
        byte[] f = KitFrame.build("ff:ff:ff:ff:ff:ff", "02:00:00:00:00:01", 7, 0);
        assertEquals(KitFrame.MIN_LENGTH, f.length);
        KitFrame.Parsed p = KitFrame.parse(f).orElseThrow();
        assertEquals(7, p.seq());
        assertEquals(0, p.patternLength());
        assertTrue(p.intact());
    }

    @Test
    void parseReadsBackWhatBuildWrote() {
        byte[] f = KitFrame.build("02:aa:bb:cc:dd:ee", "02:00:00:00:00:01", 0xFFFF_FFF0L, 1000);
        KitFrame.Parsed p = KitFrame.parse(f).orElseThrow();
        assertEquals(0xFFFF_FFF0L, p.seq());
        assertEquals(1000, p.patternLength());
        assertTrue(p.intact());
        assertEquals("02:aa:bb:cc:dd:ee", p.dst());
        assertEquals("02:00:00:00:00:01", p.src());
    }

    @Test
    void aFlippedBitIsNotIntact() {
        byte[] f = KitFrame.build("02:aa:bb:cc:dd:ee", "02:00:00:00:00:01", 5, 300);
        f[100] ^= 0x10;
        assertFalse(KitFrame.parse(f).orElseThrow().intact());
    }

    @Test
    void otherEtherTypesAreNotKitFrames() {
        byte[] f = KitFrame.build("02:aa:bb:cc:dd:ee", "02:00:00:00:00:01", 5, 300);
        f[12] = 0x08;
        f[13] = 0x00;
        assertTrue(KitFrame.parse(f).isEmpty());
        assertTrue(KitFrame.parse(new byte[20]).isEmpty());
    }

    @Test
    void rejectsPatternsThatDoNotFitAFrame() {
        assertThrows(IllegalArgumentException.class,
                () -> KitFrame.build("02:aa:bb:cc:dd:ee", "02:00:00:00:00:01", 1,
                        KitFrame.MAX_PATTERN + 1));
        assertEquals(KitFrame.MAX_LENGTH, KitFrame.build("02:aa:bb:cc:dd:ee",
                "02:00:00:00:00:01", 1, KitFrame.MAX_PATTERN).length);
    }

    private static long crc(byte[] b) {
        CRC32 c = new CRC32();
        c.update(b);
        return c.getValue();
    }
}
