package dev.nimbus.vmm.config;

import dev.nimbus.json.JsonFields;
import dev.nimbus.json.JsonObject;
import dev.nimbus.json.JsonValue;
import dev.nimbus.json.UnsignedType;
import java.util.ArrayList;
import java.util.List;

/**
 * Guest RAM: {@code MemoryConfig} in the API, {@code --memory} on the command line.
 *
 * @param size boot RAM in bytes
 * @param mergeable whether the RAM is offered to KSM ({@code MADV_MERGEABLE})
 * @param hotplugMethod how RAM is hot-plugged
 * @param hotplugSize bytes reserved for hot-plug, or null for none
 * @param hotpluggedSize bytes already plugged through virtio-mem, or null
 * @param shared whether the RAM is a shared mapping (needed by vhost-user backends)
 * @param hugepages whether the RAM is backed by hugetlbfs
 * @param hugepageSize the huge page size, or null for the system default
 * @param prefault whether the RAM is populated when mapped ({@code MAP_POPULATE})
 * @param reserve whether the RAM is mapped without {@code MAP_NORESERVE}
 * @param zones user-defined RAM zones; empty when there are none
 * @param thp whether transparent huge pages are asked for ({@code MADV_HUGEPAGE})
 */
public record MemoryConfig(
        long size,
        boolean mergeable,
        HotplugMethod hotplugMethod,
        Long hotplugSize,
        Long hotpluggedSize,
        boolean shared,
        boolean hugepages,
        Long hugepageSize,
        boolean prefault,
        boolean reserve,
        List<MemoryZoneConfig> zones,
        boolean thp) {

    public static final long DEFAULT_SIZE = 512L << 20;

    /** 512 MiB, private, no hot-plug: what the command line and the API default to. */
    public static final MemoryConfig DEFAULT = new MemoryConfig(DEFAULT_SIZE, false);

    static final String SIZE = "size";
    static final String MERGEABLE = "mergeable";
    static final String HOTPLUG_METHOD = "hotplug_method";
    static final String HOTPLUG_SIZE = "hotplug_size";
    static final String HOTPLUGGED_SIZE = "hotplugged_size";
    static final String SHARED = "shared";
    static final String HUGEPAGES = "hugepages";
    static final String HUGEPAGE_SIZE = "hugepage_size";
    static final String PREFAULT = "prefault";
    static final String RESERVE = "reserve";
    static final String ZONES = "zones";
    static final String THP = "thp";
    /** Accepted on the command line for old scripts and ignored; zones replace it. */
    static final String FILE = "file";

    public MemoryConfig {
        zones = List.copyOf(zones);
        if (hotplugMethod == null) {
            hotplugMethod = HotplugMethod.ACPI;
        }
    }

    /** {@code size} bytes, shared or not, everything else at its default. */
    public MemoryConfig(long size, boolean shared) {
        this(size, false, HotplugMethod.ACPI, null, null, shared, false, null, false, false,
                List.of(), true);
    }

    /** All configured RAM: boot RAM, zones and what virtio-mem has plugged. */
    public long totalSize() {
        long total = size + hotpluggedSizeTotal();
        for (MemoryZoneConfig zone : zones) {
            total += zone.size();
        }
        return total;
    }

    /** Bytes plugged through virtio-mem, in the boot region and in zones. */
    public long hotpluggedSizeTotal() {
        long total = hotpluggedSize == null ? 0 : hotpluggedSize;
        for (MemoryZoneConfig zone : zones) {
            total += zone.hotpluggedSize() == null ? 0 : zone.hotpluggedSize();
        }
        return total;
    }

    /** This configuration with {@code bytes} of boot RAM, as an ACPI {@code vm.resize} does. */
    public MemoryConfig withSize(long bytes) {
        return new MemoryConfig(bytes, mergeable, hotplugMethod, hotplugSize, hotpluggedSize,
                shared, hugepages, hugepageSize, prefault, reserve, zones, thp);
    }

    /** This configuration with {@code bytes} plugged through virtio-mem. */
    public MemoryConfig withHotpluggedSize(Long bytes) {
        return new MemoryConfig(size, mergeable, hotplugMethod, hotplugSize, bytes, shared,
                hugepages, hugepageSize, prefault, reserve, zones, thp);
    }

    /** Parses the {@code --memory} option string. */
    public static MemoryConfig parse(String option) {
        OptionParser p = new OptionParser("Error parsing --memory")
                .add(SIZE, FILE, MERGEABLE, HOTPLUG_METHOD, HOTPLUG_SIZE, HOTPLUGGED_SIZE, SHARED,
                        HUGEPAGES, HUGEPAGE_SIZE, PREFAULT, RESERVE, THP)
                .parse(option);
        Long size = p.byteSize(SIZE);
        boolean mergeable = p.toggle(MERGEABLE, false);
        HotplugMethod method = WireEnum.option(p, HOTPLUG_METHOD, HotplugMethod.values(), true);
        Long hotplugSize = p.byteSize(HOTPLUG_SIZE);
        Long hotpluggedSize = p.byteSize(HOTPLUGGED_SIZE);
        boolean shared = p.toggle(SHARED, false);
        boolean hugepages = p.toggle(HUGEPAGES, false);
        Long hugepageSize = p.byteSize(HUGEPAGE_SIZE);
        boolean prefault = p.toggle(PREFAULT, false);
        boolean reserve = p.toggle(RESERVE, false);
        boolean thp = p.toggle(THP, true);
        return new MemoryConfig(size == null ? DEFAULT_SIZE : size, mergeable, method,
                hotplugSize, hotpluggedSize, shared, hugepages, hugepageSize, prefault, reserve,
                List.of(), thp);
    }

    static MemoryConfig fromJson(JsonFields f) {
        List<MemoryZoneConfig> zones = new ArrayList<>();
        for (JsonFields z : f.objects(ZONES)) {
            zones.add(MemoryZoneConfig.fromJson(z));
        }
        return new MemoryConfig(
                f.unsigned(SIZE, UnsignedType.U64),
                f.bool(MERGEABLE, false),
                WireEnum.read(f, HOTPLUG_METHOD, HotplugMethod.values(), HotplugMethod.ACPI),
                f.optUnsigned(HOTPLUG_SIZE, UnsignedType.U64),
                f.optUnsigned(HOTPLUGGED_SIZE, UnsignedType.U64),
                f.bool(SHARED, false),
                f.bool(HUGEPAGES, false),
                f.optUnsigned(HUGEPAGE_SIZE, UnsignedType.U64),
                f.bool(PREFAULT, false),
                f.bool(RESERVE, false),
                zones,
                f.bool(THP, true));
    }

    /** This configuration as the API writes it. */
    public JsonObject toJson() {
        List<JsonValue> zonesJson = new ArrayList<>();
        for (MemoryZoneConfig zone : zones) {
            zonesJson.add(zone.toJson());
        }
        return JsonObject.builder()
                .put(SIZE, size)
                .put(MERGEABLE, mergeable)
                .put(HOTPLUG_METHOD, hotplugMethod.jsonName())
                .putIfPresent(HOTPLUG_SIZE, hotplugSize)
                .putIfPresent(HOTPLUGGED_SIZE, hotpluggedSize)
                .put(SHARED, shared)
                .put(HUGEPAGES, hugepages)
                .putIfPresent(HUGEPAGE_SIZE, hugepageSize)
                .put(PREFAULT, prefault)
                .put(RESERVE, reserve)
                .putIfNotEmpty(ZONES, zonesJson)
                .put(THP, thp)
                .build();
    }
}
