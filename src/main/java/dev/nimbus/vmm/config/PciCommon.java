package dev.nimbus.vmm.config;

import dev.nimbus.json.JsonFields;
import dev.nimbus.json.JsonObject;
import dev.nimbus.json.UnsignedType;

/**
 * Where a PCI device sits and what it is called: the fields every virtio device shares. In the
 * API they appear directly among the device's own fields.
 *
 * @param id the device's identifier; null until the VMM names it ({@code _disk0}, ...)
 * @param iommu whether the device is placed behind the virtio-iommu
 * @param pciSegment the PCI segment (domain) the device sits on
 * @param pciDeviceId a fixed slot on bus 0 of that segment, or null to take the next free one
 */
public record PciCommon(String id, boolean iommu, int pciSegment, Integer pciDeviceId) {
    /** No id, no IOMMU, segment 0, any slot. */
    public static final PciCommon DEFAULT = new PciCommon(null, false, 0, null);

    static final String ID = "id";
    static final String IOMMU = "iommu";
    static final String PCI_SEGMENT = "pci_segment";
    static final String PCI_DEVICE_ID = "pci_device_id";

    /** The option keys of a device that cannot sit behind an IOMMU. */
    static final String[] KEYS = {ID, PCI_SEGMENT, PCI_DEVICE_ID};
    /** The option keys of a device that can. */
    static final String[] KEYS_WITH_IOMMU = {ID, IOMMU, PCI_SEGMENT, PCI_DEVICE_ID};

    /** This placement under another id. */
    public PciCommon withId(String newId) {
        return new PciCommon(newId, iommu, pciSegment, pciDeviceId);
    }

    /** Reads the common keys out of a device's option string, ignoring the device's own keys. */
    static PciCommon parse(String input) {
        OptionParser p = new OptionParser("Error parsing common PCI device config")
                .add(KEYS_WITH_IOMMU)
                .parseSubset(input);
        return new PciCommon(
                p.get(ID),
                p.toggle(IOMMU, false),
                orZero(p.unsignedInt(PCI_SEGMENT, UnsignedType.U16)),
                p.unsignedInt(PCI_DEVICE_ID, UnsignedType.U8));
    }

    static PciCommon fromJson(JsonFields f) {
        Long deviceId = f.optUnsigned(PCI_DEVICE_ID, UnsignedType.U8);
        return new PciCommon(
                f.optString(ID),
                f.bool(IOMMU, false),
                (int) f.unsigned(PCI_SEGMENT, UnsignedType.U16, 0),
                deviceId == null ? null : deviceId.intValue());
    }

    /** Adds these fields to a device's JSON object; iommu only when on, as the API does. */
    void toJson(JsonObject.Builder b) {
        b.putIfPresent(ID, id);
        if (iommu) {
            b.put(IOMMU, true);
        }
        b.put(PCI_SEGMENT, pciSegment);
        b.putIfPresent(PCI_DEVICE_ID, pciDeviceId);
    }

    private static int orZero(Integer value) {
        return value == null ? 0 : value;
    }
}
