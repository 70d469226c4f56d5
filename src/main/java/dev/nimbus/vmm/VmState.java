package dev.nimbus.vmm;

/**
 * The VM's lifecycle state as {@code vm.info} reports it ({@code VmState} in the API).
 *
 * <p>{@link #CREATED}: a configuration exists and no VM runs, before the first boot and again
 * after {@code vm.shutdown}. {@link #RUNNING} and {@link #PAUSED}: a VM exists. The others are
 * part of the API's vocabulary but never reported by Nimbus: a VM that shuts down is torn down
 * at once, and there is no guest debugging.
 */
public enum VmState {
    CREATED("Created"),
    RUNNING("Running"),
    SHUTDOWN("Shutdown"),
    PAUSED("Paused"),
    BREAK_POINT("BreakPoint");

    private final String apiName;

    VmState(String apiName) {
        this.apiName = apiName;
    }

    /** The name in the API's {@code VmState} enum, e.g. {@code Running}. */
    public String apiName() {
        return apiName;
    }
}
