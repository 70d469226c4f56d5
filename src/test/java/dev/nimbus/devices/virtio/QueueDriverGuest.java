package dev.nimbus.devices.virtio;

import dev.nimbus.devices.Bus;
import dev.nimbus.devices.pci.GsiAllocator;
import dev.nimbus.devices.pci.PciSegment;
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
import java.util.function.Consumer;

/**
 * A tiny guest on real KVM that drives queue 0 of one virtio-pci device the way a driver does:
 * it enables the function through ports 0xCF8/0xCFC, programs MSI-X vector 0 and the common
 * configuration through BAR 0, negotiates VIRTIO_F_VERSION_1, sets up a 16-entry queue whose
 * descriptor chains the test has already placed, notifies it, halts until the MSI arrives and
 * powers off. Everything the guest touches goes through the device under test: the notify goes
 * to the transport's ioeventfd and the MSI comes through its irqfd, so the same guest serves the
 * built-in engines and a vhost-user front-end whose back-end reads the kick straight from KVM.
 */
public final class QueueDriverGuest {
    public static final long BAR0 = 0xC000_0000L;
    public static final long DESC = 0x10000;
    public static final long AVAIL = 0x11000;
    public static final long USED = 0x12000;
    /** Free guest memory for the test's buffers, below {@link #DONE_FLAG}. */
    public static final long BUFFERS = 0x13000;
    /** Set to 1 by the interrupt handler. */
    static final long DONE_FLAG = 0x14000;

    /**
     * Flat 32-bit code at 0x1000, assembled with GNU as (.code32, Intel syntax):
     * <pre>
     * mov dx,0xcf8; mov eax,0x80000804; out dx,eax      ; 00:01.0 command register
     * mov dx,0xcfc; mov ax,6; out dx,ax                 ; memory space + bus master
     * mov dx,0xcf8; mov eax,0x80000888; out dx,eax      ; dword holding MSI-X control (0x8a)
     * mov dx,0xcfe; mov ax,0x8000; out dx,ax            ; MSI-X enable
     * mov ebx,0xc0000000                                ; BAR 0
     * mov dword [0xfee000f0],0x1ff                      ; LAPIC software enable
     * mov dword [ebx+0x8000],0xfee00000                 ; vector 0: address
     * mov dword [ebx+0x8004],0
     * mov dword [ebx+0x8008],0x30                       ;           data: vector 0x30
     * mov dword [ebx+0x800c],0                          ;           unmask
     * mov byte [ebx+0x14],1; mov byte [ebx+0x14],3      ; ACKNOWLEDGE, DRIVER
     * mov dword [ebx+0x8],1; mov dword [ebx+0xc],1      ; VIRTIO_F_VERSION_1
     * mov byte [ebx+0x14],0xb                           ; FEATURES_OK
     * mov word [ebx+0x16],0; mov word [ebx+0x18],16     ; queue 0, size 16
     * mov word [ebx+0x1a],0                             ; MSI-X vector 0
     * mov dword [ebx+0x20],0x10000; mov dword [ebx+0x24],0
     * mov dword [ebx+0x28],0x11000; mov dword [ebx+0x2c],0
     * mov dword [ebx+0x30],0x12000; mov dword [ebx+0x34],0
     * mov word [ebx+0x1c],1; mov byte [ebx+0x14],0xf   ; enable, DRIVER_OK
     * mov word [ebx+0x6000],0                           ; notify queue 0
     * wait: cli; cmp byte [0x14000],1; je done; sti; hlt; jmp wait  ; until the MSI came
     * done: mov dx,0x600; mov al,0x34; out dx,al; hlt  ; ACPI power off
     * </pre>
     * {@link #load} patches the configuration dword of the second {@code mov eax} to where the
     * device under test has its MSI-X capability.
     */
    private static final String CODE = ""
            + "66baf80cb804080080ef66bafc0c66b8060066ef66baf80cb888080080ef66bafe0c66b8008066ef"
            + "bb000000c0c705f000e0feff010000c783008000000000e0fec7830480000000000000c783088000"
            + "0030000000c7830c80000000000000c6431401c6431403c7430801000000c7430c01000000c64314"
            + "0b66c74316000066c74318100066c7431a0000c7432000000100c7432400000000c7432800100100"
            + "c7432c00000000c7433000200100c743340000000066c7431c0100c643140f66c783006000000000"
            + "fa803d00400100017404fbf4ebf266ba0006b034eef4";

    /**
     * At 0x1200, the handler for vector 0x30: {@code mov dx,0x3f8; mov al,'I'; out dx,al;
     * mov dword [0xfee000b0],0 (EOI); mov byte [0x14000],1; mov eax,0x10c8; jmp eax} back to
     * the wait loop. It does not return with iret: KVM's instruction emulator (all this host's
     * KVM-PVM has) handles iret in real mode only.
     */
    private static final String HANDLER = ""
            + "66baf803b049eec705b000e0fe00000000c6050040010001b8c8100000ffe0";

