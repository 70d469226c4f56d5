package dev.nimbus.vmm.config;

import dev.nimbus.json.JsonFields;
import dev.nimbus.json.JsonObject;

/**
 * The virtio-rng device, always present: {@code RngConfig} in the API, {@code --rng} on the
 * command line.
 *
 * @param src the host file entropy is read from
 * @param pci id and PCI placement
 */
public record RngConfig(String src, PciCommon pci) {
    public static final String DEFAULT_SOURCE = "/dev/urandom";

    /** Entropy from {@value #DEFAULT_SOURCE}. */
    public static final RngConfig DEFAULT = new RngConfig(DEFAULT_SOURCE, PciCommon.DEFAULT);

    static final String SRC = "src";

    public RngConfig {
        if (pci == null) {
            pci = PciCommon.DEFAULT;
        }
    }

    /** Parses the {@code --rng} option string. */
    public static RngConfig parse(String option) {
        OptionParser p = new OptionParser("Error parsing --rng")
                .add(SRC)
                .add(PciCommon.KEYS_WITH_IOMMU)
                .parse(option);
        String src = p.get(SRC);
        return new RngConfig(src == null ? DEFAULT_SOURCE : src, PciCommon.parse(option));
    }

    static RngConfig fromJson(JsonFields f) {
        return new RngConfig(f.string(SRC), PciCommon.fromJson(f));
    }

    /** This device as the API writes it. */
    public JsonObject toJson() {
        JsonObject.Builder b = JsonObject.builder();
        pci.toJson(b);
        return b.put(SRC, src).build();
    }
}
