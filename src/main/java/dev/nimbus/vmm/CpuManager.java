package dev.nimbus.vmm;

import dev.nimbus.hypervisor.HypervisorException;
import dev.nimbus.hypervisor.StandardRegisters;
import dev.nimbus.hypervisor.Vcpu;
import dev.nimbus.hypervisor.VcpuExit;
import dev.nimbus.hypervisor.VcpuExitHandler;
import dev.nimbus.hypervisor.Vm;
import dev.nimbus.log.StartupTrace;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.Consumer;

/**
 * Runs each vCPU on a platform thread named {@code vcpuN} (orchestrators find vCPU threads by
 * that name) and stops, pauses and resumes them together.
 *
 * <p>To pause, every vCPU is kicked out of KVM_RUN and parks until resumed; {@link #pause}
 * returns only once all have parked, so the guest is truly still. The guest's kvmclock is saved
 * at pause and restored at resume, so the guest does not see the pause as lost time in its
 * monotonic clock.
 */
final class CpuManager {
    private static final Logger LOG = System.getLogger(CpuManager.class.getName());

    // KVM_SYSTEM_EVENT types (include/uapi/linux/kvm.h).
    private static final int KVM_SYSTEM_EVENT_SHUTDOWN = 1;
    private static final int KVM_SYSTEM_EVENT_RESET = 2;

    private final Vm vm;
    private final List<Vcpu> vcpus;
    private final VcpuExitHandler io;
    private final Consumer<VmExitEvent> onExit;
    private final List<Thread> threads = new ArrayList<>();
    private final Object lock = new Object();
    private boolean paused;
    private boolean stopping;
    private int parked;
    private long clockAtPause;
    /** Per vCPU (by list position): 1 while an NMI waits to be injected by its thread. */
    private final AtomicIntegerArray nmiPending;

    CpuManager(Vm vm, List<Vcpu> vcpus, VcpuExitHandler io, Consumer<VmExitEvent> onExit) {
        this.vm = vm;
        this.vcpus = vcpus;
        this.io = io;
        this.onExit = onExit;
        this.nmiPending = new AtomicIntegerArray(vcpus.size());
    }

    void start() {
        for (Vcpu vcpu : vcpus) {
            Thread t = Thread.ofPlatform()
                    .name("vcpu" + vcpu.id())
                    .daemon()
                    .stackSize(256 * 1024)
                    .unstarted(() -> runLoop(vcpu));
            threads.add(t);
            t.start();
        }
    }

    private void runLoop(Vcpu vcpu) {
        vcpu.bindToCurrentThread();
        int index = vcpus.indexOf(vcpu);
        StartupTrace.mark("vcpu" + vcpu.id() + "-run");
        try {
            while (true) {
                VcpuExit exit = vcpu.run(io);
                if (exit instanceof VcpuExit.Interrupted) {
                    // Clear the kick before looking at requests, so one made after this point
                    // still stops the next KVM_RUN.
                    vcpu.clearKick();
                    if (nmiPending.getAndSet(index, 0) != 0) {
                        // KVM_NMI queues the NMI for the next KVM_RUN; it must come from the
                        // vCPU's own thread, which holds the vCPU while the guest runs.
                        vcpu.nmi();
                    }
                    if (!parkIfRequested()) {
                        return;
                    }
                    continue;
                }
                VmExitEvent event = translate(vcpu, exit);
                if (event != null) {
                    onExit.accept(event);
                    return;
                }
            }
        } catch (Throwable e) {
            // Anything at all (an Error included) ends the VM with a message: a vCPU thread
            // that died silently would leave the VMM waiting for an exit that never comes.
            onExit.accept(new VmExitEvent.Fatal("vCPU " + vcpu.id() + " stopped: " + describe(e)));
        }
    }

