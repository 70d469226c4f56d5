package dev.nimbus.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32;

/**
 * A raw disk image for the kit's virtio-blk action, and the checks on both sides: the image
 * holds seeded random bytes; the guest reads some ranges and reports their CRC-32, writes
 * {@link KitPattern} bytes to others, reads them back, flushes and asks for the serial. After
 * the VMM has exited, the image must hold the pattern exactly where the guest wrote and its
 * old bytes everywhere else.
 */
public final class KitDisk {
    public static final int SECTOR = 512;
    public static final int SECTORS = 2048;
    public static final String SERIAL = "kitdisk1";

    /** A range of sectors and, for writes, the pattern seed. */
    public record Range(long sector, int count, int seed) {
        String read() {
            return count == 1 ? Long.toString(sector) : sector + "+" + count;
        }

        String write() {
            return read() + ":0x" + Integer.toHexString(seed);
        }

        int offset() {
            return Math.toIntExact(sector * SECTOR);
        }

        int bytes() {
            return count * SECTOR;
        }
    }

    /** Ranges the guest reads: the first and last sector and a few in between. */
    public static final List<Range> READS = List.of(new Range(0, 1, 0), new Range(7, 1, 0),
            new Range(64, 8, 0), new Range(SECTORS - 1, 1, 0));

    /** Ranges the guest writes, none overlapping a read. */
    public static final List<Range> WRITES = List.of(new Range(100, 1, 0x1234),
            new Range(200, 4, 0x99), new Range(SECTORS - 16, 8, 0xABCDEF));

    private final Path image;
    private final byte[] original;

    private KitDisk(Path image, byte[] original) {
        this.image = image;
        this.original = original;
    }

    /** Writes a 1 MiB image of seeded random bytes into {@code dir}. */
    public static KitDisk create(Path dir) throws IOException {
        byte[] data = new byte[SECTORS * SECTOR];
        new Random(0x5EC7025L).nextBytes(data);
        Path image = dir.resolve("kit-disk.img");
        Files.write(image, data);
        return new KitDisk(image, data);
    }

    public Path image() {
        return image;
    }

    /** The guest's command line switches for this disk. */
    public String cmdline() {
        return "kit.blk.read=" + String.join(",", READS.stream().map(Range::read).toList())
                + " kit.blk.write=" + String.join(",", WRITES.stream().map(Range::write).toList());
    }

    /** What the guest reported: capacity, serial, CRC-32 of every read, every write verified. */
    public void assertGuestReport(KitReport r) {
        String why = r.toString();
        KitReport.Line blk = r.require("VIRTIO-BLK");
        assertEquals(SECTORS, blk.number("capacity"), why);
        assertEquals(0, r.require("VIRTIO-BLK-ID").number("status"), why);
        assertEquals(SERIAL, r.require("VIRTIO-BLK-ID").get("serial"), why);

        List<KitReport.Line> reads = r.lines("VIRTIO-BLK-READ");
        assertEquals(READS.size(), reads.size(), why);
        for (int i = 0; i < READS.size(); i++) {
            Range range = READS.get(i);
            KitReport.Line l = reads.get(i);
            assertEquals(range.sector(), l.number("sector"), why);
            assertEquals(range.count(), l.number("count"), why);
            assertEquals(0, l.number("status"), why);
            assertEquals(crc(original, range.offset(), range.bytes()), l.number("crc32"),
                    "CRC-32 of sectors " + range.read());
        }

        List<KitReport.Line> writes = r.lines("VIRTIO-BLK-WRITE");
        assertEquals(WRITES.size(), writes.size(), why);
        for (int i = 0; i < WRITES.size(); i++) {
            Range range = WRITES.get(i);
            KitReport.Line l = writes.get(i);
            assertEquals(range.sector(), l.number("sector"), why);
            assertEquals(0, l.number("status"), why);
            assertTrue(l.flag("verify"), "guest read back what it wrote: " + l.raw());
            byte[] pattern = KitPattern.bytes(range.seed(), range.bytes());
            assertEquals(crc(pattern, 0, pattern.length), l.number("crc32"), l.raw());
        }
        assertTrue(blk.flag("flush"), "the device offers VIRTIO_BLK_F_FLUSH: " + blk.raw());
        assertEquals(0, r.require("VIRTIO-BLK-FLUSH").number("status"), why);
    }

    /** The image after the VMM exited: the pattern where written, the old bytes elsewhere. */
    public void assertImage() throws IOException {
        byte[] now = Files.readAllBytes(image);
        assertEquals(original.length, now.length, "image size");
        byte[] expected = original.clone();
        for (Range range : WRITES) {
            byte[] pattern = KitPattern.bytes(range.seed(), range.bytes());
            System.arraycopy(pattern, 0, expected, range.offset(), pattern.length);
            assertArrayEquals(pattern, Arrays.copyOfRange(now, range.offset(),
                    range.offset() + range.bytes()), "written sectors " + range.write());
        }
        int firstDifference = Arrays.mismatch(expected, now);
        assertEquals(-1, firstDifference, "image differs at byte " + firstDifference
                + " (sector " + firstDifference / SECTOR + ")");
    }

    static long crc(byte[] data, int offset, int length) {
        CRC32 c = new CRC32();
        c.update(data, offset, length);
        return c.getValue();
    }
}
