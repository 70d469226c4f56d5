package dev.nimbus.hypervisor;

import java.util.List;

/** A hypervisor Nimbus can create VMs on. */
public interface Hypervisor extends AutoCloseable {
    /** Creates an empty VM. */
    Vm createVm() throws HypervisorException;

    /** The CPUID leaves this hypervisor can give a guest. */
    List<CpuidEntry> supportedCpuid() throws HypervisorException;

    /**
     * Why this host cannot run an unmodified guest at native speed, or null when it can. A KVM
     * without VMX/SVM (e.g. KVM-PVM) runs such guests by instruction emulation.
     */
    String emulationWarning();

    @Override
    void close();
}
