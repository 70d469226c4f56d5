package dev.nimbus.vmm.config;

import dev.nimbus.json.JsonFields;
import dev.nimbus.json.JsonObject;
import dev.nimbus.json.JsonValue;
import dev.nimbus.json.UnsignedType;
import java.util.ArrayList;
import java.util.List;

/**
 * vCPUs: {@code CpusConfig} in the API, {@code --cpus} on the command line.
 *
 * @param bootVcpus vCPUs running at boot
 * @param maxVcpus the most vCPUs hot-plug can bring the VM to; at least {@code bootVcpus}
 * @param topology how vCPUs group into cores, dies and packages; null for a flat topology
 * @param kvmHyperv whether to expose Hyper-V enlightenments (Windows guests)
 * @param maxPhysBits the cap on guest physical address bits
 * @param affinity host CPUs per vCPU thread; empty when vCPU threads are not pinned
 * @param amx whether Intel AMX state is enabled for the guest
 * @param nested whether VMX/SVM is exposed to the guest
 * @param coreScheduling how core-scheduling cookies are given to vCPU threads
 */
public record CpusConfig(
        int bootVcpus,
        int maxVcpus,
        CpuTopology topology,
        boolean kvmHyperv,
        int maxPhysBits,
        List<CpuAffinity> affinity,
        boolean amx,
        boolean nested,
        CoreScheduling coreScheduling) {

    public static final int DEFAULT_VCPUS = 1;
    /** With PVH boot the guest sees at most a 46-bit physical address space. */
    public static final int DEFAULT_MAX_PHYS_BITS = 46;
    /** The vCPU limit of KVM on x86-64 that the API enforces. */
    public static final int MAX_SUPPORTED_CPUS = 8192;

    /** One vCPU, as the command line and the API default to. */
    public static final CpusConfig DEFAULT = new CpusConfig(DEFAULT_VCPUS, DEFAULT_VCPUS,
            DEFAULT_MAX_PHYS_BITS);

    static final String BOOT_VCPUS = "boot_vcpus";
    static final String MAX_VCPUS = "max_vcpus";
    static final String TOPOLOGY = "topology";
    static final String KVM_HYPERV = "kvm_hyperv";
    static final String MAX_PHYS_BITS = "max_phys_bits";
    static final String AFFINITY = "affinity";
    static final String FEATURES = "features";
    static final String AMX = "amx";
    static final String NESTED = "nested";
    static final String CORE_SCHEDULING = "core_scheduling";
    static final String PROFILE = "profile";
    /** The only CPU profile there is: CPUID and MSRs as the host has them. */
    static final String PROFILE_HOST = "Host";

    public CpusConfig {
        affinity = List.copyOf(affinity);
        if (coreScheduling == null) {
            coreScheduling = CoreScheduling.VM;
        }
    }

    /** {@code boot} and {@code max} vCPUs, everything else at its default. */
    public CpusConfig(int bootVcpus, int maxVcpus, int maxPhysBits) {
        this(bootVcpus, maxVcpus, null, false, maxPhysBits, List.of(), false, true,
                CoreScheduling.VM);
    }

    /** This configuration with {@code n} vCPUs at boot, as {@code vm.resize} records it. */
    public CpusConfig withBootVcpus(int n) {
        return new CpusConfig(n, maxVcpus, topology, kvmHyperv, maxPhysBits, affinity, amx,
                nested, coreScheduling);
    }

    /** Parses the {@code --cpus} option string. */
    public static CpusConfig parse(String option) {
        OptionParser p = new OptionParser("Error parsing --cpus")
                .add("boot", "max", "topology", "kvm_hyperv", "max_phys_bits", "affinity",
                        "features", "nested", "core_scheduling", "profile")
                .parse(option);
        Integer boot = p.unsignedInt("boot", UnsignedType.U32_INT);
        int bootVcpus = boot == null ? DEFAULT_VCPUS : boot;
        Integer max = p.unsignedInt("max", UnsignedType.U32_INT);
        CpuTopology topology = null;
        String topologyText = p.raw("topology");
        if (topologyText != null) {
            topology = CpuTopology.parse(OptionParser.dequote(topologyText));
            if (topology == null) {
                throw p.conversionError("topology", topologyText);
            }
        }
        boolean kvmHyperv = p.toggle("kvm_hyperv", false);
        Integer maxPhysBits = p.unsignedInt("max_phys_bits", UnsignedType.U8);
        List<CpuAffinity> affinity = new ArrayList<>();
        List<OptionParser.Tuple> tuples = p.tupleList("affinity", UnsignedType.U32_INT);
        if (tuples != null) {
            for (OptionParser.Tuple t : tuples) {
                affinity.add(new CpuAffinity((int) t.key(), toInts(p, "affinity", t.values())));
            }
        }
        String profile = p.raw("profile");
        if (profile != null && !PROFILE_HOST.equals(OptionParser.dequote(profile))) {
            throw p.conversionError("profile", profile);
        }
        boolean amx = false;
        List<String> features = p.stringList("features");
        for (String feature : features == null ? List.<String>of() : features) {
            if (!feature.equals(AMX)) {
                throw ConfigException.option("Invalid feature in --cpus features list: " + feature);
            }
            amx = true;
        }
        boolean nested = p.toggle("nested", true);
        CoreScheduling coreScheduling = WireEnum.option(
                p, "core_scheduling", CoreScheduling.values(), true);
        return new CpusConfig(bootVcpus, max == null ? bootVcpus : max, topology, kvmHyperv,
                maxPhysBits == null ? DEFAULT_MAX_PHYS_BITS : maxPhysBits, affinity, amx, nested,
                coreScheduling == null ? CoreScheduling.VM : coreScheduling);
    }

    private static List<Integer> toInts(OptionParser p, String key, List<Long> values) {
        for (long v : values) {
            if (v > Integer.MAX_VALUE) {
                throw p.error("Unable to convert " + v + " for " + key);
            }
        }
        return IntLists.toInts(values);
    }

    static CpusConfig fromJson(JsonFields f) {
        List<CpuAffinity> affinity = new ArrayList<>();
        for (JsonFields a : f.objects(AFFINITY)) {
            affinity.add(CpuAffinity.fromJson(a));
        }
        JsonFields topology = f.optObject(TOPOLOGY);
        JsonFields features = f.optObject(FEATURES);
        f.variant(PROFILE, List.of(PROFILE_HOST), PROFILE_HOST);
        return new CpusConfig(
                (int) f.unsigned(BOOT_VCPUS, UnsignedType.U32_INT),
                (int) f.unsigned(MAX_VCPUS, UnsignedType.U32_INT),
                topology == null ? null : CpuTopology.fromJson(topology),
                f.bool(KVM_HYPERV, false),
                (int) f.unsigned(MAX_PHYS_BITS, UnsignedType.U8, DEFAULT_MAX_PHYS_BITS),
                affinity,
                features != null && features.bool(AMX, false),
                f.bool(NESTED, true),
                WireEnum.read(f, CORE_SCHEDULING, CoreScheduling.values(), CoreScheduling.VM));
    }

    /** This configuration as the API writes it. */
    public JsonObject toJson() {
        List<JsonValue> affinityJson = new ArrayList<>();
        for (CpuAffinity a : affinity) {
            affinityJson.add(a.toJson());
        }
        return JsonObject.builder()
                .put(BOOT_VCPUS, bootVcpus)
                .put(MAX_VCPUS, maxVcpus)
                .putIfPresent(TOPOLOGY, topology == null ? null : topology.toJson())
                .put(KVM_HYPERV, kvmHyperv)
                .put(MAX_PHYS_BITS, maxPhysBits)
                .putIfNotEmpty(AFFINITY, affinityJson)
                .put(FEATURES, JsonObject.builder().put(AMX, amx).build())
                .put(NESTED, nested)
                .put(CORE_SCHEDULING, coreScheduling.jsonName())
                .put(PROFILE, PROFILE_HOST)
                .build();
    }
}
