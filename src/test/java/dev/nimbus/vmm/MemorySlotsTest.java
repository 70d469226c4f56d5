package dev.nimbus.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.nimbus.hypervisor.HypervisorException;
import dev.nimbus.hypervisor.Vm;
import dev.nimbus.memory.GuestMemory;
import dev.nimbus.memory.GuestRegion;
import java.lang.foreign.Arena;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MemorySlotsTest {
    /** One KVM_SET_USER_MEMORY_REGION as the VM saw it, and the thread that made it. */
    record SlotCall(int slot, long gpa, long size, long hva, Thread thread) {}

    /** A Vm that records memory slots, failing the one numbered {@code failSlot} (or none). */
    private static Vm recordingVm(List<SlotCall> calls, int failSlot) {
        return (Vm) Proxy.newProxyInstance(Vm.class.getClassLoader(), new Class<?>[] {Vm.class},
                (proxy, method, args) -> {
                    if (!method.getName().equals("setUserMemoryRegion")) {
                        throw new UnsupportedOperationException(method.getName());
                    }
                    int slot = (int) args[0];
                    if (slot == failSlot) {
                        throw new HypervisorException("slot refused: slot=" + slot);
                    }
                    synchronized (calls) {
                        calls.add(new SlotCall(slot, (long) args[1], (long) args[2],
                                (long) args[3], Thread.currentThread()));
                    }
                    return null;
                });
    }

    private static GuestMemory twoRegions(Arena arena) {
        return GuestMemory.of(List.of(
                new GuestRegion(0, arena.allocate(8192, 4096), -1, 0),
                new GuestRegion(1L << 32, arena.allocate(4096, 4096), -1, 0)));
    }

    @Test
    void everyRegionGetsItsSlotInOrderOffTheCallingThread() throws VmmException {
        List<SlotCall> calls = new ArrayList<>();
        try (Arena arena = Arena.ofShared()) {
            GuestMemory memory = twoRegions(arena);
            MemorySlots.register(recordingVm(calls, -1), memory).await();

            assertEquals(2, calls.size());
            for (int i = 0; i < 2; i++) {
                GuestRegion r = memory.regions().get(i);
                SlotCall c = calls.get(i);
                assertEquals(new SlotCall(i, r.gpa(), r.size(), r.hva(), c.thread()), c);
                assertNotSame(Thread.currentThread(), c.thread());
            }
            assertSame(calls.get(0).thread(), calls.get(1).thread());
        }
    }

    @Test
    void aRefusedSlotFailsAwaitWithTheHypervisorsReason() {
        List<SlotCall> calls = new ArrayList<>();
        try (Arena arena = Arena.ofShared()) {
            MemorySlots slots = MemorySlots.register(recordingVm(calls, 1), twoRegions(arena));
            VmmException e = assertThrows(VmmException.class, slots::await);
            assertEquals("Cannot map guest memory", e.getMessage());
            assertEquals("slot refused: slot=1", e.getCause().getMessage());
            assertEquals(1, calls.size());
        }
    }

    @Test
    void joinWaitsForTheRegistrationWhateverItsOutcome() {
        List<SlotCall> calls = new ArrayList<>();
        try (Arena arena = Arena.ofShared()) {
            MemorySlots slots = MemorySlots.register(recordingVm(calls, 0), twoRegions(arena));
            slots.join();
            assertEquals(0, calls.size());
            assertThrows(VmmException.class, slots::await);
        }
    }
}
