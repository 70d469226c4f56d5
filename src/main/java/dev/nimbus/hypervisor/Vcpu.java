package dev.nimbus.hypervisor;

import java.util.List;

/** A virtual CPU. All calls but {@link #kick} come from the thread that runs it. */
public interface Vcpu extends AutoCloseable {
    int id();

    /**
     * Records the calling thread as the one that runs this vCPU, so {@link #kick} can signal it.
     * Call once, from that thread, before the first {@link #run}.
     */
    void bindToCurrentThread();

    /** Runs the guest until an exit the handler does not absorb. */
    VcpuExit run(VcpuExitHandler handler) throws HypervisorException;

    /** Forces the vCPU out of (or keeps it from entering) the guest; safe from any thread. */
    void kick();

    /**
     * Clears a kick that was consumed, so the next {@link #run} enters the guest. Call before
     * looking at pending requests.
     */
    void clearKick();

    StandardRegisters getRegs() throws HypervisorException;

    void setRegs(StandardRegisters regs) throws HypervisorException;

    SpecialRegisters getSregs() throws HypervisorException;

    void setSregs(SpecialRegisters sregs) throws HypervisorException;

    /** Sets the x87 control word and MXCSR, zeroing the rest of the FPU state. */
    void setFpu(int fcw, int mxcsr) throws HypervisorException;

    void setCpuid(List<CpuidEntry> entries) throws HypervisorException;

    void setMsrs(List<MsrEntry> msrs) throws HypervisorException;

    /** The 1024-byte local APIC register page (struct kvm_lapic_state). */
    byte[] getLapic() throws HypervisorException;

    void setLapic(byte[] regs) throws HypervisorException;

    /** Injects an NMI. */
    void nmi() throws HypervisorException;

    @Override
    void close();
}
