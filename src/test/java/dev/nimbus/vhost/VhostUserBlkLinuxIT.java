package dev.nimbus.vhost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/nimbus-vhost-user-blk} proven by Linux's virtio-blk driver: a guest under QEMU
 * (TCG, {@code vhost-user-blk-pci}, shared memfd RAM) mounts an ext4 file system from the
 * back-end, runs fio with {@code verify=crc32c} on it and writes a file the host then reads
 * from the image. A second test kills QEMU in the middle of writes after a flush: the back-end
 * serves the next QEMU, and what was flushed is there.
 *
 * <p>The guest's tools come from the project's Debian root file system
 * ({@code scripts/guest-rootfs.sh}, fio among them), attached read-only as a plain virtio-blk
 * disk and entered with chroot from the initramfs.
 */
class VhostUserBlkLinuxIT {
    private static final Duration RUN = Duration.ofMinutes(5);
    private static final String PREPARE = """
            fail() { echo "BLK-FAIL $*"; exit 1; }
            mkdir -p /rootfs
            mount -t ext4 -o ro /dev/vda /rootfs || fail mount-root
            mount -t proc proc /rootfs/proc
            mount -t sysfs sysfs /rootfs/sys
            mount --bind /dev /rootfs/dev
            mount -t tmpfs tmpfs /rootfs/tmp
            mount -t ext4 /dev/vdb /rootfs/mnt || fail mount-data
            echo "BLK-MOUNTED sectors=$(cat /sys/block/vdb/size)"
            now() { cut -d' ' -f1 /proc/uptime; }
            """;
    private static final String FIO = PREPARE + """
            t0=$(now)
            chroot /rootfs fio --name=verify --filename=/mnt/fio.dat --size=32M --bs=4k \\
                --rw=randwrite --ioengine=libaio --iodepth=16 --direct=1 --verify=crc32c \\
                --do_verify=1 --verify_fatal=1 > /tmp/fio.out 2>&1
            rc=$?
            t1=$(now)
            grep -E 'err=|WRITE:|READ:|verify' /tmp/fio.out
            echo "FIO-EXIT rc=$rc seconds=$(awk "BEGIN { print $t1 - $t0 }")"
            dd if=/dev/urandom of=/rootfs/mnt/hello.bin bs=1M count=16 2>/dev/null
            sync
            echo "FILE-WRITTEN sha256=$(sha256sum /rootfs/mnt/hello.bin | cut -d' ' -f1)"
            umount /rootfs/mnt || fail umount
            echo BLK-DONE
            """;
    private static final String WRITE_THEN_HANG = PREPARE + """
            dd if=/dev/urandom of=/rootfs/mnt/kept.bin bs=1M count=8 2>/dev/null
            sync
            echo "SYNCED sha256=$(sha256sum /rootfs/mnt/kept.bin | cut -d' ' -f1)"
            # Unflushed writes in flight when QEMU dies.
            while :; do dd if=/dev/zero of=/rootfs/mnt/junk bs=64k count=256 conv=fsync \\
                2>/dev/null; done
            """;
    private static final String READ_BACK = PREPARE + """
            echo "AFTER sha256=$(sha256sum /rootfs/mnt/kept.bin | cut -d' ' -f1)"
            umount /rootfs/mnt || fail umount
            echo BLK-DONE
            """;

    private static Path rootfs;

    @TempDir
    Path dir;

    @BeforeAll
    static void guestRootFileSystem() throws Exception {
        rootfs = Commands.rootfs();
    }

    private Path dataImage() throws Exception {
        Path img = dir.resolve("data.img");
        Commands.check(60, "truncate", "-s", "256M", img.toString());
        Commands.check(60, "mkfs.ext4", "-q", "-F", "-L", "nimbus-data", img.toString());
        return img;
    }

    private BackendProcess backend(Path img, Path socket) throws Exception {
        return BackendProcess.start(null, "nimbus-vhost-user-blk", socket,
                dir.resolve("backend.log"), "-v", "--block-backend", "path=" + img
                        + ",socket=" + socket + ",num_queues=2,queue_size=256");
    }

