package dev.nimbus.devices.virtio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.devices.Bus;
import dev.nimbus.devices.pci.GsiAllocator;
import dev.nimbus.devices.pci.PciSegment;
import dev.nimbus.devices.virtio.rng.VirtioRng;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A guest on real KVM drives virtio-rng the way a driver does: enables the function through
 * ports 0xCF8/0xCFC, programs MSI-X and the common configuration through BAR 0, notifies the
 * queue, halts until the MSI arrives, checks the used ring and powers off. The test checks that
 * the notify write never reached the VMM (KVM absorbed it through the ioeventfd), that the
 * interrupt handler ran (the irqfd and MSI route work) and that the guest's buffer holds the
 * entropy source's bytes.
 */
class VirtioRngGuestIT {
    private static final long BAR0 = 0xC000_0000L;
    private static final long DESC = 0x10000;
    private static final long AVAIL = 0x11000;
    private static final long USED = 0x12000;
    private static final long BUFFER = 0x13000;
    private static final int BUFFER_LEN = 64;

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
     * the wait loop. It does not
     * return with iret: KVM's instruction emulator (all this host's KVM-PVM has) handles iret in
     * real mode only.
     */
    private static final String HANDLER = ""
            + "66baf803b049eec705b000e0fe00000000c6050040010001b8c8100000ffe0";

    @TempDir
    Path dir;

    @Test
    void guestDrivesTheRngThroughIoeventfdAndMsix() throws Exception {
        byte[] entropy = new byte[BUFFER_LEN];
        for (int i = 0; i < entropy.length; i++) {
            entropy[i] = (byte) (0xA0 + i);
        }
        Path source = dir.resolve("entropy");
        Files.write(source, entropy);

        List<Long> mmioWrites = new CopyOnWriteArrayList<>();
        StringBuilder uart = new StringBuilder();
        CompletableFuture<Void> poweredOff = new CompletableFuture<>();

        try (Kvm kvm = Kvm.open();
                Vm vm = kvm.createVm();
                GuestMemory mem = GuestMemory.create(List.<long[]>of(new long[] {0, 2 << 20}),
                        "virtio-it")) {
            GuestRegion r = mem.regions().get(0);
            vm.setUserMemoryRegion(0, r.gpa(), r.size(), r.hva());
            loadGuest(mem);

            Bus pio = new Bus("pio");
            Bus mmio = new Bus("mmio");
            PciSegment segment = PciSegment.createDefault(mmio, 0x1_0000_0000L, 0x2_0000_0000L);
            pio.register(PciSegment.PCI_CONFIG_IO_PORT, PciSegment.PCI_CONFIG_IO_PORT_SIZE,
                    segment.configIo(), "pci-config-io");
            mmio.register(segment.ecamBase(), segment.ecamSize(), segment.configMmio(), "ecam");
            VirtioPciDevice pci = new VirtioPciDevice(new VirtioRng(source.toString()), mem, vm,
                    new GsiAllocator(), false);
            int slot = segment.addDevice(pci, OptionalInt.empty());
            assertEquals(1, slot);
            assertEquals(BAR0, pci.configSpace().barAddress(0), "the guest code assumes it");
            assertEquals(0x88, new VirtioPciDriver(pci).msixCap, "the guest code assumes it");

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
            assertInstanceOf(VcpuExit.Interrupted.class, exit.get(1, TimeUnit.SECONDS));

            long notify = VirtioPciDevice.notifyAddress(BAR0, 0);
            assertTrue(mmioWrites.contains(BAR0 + VirtioPciDevice.VIRTIO_PCI_COMMON_STATUS),
                    "common configuration writes do exit to the VMM");
            assertFalse(mmioWrites.contains(notify),
                    "the notify write was absorbed by the ioeventfd");
            synchronized (uart) {
                assertEquals("I", uart.toString(), "one MSI reached the guest's handler");
            }
            assertEquals(1, Short.toUnsignedInt(mem.readShort(USED + 2)));
            assertEquals(BUFFER_LEN, mem.readInt(USED + 8));
            assertArrayEquals(entropy, mem.read(BUFFER, BUFFER_LEN));
            assertEquals(0, pci.status() & Virtio.VIRTIO_CONFIG_S_NEEDS_RESET);
            segment.removeDevice(slot);
        }
    }

    private static void loadGuest(GuestMemory mem) {
        HexFormat hex = HexFormat.of();
        mem.write(0x1000, hex.parseHex(CODE));
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
        // The driver already placed one 64-byte writable buffer in the available ring.
        mem.writeLong(DESC, BUFFER);
        mem.writeInt(DESC + 8, BUFFER_LEN);
        mem.writeShort(DESC + 12, (short) Virtqueue.VIRTQ_DESC_F_WRITE);
        mem.writeShort(AVAIL + 4, (short) 0);
        mem.writeShort(AVAIL + 2, (short) 1);
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