    /** What one run left behind, looked at while the VM and the device still exist. */
    public record Run(GuestMemory mem, VirtioPciDevice pci, int slot, String uart,
            List<Long> mmioWrites) {}

    /** Makes the device engine for the guest's memory. */
    @FunctionalInterface
    public interface DeviceFactory {
        VirtioDevice create(GuestMemory mem) throws Exception;
    }

    /** Checks a run and returns what the caller needs from it. */
    @FunctionalInterface
    public interface Check<T> {
        T apply(Run run) throws Exception;
    }

    private QueueDriverGuest() {}

    /**
     * Builds a 2 MiB VM with {@code device} at 00:01.0, lets {@code chains} place descriptors
     * and available-ring entries for queue 0, runs the guest to power-off, waits for the used
     * ring to move (a back-end may interrupt before it completes a request: qemu-storage-daemon
     * does when a ring starts) and hands the result to {@code check}.
     */
    public static <T> T run(DeviceFactory device,
            Consumer<GuestMemory> chains, Check<T> check) throws Exception {
        List<Long> mmioWrites = new CopyOnWriteArrayList<>();
        StringBuilder uart = new StringBuilder();
        CompletableFuture<Void> poweredOff = new CompletableFuture<>();
        try (Kvm kvm = Kvm.open();
                Vm vm = kvm.createVm();
                GuestMemory mem = GuestMemory.create(List.<long[]>of(new long[] {0, 2 << 20}),
                        "queue-driver-guest")) {
            GuestRegion r = mem.regions().get(0);
            vm.setUserMemoryRegion(0, r.gpa(), r.size(), r.hva());
            Bus pio = new Bus("pio");
            Bus mmio = new Bus("mmio");
            PciSegment segment = PciSegment.createDefault(mmio, 0x1_0000_0000L,
                    0x2_0000_0000L);
            pio.register(PciSegment.PCI_CONFIG_IO_PORT, PciSegment.PCI_CONFIG_IO_PORT_SIZE,
                    segment.configIo(), "pci-config-io");
            mmio.register(segment.ecamBase(), segment.ecamSize(), segment.configMmio(), "ecam");
            VirtioPciDevice pci = new VirtioPciDevice(device.create(mem), mem, vm,
                    new GsiAllocator(), false);
            int slot = segment.addDevice(pci, OptionalInt.empty());
            if (pci.configSpace().barAddress(0) != BAR0) {
                throw new AssertionError("BAR 0 not where the guest code expects it");
            }
            load(mem, msixCapability(pci));
            chains.accept(mem);

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
            VcpuExit last = exit.get(1, TimeUnit.SECONDS);
            if (!(last instanceof VcpuExit.Interrupted)) {
                throw new AssertionError("vCPU left KVM_RUN for " + last + ", not the kick");
            }
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (mem.readShort(USED + 2) == 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            T result;
            synchronized (uart) {
                result = check.apply(
                        new Run(mem, pci, slot, uart.toString(), List.copyOf(mmioWrites)));
            }
            segment.removeDevice(slot);
            pci.close();
            return result;
        }
    }

    /** Writes descriptor {@code i} of queue 0. */
    public static void desc(GuestMemory mem, int i, long addr, int len, int flags, int next) {
        long d = DESC + 16L * i;
        mem.writeLong(d, addr);
        mem.writeInt(d + 8, len);
        mem.writeShort(d + 12, (short) flags);
        mem.writeShort(d + 14, (short) next);
    }

    /** Makes the chain starting at descriptor 0 the one entry of the available ring. */
    public static void offerFirstChain(GuestMemory mem) {
        mem.writeShort(AVAIL + 4, (short) 0);
        mem.writeShort(AVAIL + 2, (short) 1);
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

    private static void load(GuestMemory mem, int msixCap) {
        HexFormat hex = HexFormat.of();
        byte[] code = hex.parseHex(CODE);
        // mov eax,0x80000888: the dword of configuration space holding Message Control, which
        // the code then writes through port 0xcfe, the upper half of that dword.
        if ((msixCap + 2) % 4 != 2) {
            throw new AssertionError("guest code writes Message Control at port 0xcfe");
        }
        code[CODE.indexOf("b888080080") / 2 + 1] = (byte) ((msixCap + 2) & ~3);
        mem.write(0x1000, code);
        mem.write(0x1200, hex.parseHex(HANDLER));
        // GDT at 0x500: null, flat 32-bit code (0x08), flat data (0x10).
        mem.writeLong(0x500, 0);
        mem.writeLong(0x508, 0x00CF_9B00_0000_FFFFL);
        mem.writeLong(0x510, 0x00CF_9300_0000_FFFFL);
        // IDT at 0x3000: vector 0x30, 32-bit interrupt gate to 0x08:0x1200.
        long gate = 0x3000 + 0x30 * 8;
        mem.writeShort(gate, (short) 0x1200);
        mem.writeShort(gate + 2, (short) 0x08);
        mem.writeByte(gate + 4, (byte) 0);
        mem.writeByte(gate + 5, (byte) 0x8E);
        mem.writeShort(gate + 6, (short) 0);
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
