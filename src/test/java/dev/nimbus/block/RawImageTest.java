package dev.nimbus.block;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.sys.Errno;
import dev.nimbus.sys.IoVec;
import dev.nimbus.vmm.config.ImageType;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RawImageTest {
    @TempDir
    Path dir;

    private Path file(Path in, int size, int fill) throws Exception {
        Path p = Files.createTempFile(in, "img", ".raw");
        byte[] b = new byte[size];
        Arrays.fill(b, (byte) fill);
        Files.write(p, b);
        return p;
    }

    @Test
    void zeroingFallsBackToWritesWhereTheFileSystemCannotZeroRanges() throws Exception {
        // tmpfs punches holes but has no FALLOC_FL_ZERO_RANGE.
        Path shm = Files.createTempDirectory(Path.of("/dev/shm"), "nimbus");
        try {
            Path p = file(shm, 1 << 16, 0xAB);
            try (RawImage img = RawImage.open(p, false, false)) {
                assertTrue(img.supportsSparse());
                assertEquals(0, img.writeZeroes(4096, 8192));
                assertEquals(0, img.punchHole(20480, 4096));
                byte[] b = Files.readAllBytes(p);
                for (int i = 0; i < b.length; i++) {
                    boolean zero = (i >= 4096 && i < 12288) || (i >= 20480 && i < 24576);
                    assertEquals(zero ? 0 : (byte) 0xAB, b[i], "byte " + i);
                }
            }
        } finally {
            try (var s = Files.walk(shm)) {
                s.sorted((a, b) -> b.compareTo(a)).forEach(x -> x.toFile().delete());
            }
        }
    }

    @Test
    void aReadOnlyImageRefusesWritesAndHasNoSparseSupport() throws Exception {
        Path p = file(dir, 8192, 1);
        try (RawImage img = RawImage.open(p, true, false); Arena arena = Arena.ofConfined();
                IoVec iov = new IoVec(1)) {
            assertTrue(img.readOnly());
            assertFalse(img.supportsSparse());
            iov.add(arena.allocate(512));
            assertEquals(-Errno.EBADF, img.write(0, iov));
            assertEquals(-Errno.EBADF, img.punchHole(0, 512));
            assertEquals(8192, img.sizeBytes());
            assertEquals(DiskTopology.DEFAULT, img.topology());
        }
    }

    @Test
    void resizeGrowsTheFile() throws Exception {
        Path p = file(dir, 4096, 1);
        try (RawImage img = RawImage.open(p, false, false)) {
            img.resize(1 << 20);
            assertEquals(1 << 20, img.sizeBytes());
            assertEquals(1 << 20, Files.size(p));
        }
        try (RawImage ro = RawImage.open(p, true, false)) {
            assertThrows(DiskImageException.class, () -> ro.resize(8192));
        }
    }

    @Test
    void preallocationAllocatesEveryBlockOfASparseFile() throws Exception {
        Path p = dir.resolve("sparse.raw");
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(8 << 20);
        }
        try (RawImage img = RawImage.open(p, false, false)) {
            assertTrue(img.allocatedBytes() < 1 << 20);
            img.preallocate();
            assertTrue(img.allocatedBytes() >= 8 << 20);
        }
    }

    @Test
    void formatsAreRecognisedByTheirOwnBytes() throws Exception {
        Path raw = file(dir, 4096, 0);
        assertEquals(ImageType.RAW, ImageFormats.detect(raw));
        assertEquals(ImageType.RAW, ImageFormats.detect(file(dir, 0, 0)), "an empty file");

        Path vhdx = file(dir, 4096, 0);
        write(vhdx, 0, "vhdxfile".getBytes(StandardCharsets.US_ASCII));
        assertEquals(ImageType.VHDX, ImageFormats.detect(vhdx));

        Path vhd = file(dir, 4096 + 512, 0);
        write(vhd, 4096, "conectix".getBytes(StandardCharsets.US_ASCII));
        write(vhd, 4096 + 60, new byte[] {0, 0, 0, 2});
        assertEquals(ImageType.FIXED_VHD, ImageFormats.detect(vhd));
        write(vhd, 4096 + 60, new byte[] {0, 0, 0, 3});
        assertEquals(ImageType.RAW, ImageFormats.detect(vhd), "a dynamic VHD footer is not fixed");

        Path vmdk = file(dir, 1024, ' ');
        write(vmdk, 0, "# Disk DescriptorFile\n".getBytes(StandardCharsets.US_ASCII));
        assertEquals(ImageType.FLAT_VMDK, ImageFormats.detect(vmdk));
    }

    private static void write(Path p, long at, byte[] b) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.seek(at);
            f.write(b);
        }
    }

    @Test
    void readsAndWritesGoStraightBetweenFileAndMemory() throws Exception {
        Path p = file(dir, 1 << 16, 0);
        try (RawImage img = RawImage.open(p, false, false); Arena arena = Arena.ofConfined();
                IoVec iov = new IoVec(4)) {
            MemorySegment a = arena.allocate(1000);
            MemorySegment b = arena.allocate(24);
            a.fill((byte) 3);
            b.fill((byte) 4);
            iov.add(a);
            iov.add(b);
            assertEquals(0, img.write(512, iov));
            assertEquals(0, img.flush());
            byte[] f = Files.readAllBytes(p);
            assertEquals(3, f[512]);
            assertEquals(3, f[1511]);
            assertEquals(4, f[1512]);
            assertEquals(0, f[1536]);
            assertTrue(img.identity().endsWith(String.valueOf(Files.getAttribute(p, "unix:ino"))));
        }
    }
}
