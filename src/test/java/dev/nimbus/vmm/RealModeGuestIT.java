package dev.nimbus.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.devices.Bus;
import dev.nimbus.devices.ConsoleOutput;
import dev.nimbus.devices.InterruptLine;
import dev.nimbus.devices.VmControl;
import dev.nimbus.devices.legacy.AcpiPowerControl;
import dev.nimbus.devices.legacy.Serial16550;
import dev.nimbus.hypervisor.Segment;
import dev.nimbus.hypervisor.SpecialRegisters;
import dev.nimbus.hypervisor.StandardRegisters;
import dev.nimbus.hypervisor.Vcpu;
import dev.nimbus.hypervisor.Vm;
import dev.nimbus.hypervisor.kvm.Kvm;
import dev.nimbus.memory.GuestMemory;
import dev.nimbus.memory.GuestRegion;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The smallest end-to-end check of the KVM bindings, the vCPU loop and two legacy devices: a
 * real-mode guest writes to the UART and powers off through the ACPI sleep control register.
 */
class RealModeGuestIT {
    // mov dx,0x3f8; mov al,'O'; out dx,al; mov al,'K'; out dx,al; mov dx,0x600; mov al,0x34;
    // out dx,al; hlt
    private static final byte[] CODE = {
        (byte) 0xBA, (byte) 0xF8, 0x03, (byte) 0xB0, 'O', (byte) 0xEE, (byte) 0xB0, 'K',
        (byte) 0xEE, (byte) 0xBA, 0x00, 0x06, (byte) 0xB0, 0x34, (byte) 0xEE, (byte) 0xF4
    };

    /** Runs {@link #CODE} in real mode at 0x1000 with {@code pio}'s devices until it ends the VM. */
    private static VmExitEvent runRealModeGuest(Bus pio, CompletableFuture<VmExitEvent> exit)
            throws Exception {
        try (Kvm kvm = Kvm.open();
                Vm vm = kvm.createVm();
                GuestMemory mem = GuestMemory.create(List.<long[]>of(new long[] {0, 1 << 20}), "test")) {
            assertTrue(kvm.supportedCpuid().size() > 5);
            GuestRegion r = mem.regions().get(0);
            vm.setUserMemoryRegion(0, r.gpa(), r.size(), r.hva());
            mem.write(0x1000, CODE);

            Vcpu vcpu = vm.createVcpu(0);
            SpecialRegisters s = vcpu.getSregs();
            Segment cs = s.cs;
            s.cs = new Segment(0, cs.limit(), 0, cs.type(), cs.present(), cs.dpl(), cs.db(),
                    cs.s(), cs.l(), cs.g(), cs.avl(), cs.unusable());
            vcpu.setSregs(s);
            StandardRegisters regs = new StandardRegisters();
            regs.rip = 0x1000;
            regs.rflags = 2;
            vcpu.setRegs(regs);

            CpuManager cpus = new CpuManager(vm, List.of(vcpu),
                    new IoDispatcher(pio, new Bus("mmio")), exit::complete);
            cpus.start();
            VmExitEvent event = exit.get(10, TimeUnit.SECONDS);
            cpus.stop();
            vcpu.close();
            return event;
        }
    }

    @Test
    void realModeGuestWritesToSerialAndPowersOff() throws Exception {
        ByteArrayOutputStream uart = new ByteArrayOutputStream();
        CompletableFuture<VmExitEvent> exit = new CompletableFuture<>();
        ConsoleOutput out = new ConsoleOutput() {
            @Override
            public void write(byte b) {
                synchronized (uart) {
                    uart.write(b);
                }
            }

            @Override
            public void close() {}
        };
        InterruptLine irq = new InterruptLine() {
            @Override
            public void trigger() {}

            @Override
            public void setLevel(boolean asserted) {}
        };
        VmControl control = new VmControl() {
            @Override
            public void requestPowerOff() {
                exit.complete(new VmExitEvent.PowerOff());
            }

            @Override
            public void requestReset() {
                exit.complete(new VmExitEvent.Reset());
            }
        };
        Bus pio = new Bus("pio");
        pio.register(0x3f8, 8, new Serial16550(irq, out), "serial");
        pio.register(AcpiPowerControl.BASE, AcpiPowerControl.LENGTH, new AcpiPowerControl(control), "acpi");

        assertInstanceOf(VmExitEvent.PowerOff.class, runRealModeGuest(pio, exit));
        synchronized (uart) {
            assertEquals("OK", uart.toString());
        }
    }

    /**
     * Regression: an Error thrown on a vCPU thread (seen as NoClassDefFoundError when the jar
     * was replaced under a running VMM) killed the thread silently and left the VMM waiting
     * forever. It must end the VM with a fatal event instead.
     */
    @Test
    void anErrorOnAVcpuThreadEndsTheVmInsteadOfHangingIt() throws Exception {
        Bus pio = new Bus("pio");
        pio.register(0x3f8, 8, new dev.nimbus.devices.BusDevice() {
            @Override
            public long read(long offset, int size) {
                return 0;
            }

            @Override
            public void write(long offset, int size, long value) {
                throw new AssertionError("device bug");
            }
        }, "broken");
        VmExitEvent event = runRealModeGuest(pio, new CompletableFuture<>());
        VmExitEvent.Fatal fatal = assertInstanceOf(VmExitEvent.Fatal.class, event);
        assertEquals("vCPU 0 stopped: device bug", fatal.message());
    }
}
