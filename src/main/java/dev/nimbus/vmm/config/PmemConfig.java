package dev.nimbus.vmm.config;

import dev.nimbus.json.JsonFields;
import dev.nimbus.json.JsonObject;
import dev.nimbus.json.UnsignedType;

/**
 * A virtio-pmem device backed by a host file: {@code PmemConfig} in the API, {@code --pmem} on
 * the command line.
 *
 * @param pci id and PCI placement
 * @param file the backing file
 * @param size the device size, or null for the file's size
 * @param discardWrites whether guest writes stay private to the VM instead of reaching the file
 */
public record PmemConfig(PciCommon pci, String file, Long size, boolean discardWrites) {
    static final String FILE = "file";
    static final String SIZE = "size";
    static final String DISCARD_WRITES = "discard_writes";

    public PmemConfig {
        if (pci == null) {
            pci = PciCommon.DEFAULT;
        }
    }

    /** The device's identifier, or null until the VMM names it. */
    public String id() {
        return pci.id();
    }

    /** This device under another identifier. */
    public PmemConfig withId(String id) {
        return new PmemConfig(pci.withId(id), file, size, discardWrites);
    }

    /** Parses one {@code --pmem} option string. */
    public static PmemConfig parse(String option) {
        OptionParser p = new OptionParser("Error parsing --pmem")
                .add(SIZE, FILE, DISCARD_WRITES)
                .add(PciCommon.KEYS_WITH_IOMMU)
                .parse(option);
        PciCommon pci = PciCommon.parse(option);
        String file = p.get(FILE);
        if (file == null) {
            throw ConfigException.option("Error parsing --pmem: file missing");
        }
        Long size = p.byteSize(SIZE);
        return new PmemConfig(pci, file, size, p.toggle(DISCARD_WRITES, false));
    }

    /** Reads a {@code PmemConfig} object, e.g. the body of {@code vm.add-pmem}. */
    public static PmemConfig fromJson(JsonFields f) {
        return new PmemConfig(
                PciCommon.fromJson(f),
                f.string(FILE),
                f.optUnsigned(SIZE, UnsignedType.U64),
                f.bool(DISCARD_WRITES, false));
    }

    /** This device as the API writes it. */
    public JsonObject toJson() {
        JsonObject.Builder b = JsonObject.builder();
        pci.toJson(b);
        return b.put(FILE, file)
                .putIfPresent(SIZE, size)
                .put(DISCARD_WRITES, discardWrites)
                .build();
    }
}
