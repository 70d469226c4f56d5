package dev.nimbus.devices.pci;

import static dev.nimbus.devices.pci.MsixTable.PCI_MSIX_ENTRY_DATA;
import static dev.nimbus.devices.pci.MsixTable.PCI_MSIX_ENTRY_LOWER_ADDR;
import static dev.nimbus.devices.pci.MsixTable.PCI_MSIX_ENTRY_SIZE;
import static dev.nimbus.devices.pci.MsixTable.PCI_MSIX_ENTRY_UPPER_ADDR;
import static dev.nimbus.devices.pci.MsixTable.PCI_MSIX_ENTRY_VECTOR_CTRL;
import static dev.nimbus.devices.pci.MsixTable.PCI_MSIX_FLAGS_ENABLE;
import static dev.nimbus.devices.pci.MsixTable.PCI_MSIX_FLAGS_MASKALL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.sys.Linux;
import dev.nimbus.sys.Errno;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MsixTableTest {
    private static final long LAPIC_MSI = 0xFEE0_0000L;

    private final FakeVm vm = new FakeVm();
    private final GsiAllocator gsis = new GsiAllocator();
    private final MsixTable msix = new MsixTable("test", 3, vm, gsis);

    @AfterEach
    void close() {
        msix.close();
    }

    /** Programs vector {@code v} the way Linux does: address, data, then unmask. */
    private void program(int v, long address, int data, boolean unmask) {
        long e = (long) v * PCI_MSIX_ENTRY_SIZE;
        msix.writeTable(e + PCI_MSIX_ENTRY_LOWER_ADDR, 4, address & 0xFFFF_FFFFL);
        msix.writeTable(e + PCI_MSIX_ENTRY_UPPER_ADDR, 4, address >>> 32);
        msix.writeTable(e + PCI_MSIX_ENTRY_DATA, 4, data);
        msix.writeTable(e + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, unmask ? 0 : 1);
    }

    /** Reads and clears the irqfd KVM would have seen for vector {@code v}'s GSI. */
    private static long irqfdCount(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(8);
            long n = Linux.read(fd, buf, 8);
            return n == -Errno.EAGAIN ? 0 : buf.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    private int irqfdOfVector(int v) {
        long e = (long) v * PCI_MSIX_ENTRY_SIZE;
        int data = (int) msix.readTable(e + PCI_MSIX_ENTRY_DATA, 4);
        for (var route : vm.routes().entrySet()) {
            if (route.getValue().data() == data) {
                return vm.irqfdOf(route.getKey());
            }
        }
        return -1;
    }

    @Test
    void vectorsStartMaskedAndDisabled() {
        assertFalse(msix.isEnabled());
        for (int v = 0; v < 3; v++) {
            assertTrue(msix.isMasked(v));
            assertEquals(1, msix.readTable(v * 16L + PCI_MSIX_ENTRY_VECTOR_CTRL, 4));
        }
        assertEquals(48, msix.tableSize());
        assertEquals(8, msix.pbaSize());
    }

    @Test
    void capabilityAnnouncesTableSizeAndLocations() {
        byte[] body = msix.capabilityBody(0, 0x8000, 0, 0x48000);
        assertEquals(2, body[0], "table size is encoded minus one");
        assertEquals(0, body[1]);
        assertEquals(0x8000, (body[2] & 0xFF) | (body[3] & 0xFF) << 8 | (body[4] & 0xFF) << 16);
        assertEquals(0x48000, (body[6] & 0xFF) | (body[7] & 0xFF) << 8 | (body[8] & 0xFF) << 16);
        assertEquals((byte) 0xC0, MsixTable.capabilityWritableMask()[1]);
    }

    @Test
    void unmaskedVectorIsRoutedAndDeliveredThroughItsIrqfd() {
        msix.writeMessageControl(PCI_MSIX_FLAGS_ENABLE);
        program(1, LAPIC_MSI | 0x1000, 0x4041, true);
        assertEquals(1, vm.routes().size());
        int gsi = vm.routes().keySet().iterator().next();
        assertTrue(gsi >= GsiAllocator.FIRST_MSI_GSI);
        assertEquals(new FakeVm.MsiRoute(LAPIC_MSI | 0x1000, 0x4041), vm.routes().get(gsi));

        msix.trigger(1);
        msix.trigger(1);
        assertEquals(2, irqfdCount(vm.irqfdOf(gsi)));
        assertFalse(msix.isPending(1));
    }

    @Test
    void maskedVectorSetsItsPendingBitAndFiresOnUnmask() {
        msix.writeMessageControl(PCI_MSIX_FLAGS_ENABLE);
        program(2, LAPIC_MSI, 0x30, false);
        msix.trigger(2);
        assertTrue(msix.isPending(2));
        assertEquals(0b100, msix.readPba(0, 8));
        assertEquals(0, vm.irqfds().size(), "nothing routed while masked");

        msix.writeTable(2 * 16L + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0);
        assertFalse(msix.isPending(2));
        assertEquals(0, msix.readPba(0, 8));
        assertEquals(1, irqfdCount(irqfdOfVector(2)));
    }

    @Test
    void functionMaskHoldsEveryVectorUntilCleared() {
        msix.writeMessageControl(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
        program(0, LAPIC_MSI, 0x20, true);
        program(1, LAPIC_MSI, 0x21, true);
        msix.trigger(0);
        msix.trigger(1);
        assertEquals(0b11, msix.readPba(0, 1));
        assertTrue(vm.irqfds().isEmpty());

        msix.writeMessageControl(PCI_MSIX_FLAGS_ENABLE);
        assertEquals(0, msix.readPba(0, 1));
        assertEquals(1, irqfdCount(irqfdOfVector(0)));
        assertEquals(1, irqfdCount(irqfdOfVector(1)));
    }

    @Test
    void triggersWhileDisabledAreDroppedAndCounted() {
        program(0, LAPIC_MSI, 0x20, true);
        msix.trigger(0);
        assertEquals(1, msix.droppedWhileDisabled());
        assertFalse(msix.isPending(0));
        assertTrue(vm.routes().isEmpty());
    }

    @Test
    void reprogrammedVectorUpdatesItsRouteOnUnmask() {
        msix.writeMessageControl(PCI_MSIX_FLAGS_ENABLE);
        program(0, LAPIC_MSI, 0x20, true);
        int gsi = vm.routes().keySet().iterator().next();
        program(0, LAPIC_MSI | 0x2000, 0x22, false);
        msix.writeTable(PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0);
        assertEquals(new FakeVm.MsiRoute(LAPIC_MSI | 0x2000, 0x22), vm.routes().get(gsi));
        assertEquals(1, vm.routes().size(), "the vector keeps its GSI");
    }

    @Test
    void qwordTableAccessesWorkAndOddOnesAreIgnored() {
        msix.writeTable(16, 8, 0x0000_0001_FEE0_1000L);
        assertEquals(0x0000_0001_FEE0_1000L, msix.readTable(16, 8));
        msix.writeTable(18, 2, 0xFFFF);
        msix.writeTable(20, 8, 0x1234);
        assertEquals(0x0000_0001_FEE0_1000L, msix.readTable(16, 8));
        assertEquals(0xE0, msix.readTable(18, 1));
        assertEquals(0, msix.readTable(1000, 4), "beyond the table reads 0");
        msix.writeTable(1000, 4, 1);
    }

    @Test
    void closeRemovesRoutesAndIrqfds() {
        msix.writeMessageControl(PCI_MSIX_FLAGS_ENABLE);
        program(0, LAPIC_MSI, 0x20, true);
        program(1, LAPIC_MSI, 0x21, true);
        assertEquals(2, vm.irqfds().size());
        msix.close();
        assertTrue(vm.routes().isEmpty());
        assertTrue(vm.irqfds().isEmpty());
        assertEquals(GsiAllocator.FIRST_MSI_GSI, gsis.allocate(), "GSIs were returned");
    }

    @Test
    void exportedIrqfdIsHeldBackFromKvmWhileMaskedAndDeliveredOnUnmask() throws Exception {
        msix.writeMessageControl(PCI_MSIX_FLAGS_ENABLE);
        program(1, LAPIC_MSI, 0x31, true);
        dev.nimbus.sys.EventFd irqfd = msix.exportIrqfd(1);
        assertTrue(irqfd != null && vm.irqfds().containsKey(irqfd.fd()), "KVM listens");

        // The guest masks the vector; a back-end's write must not reach KVM now.
        msix.writeTable(1 * 16L + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 1);
        assertFalse(vm.irqfds().containsKey(irqfd.fd()), "held back while masked");
        irqfd.write(1);
        msix.writeTable(1 * 16L + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0);
        assertTrue(vm.irqfds().containsKey(irqfd.fd()), "KVM listens again and sees the write");
        assertEquals(1, irqfd.read());

        // The function mask and disabling MSI-X hold it back too.
        msix.writeMessageControl(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
        assertFalse(vm.irqfds().containsKey(irqfd.fd()));
        msix.writeMessageControl(PCI_MSIX_FLAGS_ENABLE);
        assertTrue(vm.irqfds().containsKey(irqfd.fd()));
        msix.writeMessageControl(0);
        assertFalse(vm.irqfds().containsKey(irqfd.fd()));
    }

    @Test
    void exportingAMaskedVectorRoutesItButKvmWaitsForTheUnmask() {
        msix.writeMessageControl(PCI_MSIX_FLAGS_ENABLE);
        program(2, LAPIC_MSI, 0x32, false);
        dev.nimbus.sys.EventFd irqfd = msix.exportIrqfd(2);
        assertTrue(irqfd != null);
        assertFalse(vm.irqfds().containsKey(irqfd.fd()));
        msix.writeTable(2 * 16L + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0);
        assertTrue(vm.irqfds().containsKey(irqfd.fd()));
        assertEquals(new FakeVm.MsiRoute(LAPIC_MSI, 0x32), vm.routes().get(vm.irqfds()
                .get(irqfd.fd())));
        assertEquals(null, msix.exportIrqfd(7), "no such vector");
    }
}
