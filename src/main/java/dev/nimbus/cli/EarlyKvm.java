package dev.nimbus.cli;

import dev.nimbus.hypervisor.CpuidEntry;
import dev.nimbus.hypervisor.Hypervisor;
import dev.nimbus.hypervisor.HypervisorException;
import dev.nimbus.hypervisor.Vm;
import dev.nimbus.hypervisor.kvm.Kvm;
import dev.nimbus.log.StartupTrace;
import dev.nimbus.sys.Threads;
import java.util.List;

/**
 * KVM, opened on a thread of its own while the launcher parses its command line, together with
 * the first VM and the supported CPUID. The first FFM downcall links the syscall handle (tens of
 * milliseconds of JDK code), and KVM_CREATE_IRQCHIP waits in the kernel; neither needs the
 * command line, so they run side by side with it.
 *
 * <p>The first {@link #createVm} hands out that VM; later ones (a guest reset) make new ones. A
 * failure is reported where the launcher would have met it: from {@link #await} for opening
 * KVM, from {@link #createVm} for the VM.
 */
final class EarlyKvm implements Hypervisor {
    private final Thread opener;
    private Kvm kvm;
    private HypervisorException openFailure;
    private Vm firstVm;
    private HypervisorException vmFailure;

    private EarlyKvm() {
        opener = Thread.ofPlatform().name("kvm-open").daemon().unstarted(this::open);
    }

    /** Starts opening {@code /dev/kvm} and creating the first VM. */
    static EarlyKvm start() {
        EarlyKvm early = new EarlyKvm();
        early.opener.start();
        return early;
    }

    private void open() {
        Kvm k;
        try {
            k = Kvm.open();
        } catch (HypervisorException e) {
            openFailure = e;
            return;
        }
        kvm = k;
        StartupTrace.mark("kvm-open");
        try {
            firstVm = k.createVm();
            // Cached by Kvm: VM set-up reads it for the guest's CPUID and physical address bits.
            k.supportedCpuid();
            StartupTrace.mark("kvm-vm");
        } catch (HypervisorException e) {
            vmFailure = e;
        }
    }

    /** Waits for the opening thread; returns this hypervisor, or throws why KVM did not open. */
    Hypervisor await() throws HypervisorException {
        Threads.joinUninterruptibly(opener);
        // The join (or isAlive seeing the end) orders the opener's writes before these reads.
        if (openFailure != null) {
            throw openFailure;
        }
        return this;
    }

    @Override
    public synchronized Vm createVm() throws HypervisorException {
        if (vmFailure != null) {
            HypervisorException e = vmFailure;
            vmFailure = null;
            throw e;
        }
        if (firstVm != null) {
            Vm vm = firstVm;
            firstVm = null;
            return vm;
        }
        return kvm.createVm();
    }

    @Override
    public List<CpuidEntry> supportedCpuid() throws HypervisorException {
        return kvm.supportedCpuid();
    }

    @Override
    public String emulationWarning() {
        return kvm.emulationWarning();
    }

    @Override
    public synchronized void close() {
        if (firstVm != null) {
            firstVm.close();
            firstVm = null;
        }
        kvm.close();
    }
}
