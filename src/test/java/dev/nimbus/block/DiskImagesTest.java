package dev.nimbus.block;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.nimbus.vmm.config.DiskConfig;
import dev.nimbus.vmm.config.ImageType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** What opening a {@code --disk} path says when the path is not an image. */
class DiskImagesTest {
    @TempDir
    Path dir;

    private static String failure(Path path) {
        DiskConfig config = DiskConfig.parse("path=" + path).withId("_disk0");
        return assertThrows(DiskImageException.class, () -> DiskImages.open(config))
                .getMessage();
    }

    @Test
    void aDirectoryIsNamedAsSuch() {
        // Regression: this said "Cannot read the disk image header: errno=21".
        assertEquals("Disk path is a directory: path=" + dir, failure(dir));
    }

    @Test
    void aCharacterDeviceIsNeitherFileNorBlockDevice() {
        // Regression: /dev/null reads nothing, which said "errno=5".
        assertEquals("Disk image is neither a regular file nor a block device: path=/dev/null",
                failure(Path.of("/dev/null")));
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void aFifoIsRefusedWithoutWaitingForAWriter() throws Exception {
        Path fifo = dir.resolve("fifo");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertEquals(0, mkfifo.waitFor());
        assertEquals("Disk image is neither a regular file nor a block device: path=" + fifo,
                failure(fifo));
    }

    @Test
    void anEmptyFileIsARawImage() throws Exception {
        Path empty = Files.createFile(dir.resolve("empty.raw"));
        assertEquals(ImageType.RAW, ImageFormats.detect(empty));
    }
}
