package dev.nimbus.sys;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IoVecTest {
    @TempDir
    Path dir;

    @Test
    void moreEntriesThanOneCallTakesAreTransferredInTurns() throws Exception {
        Path file = dir.resolve("data");
        byte[] content = new byte[3000 * 8];
        for (int i = 0; i < content.length; i++) {
            content[i] = (byte) (i * 7);
        }
        Files.write(file, content);
        int fd = Linux.open(file.toString(), Linux.O_RDWR, 0);
        try (Arena arena = Arena.ofConfined(); IoVec iov = new IoVec(2)) {
            MemorySegment buf = arena.allocate(content.length);
            // 3000 entries of 8 bytes, more than UIO_MAXIOV: several preadv calls.
            for (int i = 0; i < 3000; i++) {
                iov.add(buf, i * 8L, 8);
            }
            assertEquals(3000, iov.count());
            assertEquals(content.length, iov.totalBytes());
            assertEquals(0, iov.preadFully(fd, 0));
            assertArrayEquals(content, buf.toArray(ValueLayout.JAVA_BYTE));

            buf.fill((byte) 0x11);
            iov.clear();
            iov.add(buf, 0, 100);
            iov.add(buf, 100, 0); // empty entries are skipped
            iov.add(buf, 100, 28);
            assertEquals(2, iov.count());
            assertEquals(0, iov.pwriteFully(fd, 64));
            byte[] after = Files.readAllBytes(file);
            for (int i = 64; i < 192; i++) {
                assertEquals(0x11, after[i]);
            }
            assertEquals(content[63], after[63]);
            assertEquals(content[192], after[192]);

            iov.clear();
            iov.add(buf, 0, 64);
            assertEquals(-Errno.EIO, iov.preadFully(fd, content.length - 32),
                    "the file ends before the buffers are full");
        } finally {
            Linux.close(fd);
        }
    }
}
