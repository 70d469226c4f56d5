package dev.nimbus.devices.pci;

/**
 * The host bridge at 00:00.0 of segment 0: an Intel 8086:0D57 with the host-bridge class
 * (0x060000) and no BARs, as Cloud Hypervisor presents it. Guests only read its identity.
 */
public final class PciHostBridge implements PciDevice {
    public static final int VENDOR_ID_INTEL = 0x8086;
    public static final int DEVICE_ID_INTEL_VIRT_PCIE_HOST = 0x0D57;
    /** Base class 0x06 (bridge), sub-class 0x00 (host bridge). */
    public static final int PCI_CLASS_BRIDGE_HOST = 0x06_00_00;

    private final PciConfigSpace config = new PciConfigSpace(VENDOR_ID_INTEL,
            DEVICE_ID_INTEL_VIRT_PCIE_HOST, 0, PCI_CLASS_BRIDGE_HOST, 0, 0);

    @Override
    public String id() {
        return "pci-host-bridge";
    }

    @Override
    public PciConfigSpace configSpace() {
        return config;
    }

    @Override
    public long readBar(int bar, long offset, int size) {
        return 0;
    }

    @Override
    public void writeBar(int bar, long offset, int size, long value) {}
}
