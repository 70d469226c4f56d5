package dev.nimbus.devices.virtio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * What every device engine must do, whatever its type: offer a modern feature set, activate,
 * reset and activate again, survive notifications with nothing to do and broken rings. Each
 * device's test class extends this and supplies the device.
 */
public abstract class VirtioDeviceContract {
    /** A fresh device; the contract closes it. */
    protected abstract VirtioDevice newDevice() throws Exception;

    private static boolean threadNamed(String name) {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().equals(name) && t.isAlive());
    }

    @Test
    void offersVersion1AndTheRingFeatures() throws Exception {
        VirtioDevice d = newDevice();
        try {
            assertTrue(Virtio.has(d.deviceFeatures(), Virtio.VIRTIO_F_VERSION_1));
            assertTrue(Virtio.has(d.deviceFeatures(), Virtio.VIRTIO_F_EVENT_IDX));
            assertTrue(Virtio.has(d.deviceFeatures(), Virtio.VIRTIO_F_INDIRECT_DESC));
            assertFalse(Virtio.has(d.deviceFeatures(), Virtio.VIRTIO_F_RING_PACKED));
            for (int size : d.queueMaxSizes()) {
                assertEquals(1, Integer.bitCount(size));
            }
        } finally {
            d.close();
        }
    }

    @Test
    void resetStopsTheDeviceThreadAndAllowsAnotherActivation() throws Exception {
        VirtioDevice d = newDevice();
        try (DeviceHarness h = new DeviceHarness(d, 16)) {
            d.reset();
            h.activate();
            assertTrue(threadNamed(d.id()), "a thread named after the device serves it");
            assertThrows(IllegalStateException.class, h::activate);
            d.reset();
            assertFalse(threadNamed(d.id()));
            d.reset();
            h.activate();
            assertTrue(threadNamed(d.id()));
        }
    }

    @Test
    void notificationsWithNothingAvailableChangeNothing() throws Exception {
        VirtioDevice d = newDevice();
        try (DeviceHarness h = new DeviceHarness(d, 16)) {
            h.activate();
            for (int q = 0; q < d.queueMaxSizes().length; q++) {
                h.kick(q);
            }
            Thread.sleep(50);
            for (int q = 0; q < d.queueMaxSizes().length; q++) {
                assertEquals(0, h.ring(q).usedIdx());
            }
            assertTrue(h.interrupt().resets().isEmpty());
        }
    }

    @Test
    void aBrokenRingAsksForAResetAndTheVmmCarriesOn() throws Exception {
        VirtioDevice d = newDevice();
        try (DeviceHarness h = new DeviceHarness(d, 16)) {
            h.activate();
            int last = d.queueMaxSizes().length - 1;
            h.ring(last).setAvailIdx(100);
            h.kick(last);
            assertTrue(h.interrupt().awaitReset(DeviceHarness.TIMEOUT_MILLIS));
            assertTrue(h.interrupt().resets().get(0).contains("ran ahead"),
                    h.interrupt().resets().get(0));
            d.reset();
            assertFalse(threadNamed(d.id()));
        }
    }
}
