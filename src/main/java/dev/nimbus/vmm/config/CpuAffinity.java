package dev.nimbus.vmm.config;

import dev.nimbus.json.JsonFields;
import dev.nimbus.json.JsonObject;
import dev.nimbus.json.UnsignedType;
import java.util.List;

/** The host CPUs one vCPU thread may run on. */
public record CpuAffinity(int vcpu, List<Integer> hostCpus) {
    static final String VCPU = "vcpu";
    static final String HOST_CPUS = "host_cpus";

    public CpuAffinity {
        hostCpus = List.copyOf(hostCpus);
    }

    static CpuAffinity fromJson(JsonFields f) {
        return new CpuAffinity(
                (int) f.unsigned(VCPU, UnsignedType.U32_INT),
                IntLists.toInts(f.requiredUnsignedList(HOST_CPUS, UnsignedType.USIZE_INT)));
    }

    JsonObject toJson() {
        return JsonObject.builder()
                .put(VCPU, vcpu)
                .put(HOST_CPUS, IntLists.toJson(hostCpus))
                .build();
    }
}
