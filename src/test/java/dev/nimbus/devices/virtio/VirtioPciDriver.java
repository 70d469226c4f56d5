package dev.nimbus.devices.virtio;

import static dev.nimbus.devices.virtio.VirtioPciDevice.*;

import dev.nimbus.devices.pci.MsixTable;
import dev.nimbus.devices.pci.PciConfigSpace;
import dev.nimbus.devices.pci.PciDevice;
import java.util.HashMap;
import java.util.Map;

/**
 * Drives a virtio-pci function the way the Linux modern driver does: finds the virtio structures
 * by walking the capability list, negotiates features, sets up queues and MSI-X vectors and sets
 * DRIVER_OK, all through configuration space and BAR 0 accesses of the natural width.
 */
final class VirtioPciDriver {
    final PciDevice dev;
    final Map<Integer, Integer> capOffsets = new HashMap<>();
    final Map<Integer, long[]> structures = new HashMap<>();
    int msixCap;
    int notifyMultiplier;

    VirtioPciDriver(PciDevice dev) {
        this.dev = dev;
        for (int p = cfg(PciConfigSpace.PCI_CAPABILITY_LIST, 1); p != 0; p = cfg(p + 1, 1)) {
            int id = cfg(p, 1);
            if (id == PciConfigSpace.PCI_CAP_ID_MSIX) {
                msixCap = p;
            } else if (id == PciConfigSpace.PCI_CAP_ID_VNDR) {
                int type = cfg(p + 3, 1);
                capOffsets.putIfAbsent(type, p);
                structures.putIfAbsent(type, new long[] {cfg(p + 4, 1),
                        cfg(p + 8, 4) & 0xFFFF_FFFFL, cfg(p + 12, 4) & 0xFFFF_FFFFL});
                if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
                    notifyMultiplier = cfg(p + 16, 4);
                }
            }
        }
    }

    int cfg(int offset, int size) {
        int v = dev.readConfigRegister(offset / 4) >>> ((offset & 3) * 8);
        return size == 4 ? v : v & ((1 << (8 * size)) - 1);
    }

    void cfgWrite(int offset, int size, int value) {
        dev.writeConfig(offset, size, value);
    }

    long common(int offset, int size) {
        return dev.readBar(0, structures.get(VIRTIO_PCI_CAP_COMMON_CFG)[1] + offset, size);
    }

    void common(int offset, int size, long value) {
        dev.writeBar(0, structures.get(VIRTIO_PCI_CAP_COMMON_CFG)[1] + offset, size, value);
    }

    long deviceFeatures() {
        common(VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
        long low = common(VIRTIO_PCI_COMMON_DF, 4);
        common(VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
        return common(VIRTIO_PCI_COMMON_DF, 4) << 32 | low;
    }

    void writeDriverFeatures(long features) {
        common(VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
        common(VIRTIO_PCI_COMMON_GF, 4, features & 0xFFFF_FFFFL);
        common(VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
        common(VIRTIO_PCI_COMMON_GF, 4, features >>> 32);
    }

    int status() {
        return (int) common(VIRTIO_PCI_COMMON_STATUS, 1);
    }

    void addStatus(int bits) {
        common(VIRTIO_PCI_COMMON_STATUS, 1, status() | bits);
    }

    /** 3.1.1 steps 1 to 6; returns whether the device accepted the features. */
    boolean negotiate(long features) {
        common(VIRTIO_PCI_COMMON_STATUS, 1, 0);
        addStatus(Virtio.VIRTIO_CONFIG_S_ACKNOWLEDGE);
        addStatus(Virtio.VIRTIO_CONFIG_S_DRIVER);
        writeDriverFeatures(features);
        addStatus(Virtio.VIRTIO_CONFIG_S_FEATURES_OK);
        return (status() & Virtio.VIRTIO_CONFIG_S_FEATURES_OK) != 0;
    }

    void setupQueue(int q, VirtqueueBuilder ring, int vector) {
        common(VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
        common(VIRTIO_PCI_COMMON_Q_SIZE, 2, ring.size());
        common(VIRTIO_PCI_COMMON_Q_MSIX, 2, vector);
        common(VIRTIO_PCI_COMMON_Q_DESCLO, 4, ring.descGpa() & 0xFFFF_FFFFL);
        common(VIRTIO_PCI_COMMON_Q_DESCHI, 4, ring.descGpa() >>> 32);
        common(VIRTIO_PCI_COMMON_Q_AVAILLO, 4, ring.availGpa() & 0xFFFF_FFFFL);
        common(VIRTIO_PCI_COMMON_Q_AVAILHI, 4, ring.availGpa() >>> 32);
        common(VIRTIO_PCI_COMMON_Q_USEDLO, 4, ring.usedGpa() & 0xFFFF_FFFFL);
        common(VIRTIO_PCI_COMMON_Q_USEDHI, 4, ring.usedGpa() >>> 32);
        common(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
    }

    /** Enables MSI-X and programs {@code count} unmasked vectors, vector v with data 0x40+v. */
    void enableMsix(int count) {
        int control = cfg(msixCap + MsixTable.PCI_MSIX_FLAGS, 2);
        cfgWrite(msixCap + MsixTable.PCI_MSIX_FLAGS, 2,
                control | MsixTable.PCI_MSIX_FLAGS_ENABLE);
        for (int v = 0; v < count; v++) {
            long e = MSIX_TABLE_BAR_OFFSET + 16L * v;
            dev.writeBar(0, e, 4, 0xFEE0_0000L);
            dev.writeBar(0, e + 4, 4, 0);
            dev.writeBar(0, e + 8, 4, 0x40 + v);
            dev.writeBar(0, e + 12, 4, 0);
        }
    }

    /** Writes the queue index to its notify register, as a driver without ioeventfds would. */
    void notify(int q) {
        long[] n = structures.get(VIRTIO_PCI_CAP_NOTIFY_CFG);
        common(VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
        long off = common(VIRTIO_PCI_COMMON_Q_NOFF, 2);
        dev.writeBar(0, n[1] + off * notifyMultiplier, 2, q);
    }
}