    private static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage()));
        for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
            sb.append(": ").append(c.getMessage());
        }
        return sb.toString();
    }

    /** Returns false when the vCPU must stop. */
    private boolean parkIfRequested() {
        synchronized (lock) {
            while (paused && !stopping) {
                parked++;
                lock.notifyAll();
                try {
                    lock.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                } finally {
                    parked--;
                }
            }
            return !stopping;
        }
    }

    private VmExitEvent translate(Vcpu vcpu, VcpuExit exit) {
        return switch (exit) {
            case VcpuExit.Interrupted i -> null;
            case VcpuExit.Halted h -> null;
            case VcpuExit.Shutdown s -> new VmExitEvent.Fatal(
                    "Guest triple fault (KVM_EXIT_SHUTDOWN) on vCPU " + vcpu.id() + at(vcpu));
            case VcpuExit.SystemEvent e -> switch (e.type()) {
                case KVM_SYSTEM_EVENT_SHUTDOWN -> new VmExitEvent.PowerOff();
                case KVM_SYSTEM_EVENT_RESET -> new VmExitEvent.Reset();
                default -> new VmExitEvent.Fatal("Guest crashed (KVM system event " + e.type()
                        + ") on vCPU " + vcpu.id() + at(vcpu));
            };
            case VcpuExit.InternalError e -> new VmExitEvent.Fatal(String.format(
                    "KVM internal error (KVM_EXIT_INTERNAL_ERROR, suberror %d%s) on vCPU %d%s%s",
                    e.suberror(),
                    e.suberror() == 1 ? ": emulation failure, KVM cannot emulate the instruction" : "",
                    vcpu.id(), at(vcpu), data(e.data())));
            case VcpuExit.FailEntry f -> new VmExitEvent.Fatal(String.format(
                    "KVM failed to enter the guest (KVM_EXIT_FAIL_ENTRY, reason 0x%x) on vCPU %d%s",
                    f.reason(), vcpu.id(), at(vcpu)));
            case VcpuExit.Unhandled u -> new VmExitEvent.Fatal(
                    "Unhandled KVM exit reason " + u.reason() + " on vCPU " + vcpu.id() + at(vcpu));
        };
    }

    private static String at(Vcpu vcpu) {
        try {
            StandardRegisters r = vcpu.getRegs();
            return String.format(" at RIP 0x%x", r.rip);
        } catch (HypervisorException e) {
            return "";
        }
    }

    private static String data(long[] data) {
        if (data.length == 0) {
            return "";
        }
        StringBuilder sb = new StringBuilder(" (data:");
        for (long d : data) {
            sb.append(String.format(" 0x%x", d));
        }
        return sb.append(')').toString();
    }

    /** Stops every vCPU thread in KVM_RUN and waits until all have parked. */
    void pause() throws HypervisorException {
        synchronized (lock) {
            if (paused) {
                return;
            }
            paused = true;
        }
        kickAll();
        synchronized (lock) {
            while (parked < liveThreads() && !stopping) {
                try {
                    lock.wait(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
                if (parked < liveThreads()) {
                    kickAll(); // a vCPU may have been between runs when the kick landed
                }
            }
        }
        clockAtPause = vm.getClock();
        LOG.log(Level.DEBUG, "Paused " + vcpus.size() + " vCPUs");
    }

    void resume() throws HypervisorException {
        synchronized (lock) {
            if (!paused) {
                return;
            }
            vm.setClock(clockAtPause);
            paused = false;
            lock.notifyAll();
        }
    }

    /**
     * Injects an NMI into every vCPU: each thread is kicked out of KVM_RUN and queues it. A
     * paused vCPU takes it when it resumes.
     */
    void requestNmi() {
        for (int i = 0; i < vcpus.size(); i++) {
            nmiPending.set(i, 1);
        }
        kickAll();
    }

    boolean isPaused() {
        synchronized (lock) {
            return paused;
        }
    }

    private int liveThreads() {
        int n = 0;
        for (Thread t : threads) {
            if (t.isAlive()) {
                n++;
            }
        }
        return n;
    }

    private void kickAll() {
        for (Vcpu v : vcpus) {
            v.kick();
        }
    }

    /** Stops every vCPU thread and waits for them to end. */
    void stop() {
        synchronized (lock) {
            stopping = true;
            lock.notifyAll();
        }
        long deadline = System.nanoTime() + 2_000_000_000L;
        for (Thread t : threads) {
            while (t.isAlive() && System.nanoTime() < deadline) {
                kickAll();
                try {
                    t.join(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            if (t.isAlive()) {
                LOG.log(Level.WARNING, "Thread " + t.getName() + " did not stop within 2 s: "
                        + Arrays.toString(t.getStackTrace()));
            }
        }
    }

    List<Vcpu> vcpus() {
        return vcpus;
    }
}
