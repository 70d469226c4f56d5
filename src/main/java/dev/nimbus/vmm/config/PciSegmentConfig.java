package dev.nimbus.vmm.config;

import dev.nimbus.json.JsonFields;
import dev.nimbus.json.JsonObject;
import dev.nimbus.json.UnsignedType;

/**
 * The share of the 32-bit and 64-bit MMIO windows one PCI segment gets, relative to the other
 * segments: {@code PciSegmentConfig} in the API.
 */
public record PciSegmentConfig(int pciSegment, long mmio32ApertureWeight,
        long mmio64ApertureWeight) {

    public static final long DEFAULT_APERTURE_WEIGHT = 1;

    static final String PCI_SEGMENT = "pci_segment";
    static final String MMIO32_APERTURE_WEIGHT = "mmio32_aperture_weight";
    static final String MMIO64_APERTURE_WEIGHT = "mmio64_aperture_weight";

    static PciSegmentConfig fromJson(JsonFields f) {
        return new PciSegmentConfig(
                (int) f.unsigned(PCI_SEGMENT, UnsignedType.U16, 0),
                f.unsigned(MMIO32_APERTURE_WEIGHT, UnsignedType.U32, DEFAULT_APERTURE_WEIGHT),
                f.unsigned(MMIO64_APERTURE_WEIGHT, UnsignedType.U32, DEFAULT_APERTURE_WEIGHT));
    }

    JsonObject toJson() {
        return JsonObject.builder()
                .put(PCI_SEGMENT, pciSegment)
                .put(MMIO32_APERTURE_WEIGHT, mmio32ApertureWeight)
                .put(MMIO64_APERTURE_WEIGHT, mmio64ApertureWeight)
                .build();
    }
}