    private static TcgLinuxGuest boot(Path socket, String script) throws Exception {
        return TcgLinuxGuest.boot(2, 512, Map.of("/t.sh", script), "nimbus.run=/t.sh",
                List.of("-drive", "file=" + rootfs + ",format=raw,if=none,id=root,readonly=on",
                        "-device", "virtio-blk-pci,drive=root,addr=0x3",
                        "-chardev", "socket,id=vub,path=" + socket,
                        "-device", "vhost-user-blk-pci,chardev=vub,num-queues=2,queue-size=256,"
                                + "addr=0x4"));
    }

    /** SIGTERM ends the back-end (the JVM reports it as 128 + 15). */
    private static void assertStoppedBySigterm(BackendProcess backend) throws Exception {
        int exit = backend.stop();
        assertTrue(exit == 0 || exit == 143, "exit=" + exit + "\n" + backend.log());
    }

    @Test
    void linuxMountsExt4RunsFioWithVerifyAndTheHostReadsItsFile() throws Exception {
        Path img = dataImage();
        Path socket = dir.resolve("blk.sock");
        String written;
        try (BackendProcess backend = backend(img, socket);
                TcgLinuxGuest guest = boot(socket, FIO)) {
            long start = System.nanoTime();
            assertTrue(guest.await("NIMBUS-RUN-EXIT", RUN), guest.diagnostics()
                    + "\nbackend:\n" + backend.log());
            String diag = guest.diagnostics() + "\nbackend:\n" + backend.log();
            assertEquals(String.valueOf(256 * 2048), guest.marker("BLK-MOUNTED").get("sectors"),
                    diag);
            Map<String, String> fio = guest.marker("FIO-EXIT");
            assertEquals("0", fio.get("rc"), diag);
            assertTrue(guest.output().contains("err= 0"), diag);
            assertTrue(guest.output().lines().anyMatch(l -> l.equals("BLK-DONE")), diag);
            written = guest.marker("FILE-WRITTEN").get("sha256");
            assertEquals(0, guest.awaitExit(Duration.ofSeconds(60)), diag);
            System.out.printf("vhost-user-blk: fio 32 MiB randwrite+verify %s s in the guest,"
                    + " whole run %.1f s%n", fio.get("seconds"),
                    (System.nanoTime() - start) / 1e9);
            assertStoppedBySigterm(backend);
        }
        Commands.Result cat = Commands.check(60, "debugfs", "-R", "cat /hello.bin",
                img.toString());
        assertEquals(16 << 20, cat.stdout().length);
        assertEquals(written, Commands.sha256(cat.stdout()));
        Commands.check(120, "e2fsck", "-f", "-n", img.toString());
    }

    @Test
    void flushedDataSurvivesAFrontendKilledMidWriteAndTheBackendServesTheNextOne()
            throws Exception {
        Path img = dataImage();
        Path socket = dir.resolve("blk.sock");
        try (BackendProcess backend = backend(img, socket)) {
            String synced;
            try (TcgLinuxGuest first = boot(socket, WRITE_THEN_HANG)) {
                assertTrue(first.await("SYNCED", RUN), first.diagnostics());
                synced = first.marker("SYNCED").get("sha256");
                Thread.sleep(1500);
                // QEMU dies with requests in flight: SIGKILL, no vhost-user goodbye.
            }
            assertTrue(backend.isAlive(), backend.log());
            try (TcgLinuxGuest second = boot(socket, READ_BACK)) {
                assertTrue(second.await("NIMBUS-RUN-EXIT", RUN), second.diagnostics()
                        + "\nbackend:\n" + backend.log());
                assertEquals(synced, second.marker("AFTER").get("sha256"),
                        second.diagnostics());
                assertEquals(0, second.awaitExit(Duration.ofSeconds(60)));
            }
            assertStoppedBySigterm(backend);
            assertTrue(backend.log().contains("front-end connected (connection 2)"),
                    backend.log());
        }
        Commands.check(120, "e2fsck", "-f", "-n", img.toString());
    }
}
