package dev.nimbus.vmm.config;

import dev.nimbus.json.JsonArray;
import dev.nimbus.json.JsonBoolean;
import dev.nimbus.json.JsonException;
import dev.nimbus.json.JsonFields;
import dev.nimbus.json.JsonObject;
import dev.nimbus.json.JsonParser;
import dev.nimbus.json.JsonValue;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * A whole VM's configuration: {@code VmConfig} in the API, the VM-level options on the command
 * line. Lists are never null (empty when the API leaves them out); {@code payload},
 * {@code balloon}, {@code vsock} and {@code platform} are null when absent.
 *
 * <p>Read it from a request body with {@link #fromJson(byte[])}, write it for {@code vm.info}
 * with {@link #toJson()}, check it with {@link #validate()}, and name unnamed devices with
 * {@link DeviceIdAllocator} when the VM is built.
 */
public record VmConfig(
        CpusConfig cpus,
        MemoryConfig memory,
        PayloadConfig payload,
        List<RateLimitGroupConfig> rateLimitGroups,
        List<DiskConfig> disks,
        List<NetConfig> net,
        RngConfig rng,
        BalloonConfig balloon,
        List<FsConfig> fs,
        List<PmemConfig> pmem,
        ConsoleConfig serial,
        ConsoleConfig console,
        DebugConsoleConfig debugConsole,
        VsockConfig vsock,
        boolean pvpanic,
        boolean iommu,
        boolean watchdog,
        List<PciSegmentConfig> pciSegments,
        PlatformConfig platform) {

    static final String CPUS = "cpus";
    static final String MEMORY = "memory";
    static final String PAYLOAD = "payload";
    static final String RATE_LIMIT_GROUPS = "rate_limit_groups";
    static final String DISKS = "disks";
    static final String NET = "net";
    static final String RNG = "rng";
    static final String BALLOON = "balloon";
    static final String FS = "fs";
    static final String PMEM = "pmem";
    static final String SERIAL = "serial";
    static final String CONSOLE = "console";
    static final String DEBUG_CONSOLE = "debug_console";
    static final String VSOCK = "vsock";
    static final String PVPANIC = "pvpanic";
    static final String IOMMU = "iommu";
    static final String WATCHDOG = "watchdog";
    static final String PCI_SEGMENTS = "pci_segments";
    static final String PLATFORM = "platform";
    static final String LANDLOCK_ENABLE = "landlock_enable";

    /**
     * Fields of the API's {@code VmConfig} that Nimbus cannot act on yet. A body that gives one of
     * them a value with an effect (not null, not false, not an empty list) is refused rather than
     * silently booted without the device.
     */
    static final List<String> UNSUPPORTED = List.of("generic_vhost_user", "devices",
            "user_devices", "vdpa", "numa", "rtc", "tpm", LANDLOCK_ENABLE, "landlock_rules",
            "pvmemcontrol", "gdb", "ivshmem");

    public VmConfig {
        cpus = cpus == null ? CpusConfig.DEFAULT : cpus;
        memory = memory == null ? MemoryConfig.DEFAULT : memory;
        rateLimitGroups = List.copyOf(rateLimitGroups);
        disks = List.copyOf(disks);
        net = List.copyOf(net);
        rng = rng == null ? RngConfig.DEFAULT : rng;
        fs = List.copyOf(fs);
        pmem = List.copyOf(pmem);
        serial = serial == null ? ConsoleConfig.SERIAL_DEFAULT : serial;
        console = console == null ? ConsoleConfig.CONSOLE_DEFAULT : console;
        debugConsole = debugConsole == null ? DebugConsoleConfig.DEFAULT : debugConsole;
        pciSegments = List.copyOf(pciSegments);
    }

    /** A VM with these parts and every device at its default. */
    public VmConfig(CpusConfig cpus, MemoryConfig memory, PayloadConfig payload,
            ConsoleConfig serial, ConsoleConfig console) {
        this(cpus, memory, payload, List.of(), List.of(), List.of(), null, null, List.of(),
                List.of(), serial, console, null, null, false, false, false, List.of(), null);
    }

    /** A builder holding the defaults: 1 vCPU, 512 MiB, serial null, console tty. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this configuration. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /**
     * Checks the configuration against Cloud Hypervisor's rules.
     *
     * @return the configuration the VM will use (see {@link Validator#validate})
     * @throws ConfigException the first rule broken; its {@link ConfigException#httpStatus()} is
     *     409 for an identifier already in use, 400 otherwise
     */
    public VmConfig validate() {
        return Validator.validate(this);
    }

    /** As {@link #validate()}, without logging warnings: see {@link Validator#check}. */
    public VmConfig check() {
        return Validator.check(this);
    }

    /** This configuration with one more disk, as {@code vm.add-disk} records it. */
    public VmConfig withDisk(DiskConfig disk) {
        return toBuilder().disks(append(disks, disk)).build();
    }

    /** This configuration with one more network device. */
    public VmConfig withNet(NetConfig device) {
        return toBuilder().net(append(net, device)).build();
    }

    /** This configuration with one more virtio-fs share. */
    public VmConfig withFs(FsConfig share) {
        return toBuilder().fs(append(fs, share)).build();
    }

    /** This configuration with one more pmem device. */
    public VmConfig withPmem(PmemConfig device) {
        return toBuilder().pmem(append(pmem, device)).build();
    }

    /**
     * This configuration without the device named {@code id}, as {@code vm.remove-device} leaves
     * it; empty when no disk, network, fs, pmem or vsock device has that id.
     */
    public Optional<VmConfig> removeDevice(String id) {
        Builder b = toBuilder();
        boolean removed = false;
        List<DiskConfig> keptDisks = without(disks, d -> id.equals(d.id()));
        removed |= keptDisks.size() != disks.size();
        List<FsConfig> keptFs = without(fs, d -> id.equals(d.id()));
        removed |= keptFs.size() != fs.size();
        List<NetConfig> keptNet = without(net, d -> id.equals(d.id()));
        removed |= keptNet.size() != net.size();
        List<PmemConfig> keptPmem = without(pmem, d -> id.equals(d.id()));
        removed |= keptPmem.size() != pmem.size();
        b.disks(keptDisks).fs(keptFs).net(keptNet).pmem(keptPmem);
        if (vsock != null && id.equals(vsock.id())) {
            b.vsock(null);
            removed = true;
        }
        return removed ? Optional.of(b.build()) : Optional.empty();
    }

    private static <T> List<T> append(List<T> list, T item) {
        List<T> out = new ArrayList<>(list);
        out.add(item);
        return out;
    }

    private static <T> List<T> without(List<T> list, Predicate<T> match) {
        List<T> out = new ArrayList<>(list);
        out.removeIf(match);
        return out;
    }

    /**
     * Reads a {@code vm.create} body. Unknown fields are ignored; a missing required field, a
     * value of the wrong type, or a field Nimbus does not support yet is refused.
     *
     * @throws ConfigException of kind {@link ConfigException.Kind#JSON}, whose chain is
     *     {@code ["Failed to deserialize JSON", detail]} as the API reports it
     */
    public static VmConfig fromJson(byte[] body) {
        try {
            return fromJsonValue(JsonParser.parse(body));
        } catch (JsonException e) {
            throw ConfigException.json(e.getMessage());
        }
    }

    /** Reads a {@code VmConfig} from JSON text; see {@link #fromJson(byte[])}. */
    public static VmConfig fromJson(String text) {
        try {
            return fromJsonValue(JsonParser.parse(text));
        } catch (JsonException e) {
            throw ConfigException.json(e.getMessage());
        }
    }

    /** Reads a {@code VmConfig} from a parsed JSON value; see {@link #fromJson(byte[])}. */
    public static VmConfig fromJson(JsonValue value) {
        try {
            return fromJsonValue(value);
        } catch (JsonException e) {
            throw ConfigException.json(e.getMessage());
        }
    }

    private static VmConfig fromJsonValue(JsonValue value) {
        // Plain calls and loops rather than method references: this runs on the first API
        // request of a booting VM, where each lambda's first use costs milliseconds.
        JsonFields f = JsonFields.of(value, "");
        for (String field : UNSUPPORTED) {
            JsonValue v = f.get(field);
            boolean noEffect = v == null
                    || (v instanceof JsonBoolean b && !b.value())
                    || (v instanceof JsonArray a && a.elements().isEmpty());
            if (!noEffect) {
                throw new JsonException("Field " + field + " is not supported by Nimbus yet");
            }
        }
        Builder b = builder();
        JsonFields member = f.optObject(CPUS);
        if (member != null) {
            b.cpus(CpusConfig.fromJson(member));
        }
        if ((member = f.optObject(MEMORY)) != null) {
            b.memory(MemoryConfig.fromJson(member));
        }
        if ((member = f.optObject(PAYLOAD)) != null) {
            b.payload(PayloadConfig.fromJson(member));
        }
        List<RateLimitGroupConfig> groups = new ArrayList<>();
        for (JsonFields element : f.objects(RATE_LIMIT_GROUPS)) {
            groups.add(RateLimitGroupConfig.fromJson(element));
        }
        List<DiskConfig> diskList = new ArrayList<>();
        for (JsonFields element : f.objects(DISKS)) {
            diskList.add(DiskConfig.fromJson(element));
        }
        List<NetConfig> netList = new ArrayList<>();
        for (JsonFields element : f.objects(NET)) {
            netList.add(NetConfig.fromJson(element));
        }
        if ((member = f.optObject(RNG)) != null) {
            b.rng(RngConfig.fromJson(member));
        }
        if ((member = f.optObject(BALLOON)) != null) {
            b.balloon(BalloonConfig.fromJson(member));
        }
        List<FsConfig> fsList = new ArrayList<>();
        for (JsonFields element : f.objects(FS)) {
            fsList.add(FsConfig.fromJson(element));
        }
        List<PmemConfig> pmemList = new ArrayList<>();
        for (JsonFields element : f.objects(PMEM)) {
            pmemList.add(PmemConfig.fromJson(element));
        }
        if ((member = f.optObject(SERIAL)) != null) {
            b.serial(ConsoleConfig.serialFromJson(member));
        }
        if ((member = f.optObject(CONSOLE)) != null) {
            b.console(ConsoleConfig.consoleFromJson(member));
        }
        if ((member = f.optObject(DEBUG_CONSOLE)) != null) {
            b.debugConsole(DebugConsoleConfig.fromJson(member));
        }
        if ((member = f.optObject(VSOCK)) != null) {
            b.vsock(VsockConfig.fromJson(member));
        }
        List<PciSegmentConfig> segments = new ArrayList<>();
        for (JsonFields element : f.objects(PCI_SEGMENTS)) {
            segments.add(PciSegmentConfig.fromJson(element));
        }
        if ((member = f.optObject(PLATFORM)) != null) {
            b.platform(PlatformConfig.fromJson(member));
        }
        return b.rateLimitGroups(groups)
                .disks(diskList)
                .net(netList)
                .fs(fsList)
                .pmem(pmemList)
                .pvpanic(f.bool(PVPANIC, false))
                .iommu(f.bool(IOMMU, false))
                .watchdog(f.bool(WATCHDOG, false))
                .pciSegments(segments)
                .build();
    }

    /**
     * This configuration as {@code vm.info} reports it: every default written out, absent
     * optional parts and empty lists left out.
     */
    public JsonObject toJson() {
        List<JsonValue> groupsJson = new ArrayList<>();
        for (RateLimitGroupConfig g : rateLimitGroups) {
            groupsJson.add(g.toJson());
        }
        List<JsonValue> disksJson = new ArrayList<>();
        for (DiskConfig d : disks) {
            disksJson.add(d.toJson());
        }
        List<JsonValue> netJson = new ArrayList<>();
        for (NetConfig n : net) {
            netJson.add(n.toJson());
        }
        List<JsonValue> fsJson = new ArrayList<>();
        for (FsConfig share : fs) {
            fsJson.add(share.toJson());
        }
        List<JsonValue> pmemJson = new ArrayList<>();
        for (PmemConfig p : pmem) {
            pmemJson.add(p.toJson());
        }
        List<JsonValue> segmentsJson = new ArrayList<>();
        for (PciSegmentConfig s : pciSegments) {
            segmentsJson.add(s.toJson());
        }
        return JsonObject.builder()
                .put(CPUS, cpus.toJson())
                .put(MEMORY, memory.toJson())
                .putIfPresent(PAYLOAD, payload == null ? null : payload.toJson())
                .putIfNotEmpty(RATE_LIMIT_GROUPS, groupsJson)
                .putIfNotEmpty(DISKS, disksJson)
                .putIfNotEmpty(NET, netJson)
                .put(RNG, rng.toJson())
                .putIfPresent(BALLOON, balloon == null ? null : balloon.toJson())
                .putIfNotEmpty(FS, fsJson)
                .putIfNotEmpty(PMEM, pmemJson)
                .put(SERIAL, serial.serialToJson())
                .put(CONSOLE, console.consoleToJson())
                .put(DEBUG_CONSOLE, debugConsole.toJson())
                .putIfPresent(VSOCK, vsock == null ? null : vsock.toJson())
                .put(PVPANIC, pvpanic)
                .put(IOMMU, iommu)
                .put(WATCHDOG, watchdog)
                .putIfNotEmpty(PCI_SEGMENTS, segmentsJson)
                .putIfPresent(PLATFORM, platform == null ? null : platform.toJson())
                .put(LANDLOCK_ENABLE, false)
                .build();
    }

    /** Assembles a {@link VmConfig}; every part starts at the default. */
    public static final class Builder {
        private CpusConfig cpus = CpusConfig.DEFAULT;
        private MemoryConfig memory = MemoryConfig.DEFAULT;
        private PayloadConfig payload;
        private List<RateLimitGroupConfig> rateLimitGroups = List.of();
        private List<DiskConfig> disks = List.of();
        private List<NetConfig> net = List.of();
        private RngConfig rng = RngConfig.DEFAULT;
        private BalloonConfig balloon;
        private List<FsConfig> fs = List.of();
        private List<PmemConfig> pmem = List.of();
        private ConsoleConfig serial = ConsoleConfig.SERIAL_DEFAULT;
        private ConsoleConfig console = ConsoleConfig.CONSOLE_DEFAULT;
        private DebugConsoleConfig debugConsole = DebugConsoleConfig.DEFAULT;
        private VsockConfig vsock;
        private boolean pvpanic;
        private boolean iommu;
        private boolean watchdog;
        private List<PciSegmentConfig> pciSegments = List.of();
        private PlatformConfig platform;

        private Builder() {}

        private Builder(VmConfig c) {
            cpus = c.cpus;
            memory = c.memory;
            payload = c.payload;
            rateLimitGroups = c.rateLimitGroups;
            disks = c.disks;
            net = c.net;
            rng = c.rng;
            balloon = c.balloon;
            fs = c.fs;
            pmem = c.pmem;
            serial = c.serial;
            console = c.console;
            debugConsole = c.debugConsole;
            vsock = c.vsock;
            pvpanic = c.pvpanic;
            iommu = c.iommu;
            watchdog = c.watchdog;
            pciSegments = c.pciSegments;
            platform = c.platform;
        }

        public Builder cpus(CpusConfig v) {
            cpus = v;
            return this;
        }

        public Builder memory(MemoryConfig v) {
            memory = v;
            return this;
        }

        public Builder payload(PayloadConfig v) {
            payload = v;
            return this;
        }

        public Builder rateLimitGroups(List<RateLimitGroupConfig> v) {
            rateLimitGroups = v;
            return this;
        }

        public Builder disks(List<DiskConfig> v) {
            disks = v;
            return this;
        }

        public Builder net(List<NetConfig> v) {
            net = v;
            return this;
        }

        public Builder rng(RngConfig v) {
            rng = v;
            return this;
        }

        public Builder balloon(BalloonConfig v) {
            balloon = v;
            return this;
        }

        public Builder fs(List<FsConfig> v) {
            fs = v;
            return this;
        }

        public Builder pmem(List<PmemConfig> v) {
            pmem = v;
            return this;
        }

        public Builder serial(ConsoleConfig v) {
            serial = v;
            return this;
        }

        public Builder console(ConsoleConfig v) {
            console = v;
            return this;
        }

        public Builder debugConsole(DebugConsoleConfig v) {
            debugConsole = v;
            return this;
        }

        public Builder vsock(VsockConfig v) {
            vsock = v;
            return this;
        }

        public Builder pvpanic(boolean v) {
            pvpanic = v;
            return this;
        }

        public Builder iommu(boolean v) {
            iommu = v;
            return this;
        }

        public Builder watchdog(boolean v) {
            watchdog = v;
            return this;
        }

        public Builder pciSegments(List<PciSegmentConfig> v) {
            pciSegments = v;
            return this;
        }

        public Builder platform(PlatformConfig v) {
            platform = v;
            return this;
        }

        public VmConfig build() {
            return new VmConfig(cpus, memory, payload, rateLimitGroups, disks, net, rng, balloon,
                    fs, pmem, serial, console, debugConsole, vsock, pvpanic, iommu, watchdog,
                    pciSegments, platform);
        }
    }
}
