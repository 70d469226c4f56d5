package dev.nimbus.vmm.config;

import dev.nimbus.json.JsonFields;
import dev.nimbus.json.JsonObject;
import dev.nimbus.json.UnsignedType;

/**
 * A virtio-vsock device whose host side is a Unix socket: {@code VsockConfig} in the API,
 * {@code --vsock} on the command line.
 *
 * @param pci id and PCI placement
 * @param cid the guest's context identifier; 0, 1, 2 and 0xffffffff are reserved
 * @param socket the host Unix socket that stands for the guest
 */
public record VsockConfig(PciCommon pci, long cid, String socket) {
    static final String CID = "cid";
    static final String SOCKET = "socket";

    public VsockConfig {
        if (pci == null) {
            pci = PciCommon.DEFAULT;
        }
    }

    /** The device's identifier, or null until the VMM names it. */
    public String id() {
        return pci.id();
    }

    /** This device under another identifier. */
    public VsockConfig withId(String id) {
        return new VsockConfig(pci.withId(id), cid, socket);
    }

    /** Parses the {@code --vsock} option string. */
    public static VsockConfig parse(String option) {
        OptionParser p = new OptionParser("Error parsing --vsock")
                .add(SOCKET, CID)
                .add(PciCommon.KEYS_WITH_IOMMU)
                .parse(option);
        PciCommon pci = PciCommon.parse(option);
        String socket = p.get(SOCKET);
        if (socket == null) {
            throw ConfigException.option("Error parsing --vsock: socket missing");
        }
        Long cid = p.unsigned(CID, UnsignedType.U32);
        if (cid == null) {
            throw ConfigException.option("Error parsing --vsock: cid missing");
        }
        return new VsockConfig(pci, cid, socket);
    }

    /** Reads a {@code VsockConfig} object, e.g. the body of {@code vm.add-vsock}. */
    public static VsockConfig fromJson(JsonFields f) {
        return new VsockConfig(
                PciCommon.fromJson(f), f.unsigned(CID, UnsignedType.U32), f.string(SOCKET));
    }

    /** This device as the API writes it. */
    public JsonObject toJson() {
        JsonObject.Builder b = JsonObject.builder();
        pci.toJson(b);
        return b.put(CID, cid).put(SOCKET, socket).build();
    }
}
