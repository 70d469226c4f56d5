package dev.nimbus.vmm.config;

import dev.nimbus.json.JsonArray;
import dev.nimbus.json.JsonFields;
import dev.nimbus.json.JsonObject;
import dev.nimbus.json.JsonString;
import dev.nimbus.json.JsonValue;
import dev.nimbus.json.UnsignedType;
import java.util.ArrayList;
import java.util.List;

/**
 * Machine-wide settings: PCI segments, the virtual IOMMU, iommufd and SMBIOS strings.
 * {@code PlatformConfig} in the API; Nimbus has no {@code --platform} option yet.
 *
 * @param numPciSegments how many PCI segments (domains) the machine has, 1 to 96
 * @param iommuSegments segments whose devices all sit behind the virtio-iommu; empty for none
 * @param iommuAddressWidthBits the address width the virtio-iommu offers
 * @param systemSerialNumber SMBIOS system serial number, or null (likewise the other strings)
 * @param oemStrings SMBIOS OEM strings; empty for none
 * @param iommufd whether VFIO devices go through iommufd
 * @param iommufdFd an iommufd descriptor handed to the VMM, or null; from the API it is only
 *     ever -1 (the number in the body means nothing in this process)
 * @param vfioP2pDma whether VFIO devices may DMA to each other
 */
public record PlatformConfig(
        int numPciSegments,
        List<Integer> iommuSegments,
        int iommuAddressWidthBits,
        String systemSerialNumber,
        String systemUuid,
        List<String> oemStrings,
        String systemManufacturer,
        String systemProductName,
        String systemVersion,
        String systemFamily,
        String systemSkuNumber,
        String chassisAssetTag,
        boolean iommufd,
        Integer iommufdFd,
        boolean vfioP2pDma) {

    public static final int DEFAULT_NUM_PCI_SEGMENTS = 1;
    public static final int MAX_NUM_PCI_SEGMENTS = 96;
    public static final int DEFAULT_IOMMU_ADDRESS_WIDTH_BITS = 64;

    static final String NUM_PCI_SEGMENTS = "num_pci_segments";
    static final String IOMMU_SEGMENTS = "iommu_segments";
    static final String IOMMU_ADDRESS_WIDTH_BITS = "iommu_address_width_bits";
    static final String SYSTEM_SERIAL_NUMBER = "system_serial_number";
    static final String SYSTEM_UUID = "system_uuid";
    static final String OEM_STRINGS = "oem_strings";
    static final String SYSTEM_MANUFACTURER = "system_manufacturer";
    static final String SYSTEM_PRODUCT_NAME = "system_product_name";
    static final String SYSTEM_VERSION = "system_version";
    static final String SYSTEM_FAMILY = "system_family";
    static final String SYSTEM_SKU_NUMBER = "system_sku_number";
    static final String CHASSIS_ASSET_TAG = "chassis_asset_tag";
    static final String IOMMUFD = "iommufd";
    static final String IOMMUFD_FD = "iommufd_fd";
    static final String VFIO_P2P_DMA = "vfio_p2p_dma";
    /** Older names of two SMBIOS fields, still read. */
    static final String SERIAL_NUMBER_ALIAS = "serial_number";
    static final String UUID_ALIAS = "uuid";

    public PlatformConfig {
        iommuSegments = List.copyOf(iommuSegments);
        oemStrings = List.copyOf(oemStrings);
    }

    static PlatformConfig fromJson(JsonFields f) {
        String serial = f.optString(SYSTEM_SERIAL_NUMBER);
        String uuid = f.optString(SYSTEM_UUID);
        return new PlatformConfig(
                (int) f.unsigned(NUM_PCI_SEGMENTS, UnsignedType.U16, DEFAULT_NUM_PCI_SEGMENTS),
                IntLists.toInts(f.unsignedList(IOMMU_SEGMENTS, UnsignedType.U16)),
                (int) f.unsigned(IOMMU_ADDRESS_WIDTH_BITS, UnsignedType.U8,
                        DEFAULT_IOMMU_ADDRESS_WIDTH_BITS),
                serial != null ? serial : f.optString(SERIAL_NUMBER_ALIAS),
                uuid != null ? uuid : f.optString(UUID_ALIAS),
                f.stringList(OEM_STRINGS),
                f.optString(SYSTEM_MANUFACTURER),
                f.optString(SYSTEM_PRODUCT_NAME),
                f.optString(SYSTEM_VERSION),
                f.optString(SYSTEM_FAMILY),
                f.optString(SYSTEM_SKU_NUMBER),
                f.optString(CHASSIS_ASSET_TAG),
                f.bool(IOMMUFD, false),
                f.has(IOMMUFD_FD) ? Integer.valueOf(-1) : null,
                f.bool(VFIO_P2P_DMA, true));
    }

    JsonObject toJson() {
        List<JsonValue> oem = new ArrayList<>();
        for (String s : oemStrings) {
            oem.add(new JsonString(s));
        }
        JsonObject.Builder b = JsonObject.builder().put(NUM_PCI_SEGMENTS, numPciSegments);
        if (!iommuSegments.isEmpty()) {
            b.put(IOMMU_SEGMENTS, IntLists.toJson(iommuSegments));
        }
        return b.put(IOMMU_ADDRESS_WIDTH_BITS, iommuAddressWidthBits)
                .putIfPresent(SYSTEM_SERIAL_NUMBER, systemSerialNumber)
                .putIfPresent(SYSTEM_UUID, systemUuid)
                .putIfPresent(OEM_STRINGS, oem.isEmpty() ? null : new JsonArray(oem))
                .putIfPresent(SYSTEM_MANUFACTURER, systemManufacturer)
                .putIfPresent(SYSTEM_PRODUCT_NAME, systemProductName)
                .putIfPresent(SYSTEM_VERSION, systemVersion)
                .putIfPresent(SYSTEM_FAMILY, systemFamily)
                .putIfPresent(SYSTEM_SKU_NUMBER, systemSkuNumber)
                .putIfPresent(CHASSIS_ASSET_TAG, chassisAssetTag)
                .put(IOMMUFD, iommufd)
                .putIfPresent(IOMMUFD_FD, iommufdFd)
                .put(VFIO_P2P_DMA, vfioP2pDma)
                .build();
    }
}
