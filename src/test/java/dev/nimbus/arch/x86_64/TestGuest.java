package dev.nimbus.arch.x86_64;

import dev.nimbus.memory.GuestMemory;
import dev.nimbus.sys.SyscallException;

/**
 * Guest RAM for loader tests, mapped exactly as {@link RamLayout} says. The memfd behind it
 * is sparse, so even a multi-GiB guest costs only the pages a test touches.
 */
final class TestGuest {
    private TestGuest() {}

    static GuestMemory memory(RamLayout layout) {
        try {
            return GuestMemory.create(layout.ramRangePairs(), "nimbus-boot-test");
        } catch (SyscallException e) {
            throw new AssertionError("Cannot create test guest memory", e);
        }
    }
}
