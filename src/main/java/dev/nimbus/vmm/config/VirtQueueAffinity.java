package dev.nimbus.vmm.config;

import dev.nimbus.json.JsonFields;
import dev.nimbus.json.JsonObject;
import dev.nimbus.json.UnsignedType;
import java.util.List;

/** The host CPUs the worker thread of one virtqueue may run on. */
public record VirtQueueAffinity(int queueIndex, List<Integer> hostCpus) {
    static final String QUEUE_INDEX = "queue_index";
    static final String HOST_CPUS = "host_cpus";

    public VirtQueueAffinity {
        hostCpus = List.copyOf(hostCpus);
    }

    static VirtQueueAffinity fromJson(JsonFields f) {
        return new VirtQueueAffinity(
                (int) f.unsigned(QUEUE_INDEX, UnsignedType.U16),
                IntLists.toInts(f.requiredUnsignedList(HOST_CPUS, UnsignedType.USIZE_INT)));
    }

    JsonObject toJson() {
        return JsonObject.builder()
                .put(QUEUE_INDEX, queueIndex)
                .put(HOST_CPUS, IntLists.toJson(hostCpus))
                .build();
    }
}
