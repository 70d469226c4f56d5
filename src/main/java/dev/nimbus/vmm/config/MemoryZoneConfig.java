package dev.nimbus.vmm.config;

import dev.nimbus.json.JsonFields;
import dev.nimbus.json.JsonObject;
import dev.nimbus.json.UnsignedType;

/**
 * A user-defined region of guest RAM: {@code MemoryZoneConfig} in the API. Only the API can
 * describe zones; Nimbus has no {@code --memory-zone} option yet.
 */
public record MemoryZoneConfig(
        String id,
        long size,
        String file,
        boolean shared,
        boolean hugepages,
        Long hugepageSize,
        Integer hostNumaNode,
        Long hotplugSize,
        Long hotpluggedSize,
        boolean prefault,
        boolean reserve,
        boolean mergeable) {

    static final String ID = "id";
    static final String SIZE = "size";
    static final String FILE = "file";
    static final String SHARED = "shared";
    static final String HUGEPAGES = "hugepages";
    static final String HUGEPAGE_SIZE = "hugepage_size";
    static final String HOST_NUMA_NODE = "host_numa_node";
    static final String HOTPLUG_SIZE = "hotplug_size";
    static final String HOTPLUGGED_SIZE = "hotplugged_size";
    static final String PREFAULT = "prefault";
    static final String RESERVE = "reserve";
    static final String MERGEABLE = "mergeable";

    static MemoryZoneConfig fromJson(JsonFields f) {
        Long node = f.optUnsigned(HOST_NUMA_NODE, UnsignedType.U32_INT);
        return new MemoryZoneConfig(
                f.string(ID),
                f.unsigned(SIZE, UnsignedType.U64),
                f.optString(FILE),
                f.bool(SHARED, false),
                f.bool(HUGEPAGES, false),
                f.optUnsigned(HUGEPAGE_SIZE, UnsignedType.U64),
                node == null ? null : node.intValue(),
                f.optUnsigned(HOTPLUG_SIZE, UnsignedType.U64),
                f.optUnsigned(HOTPLUGGED_SIZE, UnsignedType.U64),
                f.bool(PREFAULT, false),
                f.bool(RESERVE, false),
                f.bool(MERGEABLE, false));
    }

    JsonObject toJson() {
        return JsonObject.builder()
                .put(ID, id)
                .put(SIZE, size)
                .putIfPresent(FILE, file)
                .put(SHARED, shared)
                .put(HUGEPAGES, hugepages)
                .putIfPresent(HUGEPAGE_SIZE, hugepageSize)
                .putIfPresent(HOST_NUMA_NODE, hostNumaNode)
                .putIfPresent(HOTPLUG_SIZE, hotplugSize)
                .putIfPresent(HOTPLUGGED_SIZE, hotpluggedSize)
                .put(PREFAULT, prefault)
                .put(RESERVE, reserve)
                .put(MERGEABLE, mergeable)
                .build();
    }
}
