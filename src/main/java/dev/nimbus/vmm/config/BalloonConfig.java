package dev.nimbus.vmm.config;

import dev.nimbus.json.JsonFields;
import dev.nimbus.json.JsonObject;
import dev.nimbus.json.UnsignedType;

/**
 * The virtio-balloon device: {@code BalloonConfig} in the API, {@code --balloon} on the command
 * line.
 *
 * @param pci id and PCI placement
 * @param size bytes taken from the guest at boot; less than the guest's RAM
 * @param deflateOnOom whether the guest may deflate the balloon when it runs out of memory
 * @param freePageReporting whether the guest reports free pages to the host
 */
public record BalloonConfig(
        PciCommon pci, long size, boolean deflateOnOom, boolean freePageReporting) {

    static final String SIZE = "size";
    static final String DEFLATE_ON_OOM = "deflate_on_oom";
    static final String FREE_PAGE_REPORTING = "free_page_reporting";

    public BalloonConfig {
        if (pci == null) {
            pci = PciCommon.DEFAULT;
        }
    }

    /** This balloon at another size, as {@code vm.resize} with {@code desired_balloon} sets. */
    public BalloonConfig withSize(long bytes) {
        return new BalloonConfig(pci, bytes, deflateOnOom, freePageReporting);
    }

    /** Parses the {@code --balloon} option string. */
    public static BalloonConfig parse(String option) {
        OptionParser p = new OptionParser("Error parsing --balloon")
                .add(SIZE, DEFLATE_ON_OOM, FREE_PAGE_REPORTING)
                .add(PciCommon.KEYS_WITH_IOMMU)
                .parse(option);
        Long size = p.byteSize(SIZE);
        boolean deflate = p.toggle(DEFLATE_ON_OOM, false);
        boolean reporting = p.toggle(FREE_PAGE_REPORTING, false);
        return new BalloonConfig(PciCommon.parse(option), size == null ? 0 : size, deflate,
                reporting);
    }

    static BalloonConfig fromJson(JsonFields f) {
        return new BalloonConfig(
                PciCommon.fromJson(f),
                f.unsigned(SIZE, UnsignedType.U64),
                f.bool(DEFLATE_ON_OOM, false),
                f.bool(FREE_PAGE_REPORTING, false));
    }

    /** This device as the API writes it. */
    public JsonObject toJson() {
        JsonObject.Builder b = JsonObject.builder();
        pci.toJson(b);
        return b.put(SIZE, size)
                .put(DEFLATE_ON_OOM, deflateOnOom)
                .put(FREE_PAGE_REPORTING, freePageReporting)
                .build();
    }
}
