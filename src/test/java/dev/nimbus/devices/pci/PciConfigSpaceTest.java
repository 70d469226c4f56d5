package dev.nimbus.devices.pci;

import static dev.nimbus.devices.pci.PciConfigSpace.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PciConfigSpaceTest {
    private final PciConfigSpace cs = new PciConfigSpace(0x1AF4, 0x1044, 1, 0xFFFF00, 0x1AF4,
            0x1044);

    @Test
    void headerCarriesTheIdentity() {
        assertEquals(0x1044_1AF4, cs.readRegister(0));
        assertEquals(0xFFFF_0001, cs.readRegister(PCI_CLASS_REVISION / 4));
        assertEquals(0x1044_1AF4, cs.readRegister(PCI_SUBSYSTEM_VENDOR_ID / 4));
        assertEquals(0, cs.read(PCI_HEADER_TYPE, 1), "type 0, single function");
        assertEquals(0, cs.read(PCI_INTERRUPT_PIN, 1), "no INTx pin");
        assertEquals(0, cs.read(PCI_STATUS, 2), "no capabilities yet");
    }

    @Test
    void identityIsReadOnly() {
        cs.write(PCI_VENDOR_ID, 4, 0x1234_5678);
        cs.write(PCI_CLASS_REVISION, 4, 0);
        assertEquals(0x1044_1AF4, cs.readRegister(0));
        assertEquals(0xFFFF_0001, cs.readRegister(PCI_CLASS_REVISION / 4));
    }

    @Test
    void commandRegisterKeepsOnlyDefinedBits() {
        cs.write(PCI_COMMAND, 2, 0xFFFF);
        assertEquals(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER
                | PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE,
                cs.read(PCI_COMMAND, 2));
        assertTrue(cs.memorySpaceEnabled());
        cs.write(PCI_COMMAND, 1, PCI_COMMAND_MASTER);
        assertFalse(cs.memorySpaceEnabled());
        assertEquals(0, cs.read(PCI_STATUS, 2), "a command write leaves status alone");
    }

    @Test
    void byteAndWordWritesChangeOnlyTheirLanes() {
        cs.write(PCI_INTERRUPT_LINE, 1, 0x0B);
        cs.write(PCI_CACHE_LINE_SIZE, 1, 0x10);
        assertEquals(0x0B, cs.read(PCI_INTERRUPT_LINE, 1));
        assertEquals(0x10, cs.read(PCI_CACHE_LINE_SIZE, 1));
        assertEquals(0, cs.read(PCI_INTERRUPT_PIN, 1));
    }

    @Test
    void thirtyTwoBitBarSizesAndRelocates() {
        cs.addBar(new PciBar(1, 0x1000, false, false));
        cs.setBarAddress(1, 0xC000_2000L);
        int reg = PCI_BASE_ADDRESS_0 + 4;
        assertEquals(0xC000_2000, cs.read(reg, 4));

        cs.write(reg, 4, 0xFFFF_FFFF);
        assertEquals(0xFFFF_F000, cs.read(reg, 4), "size mask: ~(0x1000 - 1)");
        cs.write(reg, 4, 0xD000_0000);
        assertEquals(0xD000_0000L, cs.barAddress(1));
        cs.write(reg, 4, 0xD000_0123);
        assertEquals(0xD000_0000L, cs.barAddress(1), "bits below the size are hard-wired");
    }

    @Test
    void sixtyFourBitPrefetchableBarSizesAcrossTwoRegisters() {
        cs.addBar(new PciBar(0, 0x80000, true, true));
        cs.setBarAddress(0, 0x10_0080_0000L);
        assertEquals(0x0080_000C, cs.read(PCI_BASE_ADDRESS_0, 4),
                "64-bit (0x4), prefetchable (0x8)");
        assertEquals(0x10, cs.read(PCI_BASE_ADDRESS_0 + 4, 4));

        cs.write(PCI_BASE_ADDRESS_0, 4, 0xFFFF_FFFF);
        cs.write(PCI_BASE_ADDRESS_0 + 4, 4, 0xFFFF_FFFF);
        long mask = (cs.read(PCI_BASE_ADDRESS_0, 4) & 0xFFFF_FFF0L)
                | (long) cs.read(PCI_BASE_ADDRESS_0 + 4, 4) << 32;
        assertEquals(0x80000, -mask);

        cs.write(PCI_BASE_ADDRESS_0, 4, 0x4000_0000);
        cs.write(PCI_BASE_ADDRESS_0 + 4, 4, 0x2);
        assertEquals(0x2_4000_0000L, cs.barAddress(0));
    }

    @Test
    void barsCannotOverlapSlots() {
        cs.addBar(new PciBar(0, 0x1000, true, false));
        assertThrows(IllegalArgumentException.class,
                () -> cs.addBar(new PciBar(1, 0x1000, false, false)));
        assertThrows(IllegalArgumentException.class, () -> new PciBar(5, 0x1000, true, false));
        assertThrows(IllegalArgumentException.class, () -> new PciBar(0, 0x1800, false, false));
        assertThrows(IllegalArgumentException.class, () -> cs.setBarAddress(0, 0x1800));
    }

    @Test
    void capabilityListCanBeWalkedFromTheHeader() {
        int a = cs.addCapability(PCI_CAP_ID_VNDR, new byte[] {14, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                0, 0, 0}, null);
        int b = cs.addCapability(0x11, new byte[10], null);
        assertEquals(PCI_STATUS_CAP_LIST, cs.read(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);

        List<int[]> walked = new ArrayList<>();
        for (int p = cs.read(PCI_CAPABILITY_LIST, 1); p != 0; p = cs.read(p + 1, 1)) {
            walked.add(new int[] {p, cs.read(p, 1)});
        }
        assertEquals(2, walked.size());
        assertEquals(0x40, a);
        assertEquals(a, walked.get(0)[0]);
        assertEquals(PCI_CAP_ID_VNDR, walked.get(0)[1]);
        assertEquals(b, walked.get(1)[0]);
        assertEquals(0x11, walked.get(1)[1]);
        assertEquals(0, b % 4, "capabilities are dword aligned");
        assertEquals(14, cs.read(a + 2, 1));
    }

    @Test
    void capabilityBytesAreWritableOnlyWhereTheMaskSays() {
        int at = cs.addCapability(0x11, new byte[] {0x01, 0x00, 0, 0},
                new byte[] {0, (byte) 0xC0, 0, 0});
        cs.write(at + 2, 2, 0xFFFF);
        assertEquals(0xC001, cs.read(at + 2, 2));
        cs.write(at, 1, 0x55);
        assertEquals(0x11, cs.read(at, 1), "the id is read-only");
    }

    @Test
    void extendedSpaceReadsAsZero() {
        assertEquals(0, cs.readRegister(0x100 / 4));
        assertEquals(0, cs.readRegister(1023));
        cs.write(0x100, 4, -1);
        assertEquals(0, cs.readRegister(0x100 / 4));
    }
}
