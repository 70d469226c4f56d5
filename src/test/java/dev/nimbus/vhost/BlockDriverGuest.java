package dev.nimbus.vhost;

import dev.nimbus.devices.Bus;
import dev.nimbus.devices.pci.GsiAllocator;
import dev.nimbus.devices.pci.PciSegment;
import dev.nimbus.devices.virtio.VirtioDevice;
import dev.nimbus.devices.virtio.VirtioPciDevice;
import dev.nimbus.devices.virtio.Virtqueue;
import dev.nimbus.hypervisor.Segment;
import dev.nimbus.hypervisor.SpecialRegisters;
import dev.nimbus.hypervisor.StandardRegisters;
import dev.nimbus.hypervisor.Vcpu;
import dev.nimbus.hypervisor.VcpuExit;
import dev.nimbus.hypervisor.VcpuExitHandler;
import dev.nimbus.hypervisor.Vm;
import dev.nimbus.hypervisor.kvm.Kvm;
import dev.nimbus.memory.GuestMemory;
import dev.nimbus.memory.GuestRegion;
import java.util.HexFormat;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A tiny guest on real KVM that drives one virtio-blk request through the VMM's virtio-pci
 * transport, the way VirtioRngGuestIT drives the rng: it enables the PCI function and MSI-X,
 * negotiates VIRTIO_F_VERSION_1, sets up queue 0 (16 entries), notifies it and halts until an
 * MSI arrives, then powers off. A back-end may send an interrupt before the request is done
 * (qemu-storage-daemon does when a ring starts), so the host then waits for the used index. The request (a header, one 512-byte data buffer and a status
 * byte) is in guest memory before the guest starts. Everything the guest touches goes through
 * the device under test: with a vhost-user front-end, the notify is a kick the back-end reads
 * straight from KVM's ioeventfd, and the MSI comes from the back-end's call.
 *
 * <p>Guest memory is a shared memfd, as {@code --memory shared=on} makes it.
 */
final class BlockDriverGuest {
    static final long BAR0 = 0xC000_0000L;
    static final long DESC = 0x10000;
    static final long AVAIL = 0x11000;
    static final long USED = 0x12000;
    static final long HEADER = 0x13000;
    static final long DATA = 0x13200;
    static final long STATUS = 0x13400;
    static final long DONE_FLAG = 0x14000;
    static final int SECTOR = 512;
    static final int VIRTIO_BLK_T_IN = 0;
    static final int VIRTIO_BLK_T_OUT = 1;

    /**
     * The code of VirtioRngGuestIT (see there for the source), flat 32-bit at 0x1000. It
     * assumes the MSI-X capability at 0x88; {@link #code} moves that to where a device with a
     * configuration space has it.
     */
    private static final String CODE = ""
            + "66baf80cb804080080ef66bafc0c66b8060066ef66baf80cb888080080ef66bafe0c66b8008066ef"
            + "bb000000c0c705f000e0feff010000c783008000000000e0fec7830480000000000000c783088000"
            + "0030000000c7830c80000000000000c6431401c6431403c7430801000000c7430c01000000c64314"
            + "0b66c74316000066c74318100066c7431a0000c7432000000100c7432400000000c7432800100100"
            + "c7432c00000000c7433000200100c743340000000066c7431c0100c643140f66c783006000000000"
            + "fa803d00400100017404fbf4ebf266ba0006b034eef4";
    private static final String HANDLER = ""
            + "66baf803b049eec705b000e0fe00000000c6050040010001b8c8100000ffe0";

    /** What a run saw. */
    record Result(String uart, List<Long> mmioWrites, int usedIdx, int usedLen, int status,
            byte[] data) {}

    private BlockDriverGuest() {}

