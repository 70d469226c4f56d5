package dev.nimbus.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;

import dev.nimbus.hypervisor.Hypervisor;
import dev.nimbus.hypervisor.Vm;
import org.junit.jupiter.api.Test;

/** KVM opened on the side hands out the VM it made first, then makes fresh ones. */
class EarlyKvmIT {
    @Test
    void theFirstVmIsTheEarlyOneAndLaterOnesAreNew() throws Exception {
        EarlyKvm early = EarlyKvm.start();
        try (Hypervisor kvm = early.await()) {
            assertFalse(kvm.supportedCpuid().isEmpty());
            try (Vm first = kvm.createVm(); Vm second = kvm.createVm()) {
                assertNotNull(first);
                assertNotSame(first, second);
                // Both are usable VMs: each takes a vCPU.
                first.createVcpu(0).close();
                second.createVcpu(0).close();
            }
        }
    }
}
