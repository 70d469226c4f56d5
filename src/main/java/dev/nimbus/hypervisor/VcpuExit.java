package dev.nimbus.hypervisor;

/** Why {@link Vcpu#run} returned to the VMM (I/O and MMIO exits are served inside run). */
public sealed interface VcpuExit {
    /** A kick (signal or immediate_exit) interrupted the run: look at pending requests. */
    record Interrupted() implements VcpuExit {}

    /** The guest halted with no interrupt to wake it (only without an in-kernel LAPIC). */
    record Halted() implements VcpuExit {}

    /** Triple fault: the guest cannot continue. */
    record Shutdown() implements VcpuExit {}

    /** KVM_EXIT_SYSTEM_EVENT: {@code type} is KVM_SYSTEM_EVENT_SHUTDOWN (1), RESET (2), CRASH (3). */
    record SystemEvent(int type) implements VcpuExit {}

    /** KVM could not run the guest, e.g. it could not emulate an instruction (suberror 1). */
    record InternalError(int suberror, long[] data) implements VcpuExit {}

    /** VM entry failed; {@code reason} is the hardware entry failure reason. */
    record FailEntry(long reason) implements VcpuExit {}

    /** An exit reason Nimbus does not handle. */
    record Unhandled(int reason) implements VcpuExit {}

    Interrupted INTERRUPTED = new Interrupted();
    Halted HALTED = new Halted();
    Shutdown SHUTDOWN = new Shutdown();
}
