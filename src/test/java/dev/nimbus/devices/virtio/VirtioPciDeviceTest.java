package dev.nimbus.devices.virtio;

import static dev.nimbus.devices.virtio.Virtio.VIRTIO_CONFIG_S_ACKNOWLEDGE;
import static dev.nimbus.devices.virtio.Virtio.VIRTIO_CONFIG_S_DRIVER;
import static dev.nimbus.devices.virtio.Virtio.VIRTIO_CONFIG_S_DRIVER_OK;
import static dev.nimbus.devices.virtio.Virtio.VIRTIO_CONFIG_S_FEATURES_OK;
import static dev.nimbus.devices.virtio.Virtio.VIRTIO_CONFIG_S_NEEDS_RESET;
import static dev.nimbus.devices.virtio.VirtioPciDevice.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.devices.Bus;
import dev.nimbus.devices.pci.FakeVm;
import dev.nimbus.devices.pci.GsiAllocator;
import dev.nimbus.devices.pci.PciConfigSpace;
import dev.nimbus.devices.pci.PciSegment;
import dev.nimbus.sys.Linux;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class VirtioPciDeviceTest {
    private static final long FEATURES = Virtio.RING_FEATURES | Virtio.bit(0);
    private static final long RING_BASE = 0x10000;

    private final TestGuestMemory ram = TestGuestMemory.confined(1 << 20);
    private final FakeVm vm = new FakeVm();
    private final RecordingDevice device = new RecordingDevice(Virtio.VIRTIO_ID_RNG, FEATURES,
            256, 64);
    private final VirtioPciDevice pci;
    private final VirtioPciDriver driver;

    VirtioPciDeviceTest() throws Exception {
        pci = new VirtioPciDevice(device, ram.memory(), vm, new GsiAllocator(), true);
        driver = new VirtioPciDriver(pci);
    }

    @AfterEach
    void close() {
        pci.close();
        ram.close();
    }

    private static long eventCount(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(8);
            return Linux.read(fd, buf, 8) == 8 ? buf.get(ValueLayout.JAVA_LONG, 0) : 0;
        }
    }

    /** The irqfd carrying MSI-X vector {@code v} (programmed by the driver with data 0x40+v). */
    private int irqfdOfVector(int v) {
        for (var route : vm.routes().entrySet()) {
            if (route.getValue().data() == 0x40 + v) {
                return vm.irqfdOf(route.getKey());
            }
        }
        throw new AssertionError("vector " + v + " has no route");
    }

    private void bringUp(int queues) {
        assertTrue(driver.negotiate(Virtio.RING_FEATURES));
        driver.enableMsix(3);
        driver.common(VIRTIO_PCI_COMMON_MSIX, 2, 2);
        for (int q = 0; q < queues; q++) {
            driver.setupQueue(q, new VirtqueueBuilder(ram.memory(), 64, RING_BASE + q * 0x40000L,
                    0x40000), q);
        }
        driver.addStatus(VIRTIO_CONFIG_S_DRIVER_OK);
    }

    // ---- identity and layout ----

    @Test
    void identityIsAModernVirtioFunction() {
        PciConfigSpace cs = pci.configSpace();
        assertEquals(VIRTIO_PCI_VENDOR_ID, cs.read(PciConfigSpace.PCI_VENDOR_ID, 2));
        assertEquals(0x1044, cs.read(PciConfigSpace.PCI_DEVICE_ID, 2), "0x1040 + rng (4)");
        assertEquals(1, cs.read(PciConfigSpace.PCI_CLASS_REVISION, 1), "revision 1");
        assertEquals(0xFFFF00, cs.readRegister(2) >>> 8);
        assertEquals(VIRTIO_PCI_VENDOR_ID, cs.read(PciConfigSpace.PCI_SUBSYSTEM_VENDOR_ID, 2));
        assertEquals(0x1044, cs.read(PciConfigSpace.PCI_SUBSYSTEM_ID, 2), "0x40 or higher");
        assertEquals("_virtio-pci-_test0", pci.id());
        assertEquals(0x020000, VirtioPciDevice.classCode(Virtio.VIRTIO_ID_NET));
        assertEquals(0x018000, VirtioPciDevice.classCode(Virtio.VIRTIO_ID_BLOCK));
    }

    @Test
    void capabilitiesPointIntoBarZeroAsLaidOut() {
        assertArrayEquals(new long[] {0, 0, 56}, driver.structures.get(VIRTIO_PCI_CAP_COMMON_CFG));
        assertArrayEquals(new long[] {0, 0x2000, 1}, driver.structures.get(VIRTIO_PCI_CAP_ISR_CFG));
        assertArrayEquals(new long[] {0, 0x4000, 8},
                driver.structures.get(VIRTIO_PCI_CAP_DEVICE_CFG));
        assertArrayEquals(new long[] {0, 0x6000, 0x1000},
                driver.structures.get(VIRTIO_PCI_CAP_NOTIFY_CFG));
        assertEquals(4, driver.notifyMultiplier);
        assertTrue(driver.capOffsets.containsKey(VIRTIO_PCI_CAP_PCI_CFG));
        assertEquals(20, driver.cfg(driver.capOffsets.get(VIRTIO_PCI_CAP_PCI_CFG) + 2, 1));

        int m = driver.msixCap;
        assertEquals(2, driver.cfg(m + 2, 2), "three vectors: two queues and config");
        assertEquals(0x8000, driver.cfg(m + 4, 4), "table at 0x8000 in BAR 0");
        assertEquals(0x48000, driver.cfg(m + 8, 4), "PBA at 0x48000 in BAR 0");
    }

    @Test
    void barZeroIsA64BitHalfMebibyteBar() {
        PciConfigSpace cs = pci.configSpace();
        assertEquals(PciConfigSpace.PCI_BASE_ADDRESS_MEM_TYPE_64,
                cs.read(PciConfigSpace.PCI_BASE_ADDRESS_0, 4) & 0xF);
        cs.write(PciConfigSpace.PCI_BASE_ADDRESS_0, 4, -1);
        cs.write(PciConfigSpace.PCI_BASE_ADDRESS_0 + 4, 4, -1);
        assertEquals(0xFFF8_0004, cs.read(PciConfigSpace.PCI_BASE_ADDRESS_0, 4));
        assertEquals(CAPABILITY_BAR_SIZE, pci.configSpace().bar(0).size());
        assertEquals(VIRTIO_PCI_BAR_ALIGN, pci.configSpace().bar(0).alignment());
    }

    // ---- feature negotiation and status ----

    @Test
    void deviceFeaturesAreOfferedThirtyTwoBitsAtATime() {
        assertEquals(FEATURES, driver.deviceFeatures());
        driver.common(VIRTIO_PCI_COMMON_DFSELECT, 4, 2);
        assertEquals(0, driver.common(VIRTIO_PCI_COMMON_DF, 4));
    }

    @Test
    void featuresOkStaysSetForAnOfferedSubsetWithVersion1() {
        assertTrue(driver.negotiate(Virtio.bit(Virtio.VIRTIO_F_VERSION_1) | Virtio.bit(0)));
        assertEquals(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER
                | VIRTIO_CONFIG_S_FEATURES_OK, driver.status());
        driver.common(VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
        assertEquals(1, driver.common(VIRTIO_PCI_COMMON_GF, 4));

        driver.writeDriverFeatures(FEATURES);
        driver.common(VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
        assertEquals(1, driver.common(VIRTIO_PCI_COMMON_GF, 4), "fixed after FEATURES_OK");
    }

    @Test
    void featuresOkIsRefusedForUnofferedBitsOrALegacyDriver() {
        assertFalse(driver.negotiate(Virtio.RING_FEATURES | Virtio.bit(5)));
        assertFalse(driver.negotiate(Virtio.bit(Virtio.VIRTIO_F_INDIRECT_DESC)),
                "no VERSION_1: a legacy driver");
        assertTrue(driver.negotiate(Virtio.bit(Virtio.VIRTIO_F_VERSION_1)),
                "a reset allows another try");
    }

    @Test
    void statusBitsCanOnlyBeAddedAndZeroResets() {
        driver.addStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE);
        driver.addStatus(VIRTIO_CONFIG_S_DRIVER);
        driver.common(VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE);
        assertEquals(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER, driver.status());
        driver.common(VIRTIO_PCI_COMMON_STATUS, 1, 0);
        assertEquals(0, driver.status());
    }

    @Test
    void driverOkWithoutFeaturesOkNeedsReset() {
        driver.addStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
        driver.addStatus(VIRTIO_CONFIG_S_DRIVER_OK);
        assertEquals(VIRTIO_CONFIG_S_NEEDS_RESET, driver.status() & VIRTIO_CONFIG_S_NEEDS_RESET);
        assertTrue(device.activations.isEmpty());
    }

    // ---- queues ----

    @Test
    void queueRegistersDescribeEachQueue() {
        assertEquals(2, driver.common(VIRTIO_PCI_COMMON_NUMQ, 2));
        driver.common(VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
        assertEquals(64, driver.common(VIRTIO_PCI_COMMON_Q_SIZE, 2));
        assertEquals(1, driver.common(VIRTIO_PCI_COMMON_Q_NOFF, 2));
        assertEquals(VIRTIO_MSI_NO_VECTOR, driver.common(VIRTIO_PCI_COMMON_Q_MSIX, 2));

        driver.common(VIRTIO_PCI_COMMON_Q_DESCLO, 4, 0x1234_5000L);
        driver.common(VIRTIO_PCI_COMMON_Q_DESCHI, 4, 0x9);
        assertEquals(0x9_1234_5000L, driver.common(VIRTIO_PCI_COMMON_Q_DESCLO, 8));
        driver.common(VIRTIO_PCI_COMMON_Q_USEDLO, 8, 0x7_0000_1000L);
        assertEquals(0x7, driver.common(VIRTIO_PCI_COMMON_Q_USEDHI, 4));

        driver.common(VIRTIO_PCI_COMMON_Q_SELECT, 2, 2);
        assertEquals(0, driver.common(VIRTIO_PCI_COMMON_Q_SIZE, 2), "no queue 2");
        driver.common(VIRTIO_PCI_COMMON_Q_SIZE, 2, 16);
        assertEquals(0, driver.common(VIRTIO_PCI_COMMON_Q_SIZE, 2));
    }

    @Test
    void vectorsBeyondTheTableReadBackAsNoVector() {
        driver.common(VIRTIO_PCI_COMMON_MSIX, 2, 3);
        assertEquals(VIRTIO_MSI_NO_VECTOR, driver.common(VIRTIO_PCI_COMMON_MSIX, 2));
        driver.common(VIRTIO_PCI_COMMON_MSIX, 2, 2);
        assertEquals(2, driver.common(VIRTIO_PCI_COMMON_MSIX, 2));
        driver.common(VIRTIO_PCI_COMMON_Q_MSIX, 2, 0x7FF);
        assertEquals(VIRTIO_MSI_NO_VECTOR, driver.common(VIRTIO_PCI_COMMON_Q_MSIX, 2));
    }

    @Test
    void driverOkActivatesTheDeviceWithTheEnabledQueues() {
        assertTrue(driver.negotiate(Virtio.RING_FEATURES));
        VirtqueueBuilder ring = new VirtqueueBuilder(ram.memory(), 32, RING_BASE);
        driver.setupQueue(1, ring, 0);
        driver.addStatus(VIRTIO_CONFIG_S_DRIVER_OK);

        assertEquals(1, device.activations.size());
        VirtioActivation a = device.activations.get(0);
        assertEquals(Virtio.RING_FEATURES, a.features());
        assertEquals(1, a.queues().size(), "queue 0 was not enabled");
        VirtioQueue q = a.queue(1);
        assertEquals(32, q.queue().size());
        assertTrue(q.queue().eventIdx());
        assertEquals(pci.notifier(1), q.notifier());
        assertEquals(0, driver.status() & VIRTIO_CONFIG_S_NEEDS_RESET);

        driver.common(VIRTIO_PCI_COMMON_Q_SIZE, 2, 8);
        assertEquals(32, driver.common(VIRTIO_PCI_COMMON_Q_SIZE, 2),
                "an enabled queue's setup is frozen");
    }

    @Test
    void resetStopsTheDeviceAndRestoresDefaults() {
        bringUp(2);
        driver.common(VIRTIO_PCI_COMMON_STATUS, 1, 0);
        assertEquals(1, device.resets);
        assertEquals(0, driver.status());
        for (int q = 0; q < 2; q++) {
            driver.common(VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
            assertEquals(0, driver.common(VIRTIO_PCI_COMMON_Q_ENABLE, 2));
            assertEquals(q == 0 ? 256 : 64, driver.common(VIRTIO_PCI_COMMON_Q_SIZE, 2));
            assertEquals(VIRTIO_MSI_NO_VECTOR, driver.common(VIRTIO_PCI_COMMON_Q_MSIX, 2));
            assertEquals(0, driver.common(VIRTIO_PCI_COMMON_Q_DESCLO, 8));
        }
        assertEquals(VIRTIO_MSI_NO_VECTOR, driver.common(VIRTIO_PCI_COMMON_MSIX, 2));

        bringUp(1);
        assertEquals(2, device.activations.size(), "the device can be activated again");
    }

    @Test
    void queueSizeThatIsNotAPowerOfTwoNeedsResetAndRaisesAConfigInterrupt() {
        assertTrue(driver.negotiate(Virtio.RING_FEATURES));
        driver.enableMsix(3);
        driver.common(VIRTIO_PCI_COMMON_MSIX, 2, 2);
        VirtqueueBuilder ring = new VirtqueueBuilder(ram.memory(), 64, RING_BASE);
        driver.setupQueue(0, ring, 0);
        driver.common(VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
        driver.common(VIRTIO_PCI_COMMON_Q_SIZE, 2, 48);
        driver.common(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
        driver.addStatus(VIRTIO_CONFIG_S_DRIVER_OK);

        assertTrue(device.activations.isEmpty());
        assertEquals(VIRTIO_CONFIG_S_NEEDS_RESET, driver.status() & VIRTIO_CONFIG_S_NEEDS_RESET);
        assertEquals(1, pci.needsResetEvents());
        assertEquals(1, eventCount(irqfdOfVector(2)), "config change interrupt");
        assertEquals(VIRTIO_PCI_ISR_CONFIG, pci.readBar(0, ISR_CONFIG_BAR_OFFSET, 1));

        driver.common(VIRTIO_PCI_COMMON_STATUS, 1, 0);
        assertEquals(0, driver.status(), "reset clears DEVICE_NEEDS_RESET");
    }

    @Test
    void queueRingOutsideGuestMemoryNeedsReset() {
        assertTrue(driver.negotiate(Virtio.RING_FEATURES));
        driver.common(VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
        driver.common(VIRTIO_PCI_COMMON_Q_DESCLO, 8, 0xFFFF_0000L);
        driver.common(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
        driver.addStatus(VIRTIO_CONFIG_S_DRIVER_OK);
        assertEquals(VIRTIO_CONFIG_S_NEEDS_RESET, driver.status() & VIRTIO_CONFIG_S_NEEDS_RESET);
        assertTrue(device.activations.isEmpty());
    }

    @Test
    void failedActivationNeedsReset() {
        device.failActivation = true;
        bringUp(1);
        assertEquals(VIRTIO_CONFIG_S_NEEDS_RESET, driver.status() & VIRTIO_CONFIG_S_NEEDS_RESET);
    }

    // ---- interrupts and notifications ----

    @Test
    void queueInterruptsGoThroughTheQueuesVector() {
        bringUp(2);
        pci.interrupt().signalQueue(1);
        assertEquals(1, eventCount(irqfdOfVector(1)));
        assertEquals(0, eventCount(irqfdOfVector(0)));
        assertEquals(VIRTIO_PCI_ISR_QUEUE, pci.readBar(0, ISR_CONFIG_BAR_OFFSET, 1));
        assertEquals(0, pci.readBar(0, ISR_CONFIG_BAR_OFFSET, 1), "reading ISR clears it");
    }

    @Test
    void maskedVectorInterruptIsHeldInThePba() {
        bringUp(2);
        pci.writeBar(0, MSIX_TABLE_BAR_OFFSET + 12, 4, 1);
        pci.interrupt().signalQueue(0);
        assertEquals(1, pci.readBar(0, MSIX_PBA_BAR_OFFSET, 8));
        assertEquals(0, eventCount(irqfdOfVector(0)));
        pci.writeBar(0, MSIX_TABLE_BAR_OFFSET + 12, 4, 0);
        assertEquals(0, pci.readBar(0, MSIX_PBA_BAR_OFFSET, 8));
        assertEquals(1, eventCount(irqfdOfVector(0)));
    }

    @Test
    void notifyWriteThatReachesTheVmmSignalsTheQueueEventfd() throws Exception {
        driver.notify(1);
        assertEquals(1, pci.notifier(1).read());
        assertEquals(0, pci.notifier(0).read());
        pci.writeBar(0, NOTIFICATION_BAR_OFFSET + 4L * 500, 2, 500);
    }

    @Test
    void pciCfgWindowReachesBarZero() throws Exception {
        int cap = driver.capOffsets.get(VIRTIO_PCI_CAP_PCI_CFG);
        driver.cfgWrite(cap + 4, 1, 0);
        driver.cfgWrite(cap + 8, 4, VIRTIO_PCI_COMMON_NUMQ);
        driver.cfgWrite(cap + 12, 4, 2);
        assertEquals(2, driver.cfg(cap + 16, 2), "num_queues through the window");

        driver.cfgWrite(cap + 8, 4, (int) NOTIFICATION_BAR_OFFSET);
        driver.cfgWrite(cap + 16, 2, 0);
        assertEquals(1, pci.notifier(0).read(), "a notify through the window");
    }

    @Test
    void configGenerationChangesAfterAConfigChangeIsRead() {
        int g0 = (int) driver.common(VIRTIO_PCI_COMMON_CFGGENERATION, 1);
        assertEquals(0x5566_7788L, pci.readBar(0, DEVICE_CONFIG_BAR_OFFSET, 4));
        assertEquals(g0, driver.common(VIRTIO_PCI_COMMON_CFGGENERATION, 1));

        pci.interrupt().signalConfigChange();
        device.config = 42;
        assertEquals(42, pci.readBar(0, DEVICE_CONFIG_BAR_OFFSET, 4));
        assertEquals((g0 + 1) & 0xFF, driver.common(VIRTIO_PCI_COMMON_CFGGENERATION, 1));
        assertEquals(0, pci.readBar(0, DEVICE_CONFIG_BAR_OFFSET + 6, 4), "beyond config size");
        pci.writeBar(0, DEVICE_CONFIG_BAR_OFFSET + 4, 4, 0xAB);
        pci.writeBar(0, DEVICE_CONFIG_BAR_OFFSET + 6, 4, 0xCD);
        assertEquals(java.util.List.of("4:4=ab"), device.configWrites);
    }

    @Test
    void oddWidthCommonConfigWritesAreIgnored() {
        driver.common(VIRTIO_PCI_COMMON_Q_SELECT, 4, 1);
        assertEquals(0, driver.common(VIRTIO_PCI_COMMON_Q_SELECT, 2));
        driver.common(VIRTIO_PCI_COMMON_STATUS, 2, VIRTIO_CONFIG_S_ACKNOWLEDGE);
        assertEquals(0, driver.status());
        driver.common(VIRTIO_PCI_COMMON_NUMQ, 2, 9);
        assertEquals(2, driver.common(VIRTIO_PCI_COMMON_NUMQ, 2));
    }

    // ---- ioeventfds follow BAR 0 on a segment ----

    @Test
    void ioeventfdsAreRegisteredWhereBarZeroDecodesAndMoveWithIt() throws Exception {
        Bus mmio = new Bus("mmio");
        PciSegment segment = PciSegment.createDefault(mmio, 0x1_0000_0000L, 0x2_0000_0000L);
        int slot = segment.addDevice(pci, OptionalInt.empty());
        long base = pci.configSpace().barAddress(0);
        assertEquals(0, base % VIRTIO_PCI_BAR_ALIGN);
        assertTrue(vm.ioeventfds().isEmpty(), "nothing decodes before memory space is enabled");

        long cfg = segment.ecamBase() + ((long) slot << 15);
        segment.configMmio().write(cfg - segment.ecamBase() + PciConfigSpace.PCI_COMMAND, 2,
                PciConfigSpace.PCI_COMMAND_MEMORY);
        assertEquals(2, vm.ioeventfds().size());
        assertEquals(new FakeVm.Ioeventfd(pci.notifier(1).fd(), base + 0x6004, 0, false, null),
                vm.ioeventfds().get(1));

        long moved = 0x1_8000_0000L;
        long o = cfg - segment.ecamBase();
        segment.configMmio().write(o + PciConfigSpace.PCI_BASE_ADDRESS_0, 4, moved);
        segment.configMmio().write(o + PciConfigSpace.PCI_BASE_ADDRESS_0 + 4, 4, moved >>> 32);
        assertEquals(moved, pci.mappedBase());
        assertEquals(2, vm.ioeventfds().size());
        assertEquals(moved + 0x6000, vm.ioeventfds().get(0).addr());

        long[] v = new long[1];
        assertTrue(mmio.read(moved + VIRTIO_PCI_COMMON_NUMQ, 2, v));
        assertEquals(2, v[0], "BAR 0 answers at its new address");

        segment.removeDevice(slot);
        assertTrue(vm.ioeventfds().isEmpty());
    }

    @Test
    void withoutIoeventfdsNotificationsStillArriveThroughMmio() throws Exception {
        vm.failIoeventfds(true);
        Bus mmio = new Bus("mmio");
        PciSegment segment = PciSegment.createDefault(mmio, 0x1_0000_0000L, 0x2_0000_0000L);
        int slot = segment.addDevice(pci, OptionalInt.empty());
        segment.configMmio().write(((long) slot << 15) + PciConfigSpace.PCI_COMMAND, 2,
                PciConfigSpace.PCI_COMMAND_MEMORY);
        long base = pci.configSpace().barAddress(0);
        mmio.write(VirtioPciDevice.notifyAddress(base, 0), 2, 0);
        assertEquals(1, pci.notifier(0).read());
    }
}
