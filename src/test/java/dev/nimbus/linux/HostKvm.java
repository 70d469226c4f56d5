package dev.nimbus.linux;

import dev.nimbus.hypervisor.HypervisorException;
import dev.nimbus.hypervisor.kvm.Kvm;

/** What the host's KVM can run, as Nimbus itself judges it. */
final class HostKvm {
    private HostKvm() {}

    /**
     * Null when KVM runs unmodified guests with hardware virtualization (VMX/SVM); otherwise why
     * not, in the words Nimbus warns with at start-up.
     */
    static String emulationWarning() {
        try (Kvm kvm = Kvm.open()) {
            return kvm.emulationWarning();
        } catch (HypervisorException e) {
            throw new AssertionError("/dev/kvm is not usable: " + e.getMessage(), e);
        }
    }
}
