package dev.nimbus.vhost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.testkit.GuestKit;
import dev.nimbus.testkit.KitDisk;
import dev.nimbus.testkit.KitReport;
import dev.nimbus.testkit.NimbusProcess;
import dev.nimbus.testkit.VirtioKitChecks;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A kit guest booted by {@code bin/nimbus} with {@code --disk vhost_user=on,socket=...} and
 * {@code --memory shared=on}: the guest's virtio-blk driver reads, writes (and verifies) and
 * flushes through Nimbus's vhost-user front-end, served by QEMU's {@code qemu-storage-daemon}
 * and by {@code bin/nimbus-vhost-user-blk}. The host then finds exactly the guest's writes in
 * the image.
 *
 * <p>Unlike {@code VirtioKitIT}, the serial is the back-end's own: neither back-end takes one
 * on its command line (qemu-storage-daemon answers {@code vhost_user_blk}).
 */
class VhostUserKitIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    private KitReport runKit(KitDisk disk, Path socket) {
        List<String> args = List.of("--kernel", GuestKit.pvhGuest().toString(),
                "--cmdline", "kit.action=poweroff kit.virtio=blk " + disk.cmdline(),
                "--serial", "tty", "--console", "off", "--memory", "size=256M,shared=on",
                "--disk", "vhost_user=on,socket=" + socket + ",num_queues=1,queue_size=128");
        try (NimbusProcess p = NimbusProcess.start(args)) {
            OptionalInt exit = p.awaitExit(TIMEOUT);
            assertEquals(OptionalInt.of(0), exit, p.diagnostics());
            return p.report();
        }
    }

    private static void assertGuestDrove(KitReport r, KitDisk disk, String serial) {
        String why = r.toString();
        VirtioKitChecks.assertDevicesDriven(r, List.of("blk"));
        assertEquals(KitDisk.SECTORS, r.require("VIRTIO-BLK").number("capacity"), why);
        assertEquals(0, r.require("VIRTIO-BLK-ID").number("status"), why);
        if (serial != null) {
            assertEquals(serial, r.require("VIRTIO-BLK-ID").get("serial"), why);
        }
        List<KitReport.Line> reads = r.lines("VIRTIO-BLK-READ");
        assertEquals(KitDisk.READS.size(), reads.size(), why);
        reads.forEach(l -> assertEquals(0, l.number("status"), l.raw()));
        List<KitReport.Line> writes = r.lines("VIRTIO-BLK-WRITE");
        assertEquals(KitDisk.WRITES.size(), writes.size(), why);
        writes.forEach(l -> assertTrue(l.flag("verify"), "read back what it wrote: " + l.raw()));
        assertEquals(0, r.require("VIRTIO-BLK-FLUSH").number("status"), why);
        assertFalse(why.contains("KIT-ERROR"), why);
    }

    @Test
    void kitGuestDrivesADiskServedByQemuStorageDaemon() throws Exception {
        KitDisk disk = KitDisk.create(dir);
        Path socket = dir.resolve("qsd.sock");
        try (QemuStorageDaemon qsd = QemuStorageDaemon.export(disk.image(), socket,
                dir.resolve("qsd.log"))) {
            assertGuestDrove(runKit(disk, socket), disk, "vhost_user_blk");
        }
        disk.assertImage();
    }

    @Test
    void kitGuestDrivesADiskServedByNimbusOwnBackend() throws Exception {
        KitDisk disk = KitDisk.create(dir);
        Path socket = dir.resolve("blk.sock");
        try (BackendProcess backend = BackendProcess.start(null, "nimbus-vhost-user-blk",
                socket, dir.resolve("backend.log"), "--block-backend", "path=" + disk.image()
                        + ",socket=" + socket + ",queue_size=128")) {
            assertGuestDrove(runKit(disk, socket), disk, null);
            // A second VM on the same back-end, after the first one went away.
            assertGuestDrove(runKit(disk, socket), disk, null);
            backend.stop();
        }
        disk.assertImage();
    }
}
