package dev.nimbus.vmm.config;

import dev.nimbus.json.JsonArray;
import dev.nimbus.json.JsonFields;
import dev.nimbus.json.JsonNumber;
import dev.nimbus.json.JsonObject;
import dev.nimbus.json.JsonValue;
import dev.nimbus.json.UnsignedType;
import java.util.ArrayList;
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
                toInts(f.requiredUnsignedList(HOST_CPUS, UnsignedType.USIZE_INT)));
    }

    JsonObject toJson() {
        return JsonObject.builder().put(VCPU, vcpu).put(HOST_CPUS, numbers(hostCpus)).build();
    }

    static List<Integer> toInts(List<Long> values) {
        List<Integer> out = new ArrayList<>(values.size());
        for (long v : values) {
            out.add(Math.toIntExact(v));
        }
        return out;
    }

    static JsonArray numbers(List<Integer> values) {
        List<JsonValue> out = new ArrayList<>(values.size());
        for (int v : values) {
            out.add(JsonNumber.of(v));
        }
        return new JsonArray(out);
    }
}
