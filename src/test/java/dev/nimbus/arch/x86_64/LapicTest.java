package dev.nimbus.arch.x86_64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class LapicTest {
    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void lint0BecomesExtIntAndLint1Nmi() {
        byte[] regs = new byte[1024];
        // KVM's reset state: both LVTs masked (bit 16), fixed delivery.
        le(regs).putInt(0x350, 0x1_0000).putInt(0x360, 0x1_0000);
        le(regs).putInt(0x20, 0x0300_0000); // APIC ID register, must not change
        Lapic.setLint(regs);
        assertEquals(0x1_0700, le(regs).getInt(0x350));
        assertEquals(0x1_0400, le(regs).getInt(0x360));
        assertEquals(0x0300_0000, le(regs).getInt(0x20));
    }

    @Test
    void onlyTheDeliveryModeChanges() {
        byte[] regs = new byte[1024];
        // Vector, polarity, trigger and a stale delivery mode of SMI (2).
        le(regs).putInt(0x350, 0xA0F1 | 0x200).putInt(0x360, 0x8000 | 0x2FF);
        Lapic.setLint(regs);
        assertEquals(0xA0F1 & ~0x700 | 0x700, le(regs).getInt(0x350));
        assertEquals(0x80FF | 0x400, le(regs).getInt(0x360));
    }

    @Test
    void registerPageMustBeWhole() {
        assertThrows(IllegalArgumentException.class, () -> Lapic.setLint(new byte[0x360]));
    }
}
