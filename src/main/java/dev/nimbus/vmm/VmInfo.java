package dev.nimbus.vmm;

import dev.nimbus.json.JsonObject;
import dev.nimbus.vmm.config.VmConfig;

/**
 * What {@code vm.info} reports.
 *
 * @param config the VM's configuration, devices added since creation included
 * @param state its lifecycle state
 * @param memoryActualSize the RAM the guest has now, in bytes
 * @param deviceTree the running VM's devices, or null when no VM runs
 */
public record VmInfo(VmConfig config, VmState state, long memoryActualSize,
        DeviceTree deviceTree) {

    /** The API's {@code VmInfo} object. */
    public JsonObject toJson() {
        return JsonObject.builder()
                .put("config", config.toJson())
                .put("state", state.apiName())
                .put("memory_actual_size", memoryActualSize)
                .putIfPresent("device_tree", deviceTree == null ? null : deviceTree.toJson())
                .build();
    }
}
