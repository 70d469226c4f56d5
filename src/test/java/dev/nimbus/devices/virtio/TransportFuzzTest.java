package dev.nimbus.devices.virtio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.devices.Bus;
import dev.nimbus.devices.ConsoleOutput;
import dev.nimbus.devices.pci.FakeVm;
import dev.nimbus.devices.pci.GsiAllocator;
import dev.nimbus.devices.pci.PciSegment;
import dev.nimbus.devices.virtio.block.VirtioBlock;
import dev.nimbus.devices.virtio.console.VirtioConsole;
import dev.nimbus.devices.virtio.net.VirtioNet;
import dev.nimbus.devices.virtio.rng.VirtioRng;
import dev.nimbus.memory.GuestMemory;
import dev.nimbus.net.SocketPairBackend;
import dev.nimbus.sys.SyscallException;
import dev.nimbus.vmm.config.DiskConfig;
import dev.nimbus.vmm.config.MacAddress;
import dev.nimbus.vmm.config.NetConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A guest may write anything to the PCI configuration space and to a virtio function's BARs
 * (rng, network, block and console here),
 * in any order and size, with garbage in its rings. Every such access must come back to the
 * vCPU normally (an exception there ends the VMM), the device threads must survive, and the
 * image must not change except where the guest asked. Seeded, so a failure replays.
 */
class TransportFuzzTest {
    private static final long MMIO64_START = 0x1_0000_0000L;
    private static final long MMIO64_END = 0x2_0000_0000L;
    private static final int RAM = 1 << 20;
    private static final int OPERATIONS = 40_000;
    private static final int PCI_COMMAND = 0x04;
    private static final int PCI_COMMAND_MEMORY = 0x2;
    private static final int PCI_COMMAND_MASTER = 0x4;

    @TempDir
    Path dir;

