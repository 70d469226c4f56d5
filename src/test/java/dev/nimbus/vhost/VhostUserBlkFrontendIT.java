package dev.nimbus.vhost;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.devices.virtio.VirtioDevice;
import dev.nimbus.devices.virtio.VirtioPciDevice;
import dev.nimbus.memory.GuestMemory;
import dev.nimbus.vmm.config.DiskConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nimbus's vhost-user-blk front-end ({@code --disk vhost_user=on,socket=}) against QEMU's
 * {@code qemu-storage-daemon}, with a guest on real KVM issuing the request: the guest's notify
 * goes from KVM's ioeventfd straight to the daemon, the daemon reads or writes guest memory
 * through the shared memfd, and its call comes back as the guest's MSI.
 */
class VhostUserBlkFrontendIT {
    private static final int VIRTIO_BLK_S_OK = 0;

    @TempDir
    Path dir;

    private Path image(byte[] sector3) throws IOException {
        Path img = dir.resolve("disk.raw");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(1 << 20);
            f.seek(3L * BlockDriverGuest.SECTOR);
            f.write(sector3);
        }
        return img;
    }

    /** The last front-end made, to check how it delivered interrupts. */
    private VhostUserFrontend last;

    private Function<GuestMemory, VirtioDevice> frontend(Path socket) {
        return mem -> {
            try {
                last = VhostUserDevices.disk(DiskConfig.parse("vhost_user=on,socket=" + socket
                        + ",id=_disk0,num_queues=1,queue_size=16"));
                return last;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
    }

    @Test
    void guestReadsASectorThroughQemuStorageDaemon() throws Exception {
        byte[] want = new byte[BlockDriverGuest.SECTOR];
        for (int i = 0; i < want.length; i++) {
            want[i] = (byte) (i * 7 + 1);
        }
        Path img = image(want);
        Path socket = dir.resolve("qsd.sock");
        try (QemuStorageDaemon qsd = QemuStorageDaemon.export(img, socket,
                dir.resolve("qsd.log"))) {
            BlockDriverGuest.Result r = BlockDriverGuest.run(frontend(socket),
                    BlockDriverGuest.VIRTIO_BLK_T_IN, 3, null);
            assertTrue(r.uart().startsWith("I"), "an MSI from the back-end's call; " + qsd.log());
            assertEquals(1, last.directCallQueues(), "the call descriptor was the irqfd");
            assertFalse(r.mmioWrites().contains(VirtioPciDevice.notifyAddress(
                    BlockDriverGuest.BAR0, 0)), "the notify went to the ioeventfd");
            assertEquals(1, r.usedIdx());
            assertEquals(BlockDriverGuest.SECTOR + 1, r.usedLen());
            assertEquals(VIRTIO_BLK_S_OK, r.status());
            assertArrayEquals(want, r.data());
        }
    }

    @Test
    void guestReadsAndWritesThroughNimbusOwnBackend() throws Exception {
        byte[] want = new byte[BlockDriverGuest.SECTOR];
        Arrays.fill(want, (byte) 0x3C);
        Path img = image(want);
        Path socket = dir.resolve("nimbus-blk.sock");
        try (BackendProcess backend = BackendProcess.start(null, "nimbus-vhost-user-blk",
                socket, dir.resolve("backend.log"), "--block-backend", "path=" + img
                        + ",socket=" + socket + ",queue_size=128")) {
            BlockDriverGuest.Result read = BlockDriverGuest.run(frontend(socket),
                    BlockDriverGuest.VIRTIO_BLK_T_IN, 3, null);
            assertTrue(read.uart().startsWith("I"), backend.log());
            assertEquals(VIRTIO_BLK_S_OK, read.status());
            assertArrayEquals(want, read.data());
            // A second VM (front-end) on the same back-end: it serves one after the other.
            byte[] data = new byte[BlockDriverGuest.SECTOR];
            Arrays.fill(data, (byte) 0xC3);
            BlockDriverGuest.Result write = BlockDriverGuest.run(frontend(socket),
                    BlockDriverGuest.VIRTIO_BLK_T_OUT, 9, data);
            assertTrue(write.uart().startsWith("I"), backend.log());
            assertEquals(VIRTIO_BLK_S_OK, write.status());
            backend.stop();
            assertArrayEquals(data, Arrays.copyOfRange(Files.readAllBytes(img), 9 * 512,
                    10 * 512));
        }
    }

    @Test
    void guestWritesASectorTheHostThenReadsFromTheImage() throws Exception {
        Path img = image(new byte[BlockDriverGuest.SECTOR]);
        byte[] data = new byte[BlockDriverGuest.SECTOR];
        Arrays.fill(data, (byte) 0x5A);
        data[0] = 'N';
        Path socket = dir.resolve("qsd.sock");
        try (QemuStorageDaemon qsd = QemuStorageDaemon.export(img, socket,
                dir.resolve("qsd.log"))) {
            BlockDriverGuest.Result r = BlockDriverGuest.run(frontend(socket),
                    BlockDriverGuest.VIRTIO_BLK_T_OUT, 5, data);
            assertTrue(r.uart().startsWith("I"), qsd.log());
            assertEquals(VIRTIO_BLK_S_OK, r.status());
        }
        byte[] onDisk = Arrays.copyOfRange(Files.readAllBytes(img), 5 * 512, 6 * 512);
        assertArrayEquals(data, onDisk);
    }
}
