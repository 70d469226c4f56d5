package dev.nimbus.vmm;

import dev.nimbus.hypervisor.HypervisorException;
import dev.nimbus.hypervisor.Vm;
import dev.nimbus.memory.GuestMemory;
import dev.nimbus.memory.GuestRegion;
import dev.nimbus.sys.Threads;

/**
 * Gives guest RAM to KVM (one memory slot per region, in order) on a thread of its own.
 * KVM_SET_USER_MEMORY_REGION waits in the kernel for readers of the old slot table to finish,
 * milliseconds on some hosts, while devices, ACPI tables and the kernel image need only the
 * host mapping of guest RAM: the VM builds them meanwhile and {@link #await}s the slots before
 * it creates vCPUs (or {@link #join}s the thread before it closes the VM on a failed build).
 */
final class MemorySlots {
    private final Thread thread;
    private volatile HypervisorException failure;

    private MemorySlots(Vm vm, GuestMemory memory) {
        thread = Thread.ofPlatform().name("memory-slots").daemon().unstarted(() -> {
            int slot = 0;
            try {
                for (GuestRegion r : memory.regions()) {
                    vm.setUserMemoryRegion(slot++, r.gpa(), r.size(), r.hva());
                }
            } catch (HypervisorException e) {
                failure = e;
            }
        });
    }

    /** Starts registering {@code memory}'s regions with {@code vm}. */
    static MemorySlots register(Vm vm, GuestMemory memory) {
        MemorySlots slots = new MemorySlots(vm, memory);
        slots.thread.start();
        return slots;
    }

    /** Waits until every region is registered; throws if one could not be. */
    void await() throws VmmException {
        join();
        if (failure != null) {
            throw new VmmException("Cannot map guest memory", failure);
        }
    }

    /** Waits for the registration to end, whatever its outcome: before the VM is closed. */
    void join() {
        Threads.joinUninterruptibly(thread);
    }
}
