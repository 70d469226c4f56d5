package dev.nimbus.devices.virtio;

import static dev.nimbus.devices.virtio.VirtioPciDevice.VIRTIO_PCI_COMMON_MSIX;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.devices.Bus;
import dev.nimbus.devices.BusDevice;
import dev.nimbus.devices.pci.FakeVm;
import dev.nimbus.devices.pci.GsiAllocator;
import dev.nimbus.devices.pci.PciConfigSpace;
import dev.nimbus.devices.pci.PciDevice;
import dev.nimbus.devices.pci.PciSegment;
import dev.nimbus.devices.virtio.rng.VirtioRng;
import dev.nimbus.sys.Epoll;
import dev.nimbus.sys.EventFd;
import dev.nimbus.sys.Linux;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/**
 * The whole path a guest's rng request takes, minus KVM: PCI enumeration through the ECAM
 * window, the driver's set-up through BAR 0 on the MMIO bus, a notify write, the device thread,
 * the used ring and the MSI-X irqfd the interrupt leaves through.
 */
class VirtioPciEndToEndTest {
    /** A PciDevice seen through the segment's ECAM window and the MMIO bus, as a guest sees it. */
    private record GuestView(Bus mmio, PciSegment segment, int slot, long bar0)
            implements PciDevice {
        @Override
        public String id() {
            return "guest view";
        }

        @Override
        public PciConfigSpace configSpace() {
            throw new UnsupportedOperationException();
        }

        @Override
        public int readConfigRegister(int reg) {
            return (int) segment.configMmio().read(((long) slot << 15) + reg * 4L, 4);
        }

        @Override
        public void writeConfig(int offset, int size, int value) {
            segment.configMmio().write(((long) slot << 15) + offset, size, value);
        }

        @Override
        public long readBar(int bar, long offset, int size) {
            long[] v = new long[1];
            return mmio.read(bar0 + offset, size, v) ? v[0] : -1;
        }

        @Override
        public void writeBar(int bar, long offset, int size, long value) {
            mmio.write(bar0 + offset, size, value);
        }
    }

    private static long awaitEventFd(int fd) throws Exception {
        try (Epoll epoll = Epoll.create(); Epoll.Events events = new Epoll.Events(1);
                Arena a = Arena.ofConfined()) {
            epoll.add(fd, Epoll.EPOLLIN, 0);
            if (epoll.wait(events, (int) DeviceHarness.TIMEOUT_MILLIS) != 1) {
                return 0;
            }
            MemorySegment buf = a.allocate(8);
            return Linux.read(fd, buf, 8) == 8 ? buf.get(ValueLayout.JAVA_LONG, 0) : 0;
        }
    }

    @Test
    void rngRequestTravelsFromNotifyToInterrupt() throws Exception {
        FakeVm vm = new FakeVm();
        Bus mmio = new Bus("mmio");
        PciSegment segment = PciSegment.createDefault(mmio, 0x1_0000_0000L, 0x2_0000_0000L);
        BusDevice ecam = segment.configMmio();
        try (TestGuestMemory ram = TestGuestMemory.shared(4 << 20)) {
            VirtioRng rng = new VirtioRng(VirtioRng.DEFAULT_SOURCE);
            VirtioPciDevice pci = new VirtioPciDevice(rng, ram.memory(), vm, new GsiAllocator(),
                    true);
            int slot = segment.addDevice(pci, OptionalInt.empty());
            assertEquals(1, slot, "first slot after the host bridge");
            assertEquals(0x1044_1AF4L, ecam.read((long) slot << 15, 4));

            // Firmware-style: read the BAR the VMM assigned, enable memory decoding.
            long cfg = (long) slot << 15;
            long bar0 = (ecam.read(cfg + 0x10, 4) & ~0xFL) | ecam.read(cfg + 0x14, 4) << 32;
            ecam.write(cfg + PciConfigSpace.PCI_COMMAND, 2, PciConfigSpace.PCI_COMMAND_MEMORY
                    | PciConfigSpace.PCI_COMMAND_MASTER);
            assertEquals(1, vm.ioeventfds().size());

            VirtioPciDriver driver = new VirtioPciDriver(new GuestView(mmio, segment, slot, bar0));
            assertTrue(driver.negotiate(Virtio.RING_FEATURES));
            driver.enableMsix(2);
            driver.common(VIRTIO_PCI_COMMON_MSIX, 2, 1);
            VirtqueueBuilder ring = new VirtqueueBuilder(ram.memory(), 64, 0x10_0000);
            driver.setupQueue(0, ring, 0);
            driver.addStatus(Virtio.VIRTIO_CONFIG_S_DRIVER_OK);
            assertEquals(0, driver.status() & Virtio.VIRTIO_CONFIG_S_NEEDS_RESET);

            VirtqueueBuilder.Buf buf = ring.writable(32);
            ring.add(buf);
            driver.notify(0);

            int irqfd = -1;
            for (var route : vm.routes().entrySet()) {
                if (route.getValue().data() == 0x40) {
                    irqfd = vm.irqfdOf(route.getKey());
                }
            }
            assertEquals(1, awaitEventFd(irqfd), "one MSI for queue 0's vector");
            assertEquals(1, ring.usedIdx());
            assertEquals(32, ring.usedLen(0));
            assertFalse(Arrays.equals(new byte[32], ram.memory().read(buf.gpa(), 32)));

            segment.removeDevice(slot);
            assertTrue(vm.ioeventfds().isEmpty());
            assertTrue(vm.irqfds().isEmpty());
        }
    }

    @Test
    void notifierEventFdIsTheOneRegisteredAsIoeventfd() throws Exception {
        FakeVm vm = new FakeVm();
        try (TestGuestMemory ram = TestGuestMemory.shared(1 << 20);
                VirtioRng rng = new VirtioRng(VirtioRng.DEFAULT_SOURCE)) {
            VirtioPciDevice pci = new VirtioPciDevice(rng, ram.memory(), vm, new GsiAllocator(),
                    false);
            pci.barMapped(0, 0xC000_0000L);
            EventFd n = pci.notifier(0);
            assertEquals(new FakeVm.Ioeventfd(n.fd(), 0xC000_6000L, 0, false, null),
                    vm.ioeventfds().get(0));
            pci.barUnmapped(0, 0xC000_0000L);
            assertTrue(vm.ioeventfds().isEmpty());
            pci.close();
        }
    }
}