    /** Values a driver writes, and values that break assumptions. */
    private static final long[] INTERESTING = {0, 1, 2, 3, 4, 7, 0xb, 0xf, 0x40, 0x80, 0xff,
        0x100, 0x1000, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fff_ffffL, 0x8000_0000L,
        0xffff_ffffL, -1L, 0xfee0_0000L, RAM - 16, RAM, 0x8000_0000_0000_0000L};

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5})
    void randomAccessesNeverEscapeToTheVcpu(long seed) throws Exception {
        Random random = new Random(seed);
        List<Throwable> threadFailures = new CopyOnWriteArrayList<>();
        Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> threadFailures.add(e));
        Path image = dir.resolve("disk.img");
        byte[] original = new byte[64 * 512];
        random.nextBytes(original);
        Files.write(image, original);
        try (TestGuestMemory ram = TestGuestMemory.shared(RAM)) {
            GuestMemory mem = ram.memory();
            byte[] garbage = new byte[RAM];
            random.nextBytes(garbage);
            mem.write(0, garbage);

            FakeVm vm = new FakeVm();
            Bus pio = new Bus("pio");
            Bus mmio = new Bus("mmio");
            PciSegment segment = PciSegment.createDefault(mmio, MMIO64_START, MMIO64_END);
            pio.register(PciSegment.PCI_CONFIG_IO_PORT, PciSegment.PCI_CONFIG_IO_PORT_SIZE,
                    segment.configIo(), "pci-config-io");
            mmio.register(segment.ecamBase(), segment.ecamSize(), segment.configMmio(),
                    "ecam");
            GsiAllocator gsis = new GsiAllocator();
            // Read-only, so that the image's bytes can be checked afterwards.
            // The host end of the network backend sends random frames and never reads, so
            // the device's transmit side runs into a full socket too.
            SocketPairBackend net = new SocketPairBackend("fuzz0");
            List<VirtioDevice> engines = List.of(
                    new VirtioRng(VirtioRng.DEFAULT_SOURCE),
                    new VirtioNet(NetConfig.parse("id=_net0,queue_size=16"), List.of(net),
                            MacAddress.parse("52:54:00:00:00:01"), 1500),
                    VirtioBlock.open(DiskConfig.parse("path=" + image
                            + ",image_type=raw,id=_disk0,queue_size=16,readonly=on")),
                    new VirtioConsole(ConsoleOutput.DISCARD));
            List<VirtioPciDevice> devices = new ArrayList<>();
            for (VirtioDevice engine : engines) {
                VirtioPciDevice d = new VirtioPciDevice(engine, mem, vm, gsis,
                        random.nextBoolean());
                int slot = segment.addDevice(d, OptionalInt.empty());
                // Memory space and bus master on, as firmware leaves them; the fuzz may turn
                // them off again through the command register.
                mmio.write(segment.ecamBase() + ((long) slot << 15) + PCI_COMMAND, 2,
                        PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
                devices.add(d);
            }
            List<long[]> bars = new ArrayList<>();
            for (VirtioPciDevice d : devices) {
                bars.add(new long[] {d.configSpace().barAddress(0),
                        VirtioPciDevice.CAPABILITY_BAR_SIZE});
            }

            long[] value = new long[1];
            for (int i = 0; i < OPERATIONS; i++) {
                int size = 1 << random.nextInt(4);
                long v = random.nextInt(3) == 0 ? random.nextLong()
                        : INTERESTING[random.nextInt(INTERESTING.length)];
                boolean write = random.nextInt(3) != 0;
                switch (random.nextInt(6)) {
                    case 0, 1 -> {
                        // 0xCF8 then 0xCFC..0xCFF: bus 0, a function that exists or not.
                        int device = random.nextInt(5);
                        int register = random.nextInt(64) * 4;
                        pio.write(0xCF8, 4, 0x8000_0000L | device << 11 | register);
                        int port = 0xCFC + random.nextInt(4);
                        if (write) {
                            pio.write(port, Math.min(size, 4), v);
                        } else {
                            pio.read(port, Math.min(size, 4), value);
                        }
                    }
                    case 2 -> {
                        long addr = segment.ecamBase() + (random.nextInt(5) << 15)
                                + random.nextInt(4096);
                        if (write) {
                            mmio.write(addr, size, v);
                        } else {
                            mmio.read(addr, size, value);
                        }
                    }
                    default -> {
                        // Somewhere in a BAR, most often in the common configuration.
                        long[] bar = bars.get(random.nextInt(bars.size()));
                        long offset = random.nextInt(2) == 0
                                ? random.nextInt((int) VirtioPciDevice.COMMON_CONFIG_SIZE)
                                : random.nextLong(bar[1]);
                        if (write) {
                            mmio.write(bar[0] + offset, size, v);
                        } else {
                            mmio.read(bar[0] + offset, size, value);
                        }
                    }
                }
                if (i % 1000 == 999) {
                    garbageBringUp(random, mem, devices.get(random.nextInt(devices.size())));
                    for (int f = 0; f < 4; f++) {
                        byte[] frame = new byte[random.nextInt(2000)];
                        random.nextBytes(frame);
                        try {
                            net.send(frame);
                        } catch (SyscallException e) {
                            // EAGAIN: the device is not reading; the guest gave it no buffers.
                        }
                    }
                }
                if (i % 5000 == 4999) {
                    // The BARs may have moved: follow them, as a driver rereads them.
                    for (int d = 0; d < devices.size(); d++) {
                        bars.get(d)[0] = devices.get(d).configSpace().barAddress(0);
                    }
                }
            }
            for (VirtioPciDevice d : devices) {
                d.close();
            }
            net.close();
            assertEquals(List.of(), threadFailures, "device threads died");
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(previous);
        }
        assertTrue(Arrays.equals(original, Files.readAllBytes(image)),
                "a read-only image changed");
    }

    /**
     * A driver that does everything in order but with garbage: random features the device
     * offered, queues of random sizes at random places in RAM full of random bytes, kicked
     * while the guest keeps scribbling over them. The engines then walk garbage chains.
     */
    private static void garbageBringUp(Random random, GuestMemory mem, VirtioPciDevice d)
            throws InterruptedException {
        VirtioPciDriver driver = new VirtioPciDriver(d);
        long features = (driver.deviceFeatures() & random.nextLong())
                | Virtio.bit(Virtio.VIRTIO_F_VERSION_1);
        if (!driver.negotiate(features)) {
            return;
        }
        if (random.nextBoolean()) {
            driver.enableMsix(2);
        }
        int queues = 1 + random.nextInt(4);
        for (int q = 0; q < queues; q++) {
            driver.common(VirtioPciDevice.VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
            int size = 1 << random.nextInt(5);
            driver.common(VirtioPciDevice.VIRTIO_PCI_COMMON_Q_SIZE, 2, size);
            driver.common(VirtioPciDevice.VIRTIO_PCI_COMMON_Q_MSIX, 2, random.nextInt(3));
            long[] rings = new long[3];
            int[] registers = {VirtioPciDevice.VIRTIO_PCI_COMMON_Q_DESCLO,
                VirtioPciDevice.VIRTIO_PCI_COMMON_Q_AVAILLO,
                VirtioPciDevice.VIRTIO_PCI_COMMON_Q_USEDLO};
            for (int r = 0; r < 3; r++) {
                rings[r] = random.nextInt(RAM - 4096) & ~15;
                driver.common(registers[r], 4, rings[r]);
                driver.common(registers[r] + 4, 4, 0);
            }
            if (random.nextBoolean()) {
                plausibleChains(random, mem, size, rings[0], rings[1]);
            }
            driver.common(VirtioPciDevice.VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
        }
        driver.addStatus(Virtio.VIRTIO_CONFIG_S_DRIVER_OK);
        byte[] scribble = new byte[4096];
        for (int k = 0; k < 8; k++) {
            if (random.nextInt(4) == 0) {
                random.nextBytes(scribble);
                mem.write(random.nextInt(RAM - scribble.length), scribble);
            }
            driver.notify(random.nextInt(queues));
        }
        Thread.sleep(5);
    }

    /**
     * Rings that pass the first checks (a small available index, heads inside the table) with
     * descriptors that do not: wild addresses and lengths, loops, indirect tables anywhere.
     */
    private static void plausibleChains(Random random, GuestMemory mem, int size, long desc,
            long avail) {
        for (int i = 0; i < size; i++) {
            long d = desc + 16L * i;
            long addr = random.nextInt(4) == 0 ? INTERESTING[random.nextInt(INTERESTING.length)]
                    : random.nextInt(RAM);
            int len = random.nextInt(4) == 0 ? (int) INTERESTING[random.nextInt(
                    INTERESTING.length)] : random.nextInt(1024);
            mem.writeLong(d, addr);
            mem.writeInt(d + 8, len);
            mem.writeShort(d + 12, (short) random.nextInt(8));
            mem.writeShort(d + 14, (short) random.nextInt(size + 2));
        }
        int entries = 1 + random.nextInt(size);
        for (int i = 0; i < entries; i++) {
            mem.writeShort(avail + 4 + 2L * i, (short) random.nextInt(size + 1));
        }
        mem.writeShort(avail, (short) random.nextInt(2));
        mem.writeShort(avail + 2, (short) entries);
    }

    @Test
    void theHarnessReachesTheDevices() throws Exception {
        // Guards the fuzz above against testing nothing: a driver bring-up through the same
        // buses must find the function and set its status.
        try (TestGuestMemory ram = TestGuestMemory.shared(RAM)) {
            FakeVm vm = new FakeVm();
            Bus mmio = new Bus("mmio");
            PciSegment segment = PciSegment.createDefault(mmio, MMIO64_START, MMIO64_END);
            VirtioPciDevice d = new VirtioPciDevice(new VirtioRng(VirtioRng.DEFAULT_SOURCE),
                    ram.memory(), vm, new GsiAllocator(), false);
            int slot = segment.addDevice(d, OptionalInt.empty());
            mmio.register(segment.ecamBase(), segment.ecamSize(), segment.configMmio(), "ecam");
            mmio.write(segment.ecamBase() + ((long) slot << 15) + PCI_COMMAND, 2,
                    PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
            long bar = d.configSpace().barAddress(0);
            assertTrue(bar != 0);
            mmio.write(bar + VirtioPciDevice.VIRTIO_PCI_COMMON_STATUS, 1, 1);
            assertEquals(1, d.status());
            d.close();
        }
    }
}
