package dev.nimbus.vmm;

import dev.nimbus.json.JsonArray;
import dev.nimbus.json.JsonObject;
import dev.nimbus.json.JsonString;
import dev.nimbus.json.JsonValue;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The devices of a running VM by id, as {@code vm.info} reports them in {@code device_tree}:
 * each node with its resources, its parent and children (a virtio device's PCI wrapper is its
 * parent) and, for PCI functions, the address {@code SSSS:BB:DD.F}. Thread-safe: devices are
 * added while the VM is built and read by the API.
 */
public final class DeviceTree {
    private final Map<String, Node> nodes = new LinkedHashMap<>();

    /** A resource a device holds; written as the API's tagged {@code Resource} values. */
    public sealed interface Resource {
        /** Port I/O range: {@code {"PioAddressRange": {"base": B, "size": S}}}. */
        record PioAddressRange(int base, int size) implements Resource {}

        /** MMIO range: {@code {"MmioAddressRange": {"base": B, "size": S}}}. */
        record MmioAddressRange(long base, long size) implements Resource {}

        /** A legacy interrupt line: {@code {"LegacyIrq": N}}. */
        record LegacyIrq(int irq) implements Resource {}
    }

    /**
     * One device.
     *
     * @param id its id, e.g. {@code __serial}, {@code _disk0}
     * @param resources what it holds, in allocation order
     * @param parent the id of the device it hangs off, or null
     * @param children ids of the devices hanging off it
     * @param pciBdf its PCI address, or null when it is not a PCI function
     */
    public record Node(String id, List<Resource> resources, String parent, List<String> children,
            String pciBdf) {
        public Node {
            resources = List.copyOf(resources);
            children = List.copyOf(children);
        }

        /** A device without resources, parent or children. */
        public static Node of(String id) {
            return new Node(id, List.of(), null, List.of(), null);
        }
    }

    /** Adds (or replaces) the node with {@code node.id()}. */
    public synchronized void add(Node node) {
        nodes.put(node.id(), node);
    }

    /** Removes the node {@code id}; returns whether there was one. */
    public synchronized boolean remove(String id) {
        return nodes.remove(id) != null;
    }

    /** The nodes, in the order they were added. */
    public synchronized List<Node> nodes() {
        return new ArrayList<>(nodes.values());
    }

    /** The tree as the API writes it: an object of nodes keyed by id. */
    public synchronized JsonObject toJson() {
        JsonObject.Builder tree = JsonObject.builder();
        for (Node n : nodes.values()) {
            List<JsonValue> resources = new ArrayList<>();
            for (Resource r : n.resources()) {
                resources.add(resourceJson(r));
            }
            List<JsonValue> children = new ArrayList<>();
            for (String c : n.children()) {
                children.add(new JsonString(c));
            }
            tree.put(n.id(), JsonObject.builder()
                    .put("id", n.id())
                    .put("resources", new JsonArray(resources))
                    .putIfPresent("parent", n.parent())
                    .put("children", new JsonArray(children))
                    .putIfPresent("pci_bdf", n.pciBdf())
                    .build());
        }
        return tree.build();
    }

    private static JsonValue resourceJson(Resource r) {
        if (r instanceof Resource.PioAddressRange p) {
            return JsonObject.builder().put("PioAddressRange", JsonObject.builder()
                    .put("base", p.base()).put("size", p.size()).build()).build();
        }
        if (r instanceof Resource.MmioAddressRange m) {
            return JsonObject.builder().put("MmioAddressRange", JsonObject.builder()
                    .put("base", m.base()).put("size", m.size()).build()).build();
        }
        Resource.LegacyIrq irq = (Resource.LegacyIrq) r;
        return JsonObject.builder().put("LegacyIrq", irq.irq()).build();
    }
}