    /**
     * Runs one request of {@code type} for {@code sector}; {@code data} is what an OUT request
     * writes (ignored for IN). {@code device} makes the engine for the guest's memory.
     */
    static Result run(Function<GuestMemory, VirtioDevice> device, int type, long sector,
            byte[] data) throws Exception {
        List<Long> mmioWrites = new CopyOnWriteArrayList<>();
        StringBuilder uart = new StringBuilder();
        CompletableFuture<Void> poweredOff = new CompletableFuture<>();
        try (Kvm kvm = Kvm.open();
                Vm vm = kvm.createVm();
                GuestMemory mem = GuestMemory.create(List.<long[]>of(new long[] {0, 2 << 20}),
                        "vhost-blk-guest")) {
            GuestRegion r = mem.regions().get(0);
            vm.setUserMemoryRegion(0, r.gpa(), r.size(), r.hva());
            Bus pio = new Bus("pio");
            Bus mmio = new Bus("mmio");
            PciSegment segment = PciSegment.createDefault(mmio, 0x1_0000_0000L,
                    0x2_0000_0000L);
            pio.register(PciSegment.PCI_CONFIG_IO_PORT, PciSegment.PCI_CONFIG_IO_PORT_SIZE,
                    segment.configIo(), "pci-config-io");
            mmio.register(segment.ecamBase(), segment.ecamSize(), segment.configMmio(), "ecam");
            VirtioPciDevice pci = new VirtioPciDevice(device.apply(mem), mem, vm,
                    new GsiAllocator(), false);
            int slot = segment.addDevice(pci, OptionalInt.empty());
            if (pci.configSpace().barAddress(0) != BAR0) {
                throw new AssertionError("BAR 0 not where the guest code expects it");
            }
            load(mem, msixCapability(pci), type, sector, data);

            VcpuExitHandler io = new VcpuExitHandler() {
                @Override
                public long pioRead(int port, int size) {
                    long[] v = new long[1];
                    return pio.read(port, size, v) ? v[0] : -1L;
                }

                @Override
                public void pioWrite(int port, int size, long value) {
                    if (port == 0x3F8) {
                        synchronized (uart) {
                            uart.append((char) value);
                        }
                    } else if (port == 0x600) {
                        poweredOff.complete(null);
                    } else {
                        pio.write(port, size, value);
                    }
                }

                @Override
                public long mmioRead(long gpa, int size) {
                    long[] v = new long[1];
                    return mmio.read(gpa, size, v) ? v[0] : -1L;
                }

                @Override
                public void mmioWrite(long gpa, int size, long value) {
                    mmioWrites.add(gpa);
                    mmio.write(gpa, size, value);
                }
            };
            Vcpu vcpu = vm.createVcpu(0);
            enterFlatProtectedMode(vcpu);
            CompletableFuture<VcpuExit> exit = new CompletableFuture<>();
            Thread t = Thread.ofPlatform().name("vcpu0").daemon().start(() -> {
                vcpu.bindToCurrentThread();
                try {
                    exit.complete(vcpu.run(io));
                } catch (Exception e) {
                    exit.completeExceptionally(e);
                }
            });
            try {
                poweredOff.get(20, TimeUnit.SECONDS);
            } finally {
                vcpu.kick();
                t.join(5000);
                vcpu.close();
            }
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (mem.readShort(USED + 2) == 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            Result result;
            synchronized (uart) {
                result = new Result(uart.toString(), List.copyOf(mmioWrites),
                        Short.toUnsignedInt(mem.readShort(USED + 2)), mem.readInt(USED + 8),
                        mem.readByte(STATUS) & 0xFF, mem.read(DATA, SECTOR));
            }
            segment.removeDevice(slot);
            pci.close();
            return result;
        }
    }

    /** The MSI-X capability's offset in configuration space. */
    private static int msixCapability(VirtioPciDevice pci) {
        int cap = pci.configSpace().read(0x34, 1);
        while (cap != 0) {
            if (pci.configSpace().read(cap, 1) == 0x11) {
                return cap;
            }
            cap = pci.configSpace().read(cap + 1, 1);
        }
        throw new AssertionError("no MSI-X capability");
    }

    private static void load(GuestMemory mem, int msixCap, int type, long sector, byte[] data) {
        HexFormat hex = HexFormat.of();
        byte[] code = hex.parseHex(CODE);
        // mov eax,0x80000888: the dword of configuration space holding Message Control.
        int at = CODE.indexOf("b888080080") / 2 + 1;
        int dword = (msixCap + 2) & ~3;
        if ((msixCap + 2) % 4 != 2) {
            throw new AssertionError("guest code writes Message Control at port 0xcfe");
        }
        code[at] = (byte) dword;
        mem.write(0x1000, code);
        mem.write(0x1200, hex.parseHex(HANDLER));
        mem.writeLong(0x500, 0);
        mem.writeLong(0x508, 0x00CF_9B00_0000_FFFFL);
        mem.writeLong(0x510, 0x00CF_9300_0000_FFFFL);
        long gate = 0x3000 + 0x30 * 8;
        mem.writeShort(gate, (short) 0x1200);
        mem.writeShort(gate + 2, (short) 0x08);
        mem.writeByte(gate + 4, (byte) 0);
        mem.writeByte(gate + 5, (byte) 0x8E);
        mem.writeShort(gate + 6, (short) 0);
        // struct virtio_blk_req (virtio 1.2, 5.2.6): header, data, status.
        mem.writeInt(HEADER, type);
        mem.writeInt(HEADER + 4, 0);
        mem.writeLong(HEADER + 8, sector);
        if (type == VIRTIO_BLK_T_OUT) {
            mem.write(DATA, data);
        }
        mem.writeByte(STATUS, (byte) 0xFF);
        int next = Virtqueue.VIRTQ_DESC_F_NEXT;
        int write = Virtqueue.VIRTQ_DESC_F_WRITE;
        desc(mem, 0, HEADER, 16, next, 1);
        desc(mem, 1, DATA, SECTOR, next | (type == VIRTIO_BLK_T_IN ? write : 0), 2);
        desc(mem, 2, STATUS, 1, write, 0);
        mem.writeShort(AVAIL + 4, (short) 0);
        mem.writeShort(AVAIL + 2, (short) 1);
    }

    private static void desc(GuestMemory mem, int i, long addr, int len, int flags, int next) {
        long d = DESC + 16L * i;
        mem.writeLong(d, addr);
        mem.writeInt(d + 8, len);
        mem.writeShort(d + 12, (short) flags);
        mem.writeShort(d + 14, (short) next);
    }

    private static void enterFlatProtectedMode(Vcpu vcpu) throws Exception {
        SpecialRegisters s = vcpu.getSregs();
        Segment code = new Segment(0, 0xFFFF_FFFF, 0x08, 0xB, 1, 0, 1, 1, 0, 1, 0, 0);
        Segment data = new Segment(0, 0xFFFF_FFFF, 0x10, 0x3, 1, 0, 1, 1, 0, 1, 0, 0);
        s.cs = code;
        s.ds = data;
        s.es = data;
        s.fs = data;
        s.gs = data;
        s.ss = data;
        s.gdtBase = 0x500;
        s.gdtLimit = 23;
        s.idtBase = 0x3000;
        s.idtLimit = 0x30 * 8 + 7;
        s.cr0 |= 1;
        vcpu.setSregs(s);
        StandardRegisters regs = new StandardRegisters();
        regs.rip = 0x1000;
        regs.rsp = 0x8000;
        regs.rflags = 2;
        vcpu.setRegs(regs);
    }
}
