package dev.nimbus.devices.pci;

import static dev.nimbus.devices.pci.PciConfigSpace.PCI_BASE_ADDRESS_0;
import static dev.nimbus.devices.pci.PciConfigSpace.PCI_COMMAND;
import static dev.nimbus.devices.pci.PciConfigSpace.PCI_COMMAND_MEMORY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.devices.Bus;
import dev.nimbus.devices.BusDevice;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class PciSegmentTest {
    private static final long MMIO64_START = 0x1_4000_0000L;

    private final Bus pio = new Bus("pio");
    private final Bus mmio = new Bus("mmio");
    private final PciSegment segment = PciSegment.createDefault(mmio, MMIO64_START,
            MMIO64_START + (1L << 36));

    PciSegmentTest() {
        pio.register(PciSegment.PCI_CONFIG_IO_PORT, PciSegment.PCI_CONFIG_IO_PORT_SIZE,
                segment.configIo(), "pci-config-io");
        mmio.register(segment.ecamBase(), segment.ecamSize(), segment.configMmio(), "ecam");
    }

    /** A device with one BAR that records how it is mapped and accessed. */
    static final class TestDevice implements PciDevice {
        final PciConfigSpace config = new PciConfigSpace(0x1234, 0x5678, 0, 0xFF0000, 0, 0);
        final List<String> events = new ArrayList<>();

        TestDevice(PciBar bar) {
            config.addBar(bar);
        }

        @Override
        public String id() {
            return "test";
        }

        @Override
        public PciConfigSpace configSpace() {
            return config;
        }

        @Override
        public long readBar(int bar, long offset, int size) {
            return 0xAB00 + offset;
        }

        @Override
        public void writeBar(int bar, long offset, int size, long value) {
            events.add(String.format("write %d+0x%x=0x%x", bar, offset, value));
        }

        @Override
        public void barMapped(int bar, long base) {
            events.add(String.format("map %d 0x%x", bar, base));
        }

        @Override
        public void barUnmapped(int bar, long base) {
            events.add(String.format("unmap %d 0x%x", bar, base));
        }

        @Override
        public void close() {
            events.add("close");
        }
    }

    // ---- mechanism #1 ----

    private static int address(int bus, int dev, int fn, int reg) {
        return 0x8000_0000 | bus << 16 | dev << 11 | fn << 8 | reg;
    }

    private long cfgRead(int dev, int reg, int size) {
        pio.write(0xCF8, 4, address(0, dev, 0, reg & 0xFC));
        long[] v = new long[1];
        pio.read(0xCFC + (reg & 3), size, v);
        return v[0];
    }

    private void cfgWrite(int dev, int reg, int size, long value) {
        pio.write(0xCF8, 4, address(0, dev, 0, reg & 0xFC));
        pio.write(0xCFC + (reg & 3), size, value);
    }

    @Test
    void hostBridgeAnswersOnPortsAndEcam() {
        assertEquals(0x0D57_8086L, cfgRead(0, 0, 4));
        assertEquals(0x8086, cfgRead(0, 0, 2));
        assertEquals(0x0D57, cfgRead(0, 2, 2));
        assertEquals(0x06, cfgRead(0, 0x0B, 1), "class: bridge");
        assertEquals(0x00, cfgRead(0, 0x0A, 1), "sub-class: host bridge");

        long[] v = new long[1];
        mmio.read(PciSegment.PCI_MMCONFIG_START, 4, v);
        assertEquals(0x0D57_8086L, v[0]);
    }

    @Test
    void configAddressReadsBackAndOnlyDwordWritesLatchIt() {
        long[] v = new long[1];
        pio.write(0xCF8, 4, 0x8000_0000L);
        pio.read(0xCF8, 4, v);
        assertEquals(0x8000_0000L, v[0]);
        pio.write(0xCFB, 1, 0x01);
        pio.read(0xCF8, 4, v);
        assertEquals(0x8000_0000L, v[0], "a byte write to 0xCFB is not CONFIG_ADDRESS");
        pio.write(0xCF8, 4, 0xFFFF_FFFFL);
        pio.read(0xCF8, 4, v);
        assertEquals(0x80FF_FFFCL, v[0], "reserved bits read as zero");
    }

    @Test
    void absentDevicesFunctionsAndBusesReadAllOnes() {
        assertEquals(0xFFFF_FFFFL, cfgRead(7, 0, 4));
        pio.write(0xCF8, 4, address(0, 0, 1, 0));
        long[] v = new long[1];
        pio.read(0xCFC, 4, v);
        assertEquals(0xFFFF_FFFFL, v[0], "function 1");
        pio.write(0xCF8, 4, address(1, 0, 0, 0));
        pio.read(0xCFC, 4, v);
        assertEquals(0xFFFF_FFFFL, v[0], "bus 1");
        pio.write(0xCF8, 4, 0x0000_0000L);
        pio.read(0xCFC, 4, v);
        assertEquals(0xFFFF_FFFFL, v[0], "enable bit clear");
    }

    // ---- slots ----

    @Test
    void devicesTakeTheFirstFreeSlotOrTheOneTheyAskFor() throws Exception {
        assertEquals(1, segment.addDevice(new TestDevice(new PciBar(0, 0x1000, false, false)),
                OptionalInt.empty()));
        assertEquals(5, segment.addDevice(new TestDevice(new PciBar(0, 0x1000, false, false)),
                OptionalInt.of(5)));
        segment.reserveSlot(2);
        assertEquals(3, segment.addDevice(new TestDevice(new PciBar(0, 0x1000, false, false)),
                OptionalInt.empty()));
        assertEquals(2, segment.addDevice(new TestDevice(new PciBar(0, 0x1000, false, false)),
                OptionalInt.of(2)), "a reserved slot goes to the device that asks for it");

        assertThrows(PciException.class, () -> segment.addDevice(
                new TestDevice(new PciBar(0, 0x1000, false, false)), OptionalInt.of(5)));
        assertThrows(PciException.class, () -> segment.addDevice(
                new TestDevice(new PciBar(0, 0x1000, false, false)), OptionalInt.of(0)));
        assertThrows(PciException.class, () -> segment.addDevice(
                new TestDevice(new PciBar(0, 0x1000, false, false)), OptionalInt.of(32)));
        assertEquals(0x5678_1234L, cfgRead(5, 0, 4));
    }

    @Test
    void aFullBusRefusesMoreDevices() throws Exception {
        for (int i = 1; i < 32; i++) {
            segment.addDevice(new TestDevice(new PciBar(0, 0x1000, false, false)),
                    OptionalInt.empty());
        }
        assertThrows(PciException.class, () -> segment.addDevice(
                new TestDevice(new PciBar(0, 0x1000, false, false)), OptionalInt.empty()));
    }

    @Test
    void barsAreAllocatedFromTheirWindows() throws Exception {
        TestDevice d32 = new TestDevice(new PciBar(0, 0x80000, false, false));
        TestDevice d64 = new TestDevice(new PciBar(0, 0x80000, true, false, 0x80_0000));
        segment.addDevice(d32, OptionalInt.empty());
        segment.addDevice(d64, OptionalInt.empty());
        assertEquals(PciSegment.MEM_32BIT_DEVICES_START, d32.config.barAddress(0));
        assertEquals(0x1_4000_0000L, d64.config.barAddress(0));
        assertEquals(0x4000_000CL & ~0x8L, cfgRead(2, PCI_BASE_ADDRESS_0, 4));
        assertEquals(0x1, cfgRead(2, PCI_BASE_ADDRESS_0 + 4, 4));
    }

    // ---- BAR decoding follows the command register and the BAR ----

    @Test
    void barDecodesOnlyWithMemorySpaceEnabled() throws Exception {
        TestDevice d = new TestDevice(new PciBar(0, 0x1000, false, false));
        int slot = segment.addDevice(d, OptionalInt.empty());
        long base = d.config.barAddress(0);
        long[] v = new long[1];
        assertFalse(mmio.read(base, 4, v), "not decoded before the guest enables it");

        cfgWrite(slot, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
        assertTrue(mmio.read(base + 0x10, 4, v));
        assertEquals(0xAB10, v[0]);
        assertEquals(List.of("map 0 0x" + Long.toHexString(base)), d.events);
        assertEquals(base, segment.mappedBarBase(slot, 0));

        cfgWrite(slot, PCI_COMMAND, 2, 0);
        assertFalse(mmio.read(base, 4, v));
        assertEquals("unmap 0 0x" + Long.toHexString(base), d.events.get(1));
    }

    @Test
    void movingABarMovesItsMmioRangeAndTellsTheDevice() throws Exception {
        TestDevice d = new TestDevice(new PciBar(0, 0x1000, false, false));
        int slot = segment.addDevice(d, OptionalInt.empty());
        long old = d.config.barAddress(0);
        cfgWrite(slot, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);

        // Sizing, as firmware does it, then a new address.
        cfgWrite(slot, PCI_BASE_ADDRESS_0, 4, 0xFFFF_FFFFL);
        assertEquals(0xFFFF_F000L, cfgRead(slot, PCI_BASE_ADDRESS_0, 4));
        cfgWrite(slot, PCI_BASE_ADDRESS_0, 4, 0xD000_0000L);

        long[] v = new long[1];
        assertFalse(mmio.read(old, 4, v));
        assertTrue(mmio.read(0xD000_0004L, 4, v));
        assertEquals(0xAB04, v[0]);
        assertEquals("map 0 0xd0000000", d.events.get(d.events.size() - 1));
        assertEquals("unmap 0 0xfffff000", d.events.get(d.events.size() - 2));

        // The old range went back to the allocator; the new one is taken.
        TestDevice next = new TestDevice(new PciBar(0, 0x1000, false, false));
        segment.addDevice(next, OptionalInt.empty());
        assertEquals(old, next.config.barAddress(0));
        assertFalse(segment.mmio32Window().reserve(0xD000_0000L, 0x1000));
    }

    @Test
    void aBarMovedOntoAnotherDeviceStopsDecodingInsteadOfClashing() throws Exception {
        TestDevice a = new TestDevice(new PciBar(0, 0x1000, false, false));
        TestDevice b = new TestDevice(new PciBar(0, 0x1000, false, false));
        int sa = segment.addDevice(a, OptionalInt.empty());
        int sb = segment.addDevice(b, OptionalInt.empty());
        cfgWrite(sa, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
        cfgWrite(sb, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);

        cfgWrite(sb, PCI_BASE_ADDRESS_0, 4, a.config.barAddress(0));
        assertEquals(-1, segment.mappedBarBase(sb, 0));
        long[] v = new long[1];
        assertTrue(mmio.read(a.config.barAddress(0), 4, v), "a still decodes");
    }

    @Test
    void aBarMovedOntoTheEcamWindowIsNotDecoded() throws Exception {
        TestDevice d = new TestDevice(new PciBar(0, 0x1000, false, false));
        int slot = segment.addDevice(d, OptionalInt.empty());
        cfgWrite(slot, PCI_BASE_ADDRESS_0, 4, PciSegment.PCI_MMCONFIG_START);
        cfgWrite(slot, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
        assertEquals(-1, segment.mappedBarBase(slot, 0));
        assertEquals(0x0D57_8086L, cfgRead(0, 0, 4), "configuration access still works");
    }

    @Test
    void ecamWritesReachTheDeviceAndMapBars() throws Exception {
        TestDevice d = new TestDevice(new PciBar(0, 0x1000, false, false));
        int slot = segment.addDevice(d, OptionalInt.empty());
        long cfg = segment.ecamBase() + ((long) slot << 15);
        mmio.write(cfg + PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
        assertEquals(d.config.barAddress(0), segment.mappedBarBase(slot, 0));
        long[] v = new long[1];
        mmio.read(cfg + 0x0E, 1, v);
        assertEquals(0, v[0]);
        mmio.read(cfg + 0x03, 2, v);
        assertEquals(0xFFFF, v[0], "an access crossing a dword reads all ones");
        mmio.read(cfg + (1 << 12), 4, v);
        assertEquals(0xFFFF_FFFFL, v[0], "function 1");
    }

    @Test
    void removingADeviceUnmapsAndFreesItsBarsAndSlot() throws Exception {
        TestDevice d = new TestDevice(new PciBar(0, 0x1000, false, false));
        int slot = segment.addDevice(d, OptionalInt.empty());
        long base = d.config.barAddress(0);
        cfgWrite(slot, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);

        assertEquals(d, segment.removeDevice(slot));
        assertEquals(List.of("map 0 0x" + Long.toHexString(base),
                "unmap 0 0x" + Long.toHexString(base), "close"), d.events);
        assertNull(segment.device(slot));
        assertEquals(0xFFFF_FFFFL, cfgRead(slot, 0, 4));
        assertTrue(segment.mmio32Window().reserve(base, 0x1000));
        assertNull(segment.removeDevice(0), "the host bridge stays");
    }

    @Test
    void closeRemovesEveryDeviceButTheHostBridge() throws Exception {
        TestDevice a = new TestDevice(new PciBar(0, 0x1000, false, false));
        TestDevice b = new TestDevice(new PciBar(0, 0x1000, true, false));
        segment.addDevice(a, OptionalInt.empty());
        segment.addDevice(b, OptionalInt.of(9));
        segment.close();
        assertEquals("close", a.events.get(a.events.size() - 1));
        assertEquals("close", b.events.get(b.events.size() - 1));
        assertNull(segment.device(9));
        assertEquals(0x0D57_8086L, cfgRead(0, 0, 4));
    }

    @Test
    void mechanismOneIsOnlyOnSegmentZero() {
        PciSegment other = new PciSegment(1, mmio, new BarAllocator(0xD000_0000L, 0xD100_0000L),
                null);
        assertEquals(PciSegment.PCI_MMCONFIG_START + (1 << 20), other.ecamBase());
        assertThrows(IllegalStateException.class, other::configIo);
        BusDevice ecam = other.configMmio();
        assertEquals(0xFFFF_FFFFL, ecam.read(0, 4), "no host bridge on other segments");
    }
}
