package dev.nimbus.devices.virtio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.devices.virtio.rng.VirtioRng;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A guest on real KVM drives virtio-rng the way a driver does ({@link QueueDriverGuest}). The
 * test checks that the notify write never reached the VMM (KVM absorbed it through the
 * ioeventfd), that the interrupt handler ran (the irqfd and MSI route work) and that the
 * guest's buffer holds the entropy source's bytes.
 */
class VirtioRngGuestIT {
    private static final long BUFFER = QueueDriverGuest.BUFFERS;
    private static final int BUFFER_LEN = 64;

    @TempDir
    Path dir;

    @Test
    void guestDrivesTheRngThroughIoeventfdAndMsix() throws Exception {
        byte[] entropy = new byte[BUFFER_LEN];
        for (int i = 0; i < entropy.length; i++) {
            entropy[i] = (byte) (0xA0 + i);
        }
        Path source = dir.resolve("entropy");
        Files.write(source, entropy);

        QueueDriverGuest.run(mem -> new VirtioRng(source.toString()), mem -> {
            // The driver already placed one 64-byte writable buffer in the available ring.
            QueueDriverGuest.desc(mem, 0, BUFFER, BUFFER_LEN, Virtqueue.VIRTQ_DESC_F_WRITE, 0);
            QueueDriverGuest.offerFirstChain(mem);
        }, run -> {
            long bar0 = QueueDriverGuest.BAR0;
            assertTrue(run.mmioWrites().contains(bar0 + VirtioPciDevice.VIRTIO_PCI_COMMON_STATUS),
                    "common configuration writes do exit to the VMM");
            assertFalse(run.mmioWrites().contains(VirtioPciDevice.notifyAddress(bar0, 0)),
                    "the notify write was absorbed by the ioeventfd");
            assertEquals("I", run.uart(), "one MSI reached the guest's handler");
            long used = QueueDriverGuest.USED;
            assertEquals(1, Short.toUnsignedInt(run.mem().readShort(used + 2)));
            assertEquals(BUFFER_LEN, run.mem().readInt(used + 8));
            assertArrayEquals(entropy, run.mem().read(BUFFER, BUFFER_LEN));
            assertEquals(0, run.pci().status() & Virtio.VIRTIO_CONFIG_S_NEEDS_RESET);
            return null;
        });
    }
}
