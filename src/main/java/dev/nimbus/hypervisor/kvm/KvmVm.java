package dev.nimbus.hypervisor.kvm;

import static dev.nimbus.hypervisor.kvm.KvmIoctls.*;
import static dev.nimbus.hypervisor.kvm.KvmStructs.*;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.nimbus.hypervisor.HypervisorException;
import dev.nimbus.hypervisor.Vcpu;
import dev.nimbus.hypervisor.Vm;
import dev.nimbus.sys.Linux;
import dev.nimbus.sys.SyscallException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.TreeMap;

/**
 * A KVM VM with the in-kernel irqchip.
 *
 * <p>Why in-kernel (KVM_CREATE_IRQCHIP) rather than a split irqchip with a user-space I/O APIC:
 * the kernel's I/O APIC handles end-of-interrupt and level-triggered re-assertion without an exit
 * to the VMM, so a legacy interrupt costs no extra round trip, and there is no I/O APIC model in
 * Nimbus to get wrong. The guest sees the same machine either way (I/O APIC at 0xFEC00000, 24
 * pins, local APICs at 0xFEE00000). The price is a larger kernel attack surface, and the PIC
 * exists too, though an ACPI hardware-reduced guest never uses it.
 */
final class KvmVm implements Vm {
    /** Where KVM puts the three-page real-mode TSS it needs on Intel; unused guest addresses. */
    private static final long KVM_TSS_ADDRESS = 0xFFFB_D000L;
    private static final int KVM_IRQCHIP_PIC_MASTER = 0;
    private static final int KVM_IRQCHIP_PIC_SLAVE = 1;
    private static final int KVM_IRQCHIP_IOAPIC = 2;
    private static final int IOAPIC_PINS = 24;

    private final int fd;
    private final int vcpuMmapSize;
    private final Arena arena = Arena.ofShared();
    private final Map<Integer, long[]> msiRoutes = new TreeMap<>();

    private KvmVm(int fd, int vcpuMmapSize) {
        this.fd = fd;
        this.vcpuMmapSize = vcpuMmapSize;
    }

    static KvmVm create(int fd, int vcpuMmapSize) throws HypervisorException {
        KvmVm vm = new KvmVm(fd, vcpuMmapSize);
        try {
            Linux.ioctl(fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDRESS, "ioctl KVM_SET_TSS_ADDR");
            Linux.ioctl(fd, KVM_CREATE_IRQCHIP, 0, "ioctl KVM_CREATE_IRQCHIP");
        } catch (SyscallException e) {
            vm.close();
            throw new HypervisorException("Cannot set up the VM's interrupt controller", e);
        }
        return vm;
    }

    @Override
    public void setUserMemoryRegion(int slot, long gpa, long size, long hva)
            throws HypervisorException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(STRUCT_KVM_USERSPACE_MEMORY_REGION);
            s.set(JAVA_INT, 0, slot);
            s.set(JAVA_INT, 4, 0);
            s.set(JAVA_LONG, 8, gpa);
            s.set(JAVA_LONG, 16, size);
            s.set(JAVA_LONG, 24, hva);
            Linux.ioctl(fd, KVM_SET_USER_MEMORY_REGION, s, "ioctl KVM_SET_USER_MEMORY_REGION");
        } catch (SyscallException e) {
            throw new HypervisorException(String.format(
                    "Cannot map guest memory slot=%d gpa=0x%x size=0x%x", slot, gpa, size), e);
        }
    }

    @Override
    public Vcpu createVcpu(int id) throws HypervisorException {
        int vcpuFd;
        try {
            vcpuFd = (int) Linux.ioctl(fd, KVM_CREATE_VCPU, id, "ioctl KVM_CREATE_VCPU");
        } catch (SyscallException e) {
            throw new HypervisorException("Cannot create vCPU " + id, e);
        }
        return KvmVcpu.create(vcpuFd, id, vcpuMmapSize, arena);
    }

    @Override
    public void setIrqLine(int gsi, boolean level) throws HypervisorException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(STRUCT_KVM_IRQ_LEVEL);
            s.set(JAVA_INT, 0, gsi);
            s.set(JAVA_INT, 4, level ? 1 : 0);
            Linux.ioctl(fd, KVM_IRQ_LINE, s, "ioctl KVM_IRQ_LINE");
        } catch (SyscallException e) {
            throw new HypervisorException("Cannot set interrupt line " + gsi, e);
        }
    }

    private void ioeventfd(int eventfd, long addr, int len, boolean pio, Long datamatch,
            boolean deassign) throws HypervisorException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(STRUCT_KVM_IOEVENTFD);
            int flags = (pio ? KVM_IOEVENTFD_FLAG_PIO : 0)
                    | (datamatch != null ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0)
                    | (deassign ? KVM_IOEVENTFD_FLAG_DEASSIGN : 0);
            s.set(JAVA_LONG, 0, datamatch != null ? datamatch : 0L);
            s.set(JAVA_LONG, 8, addr);
            s.set(JAVA_INT, 16, len);
            s.set(JAVA_INT, 20, eventfd);
            s.set(JAVA_INT, 24, flags);
            Linux.ioctl(fd, KVM_IOEVENTFD, s, "ioctl KVM_IOEVENTFD");
        } catch (SyscallException e) {
            throw new HypervisorException(String.format(
                    "Cannot %s ioeventfd at 0x%x len=%d", deassign ? "remove" : "add", addr, len), e);
        }
    }

    @Override
    public void registerIoeventfd(int eventfd, long addr, int len, boolean pio, Long datamatch)
            throws HypervisorException {
        ioeventfd(eventfd, addr, len, pio, datamatch, false);
    }

    @Override
    public void unregisterIoeventfd(int eventfd, long addr, int len, boolean pio, Long datamatch)
            throws HypervisorException {
        ioeventfd(eventfd, addr, len, pio, datamatch, true);
    }

    private void irqfd(int eventfd, int gsi, int flags) throws HypervisorException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(STRUCT_KVM_IRQFD);
            s.set(JAVA_INT, 0, eventfd);
            s.set(JAVA_INT, 4, gsi);
            s.set(JAVA_INT, 8, flags);
            Linux.ioctl(fd, KVM_IRQFD, s, "ioctl KVM_IRQFD");
        } catch (SyscallException e) {
            throw new HypervisorException("Cannot " + (flags != 0 ? "remove" : "add")
                    + " irqfd for gsi=" + gsi, e);
        }
    }

    @Override
    public void registerIrqfd(int eventfd, int gsi) throws HypervisorException {
        irqfd(eventfd, gsi, 0);
    }

    @Override
    public void unregisterIrqfd(int eventfd, int gsi) throws HypervisorException {
        irqfd(eventfd, gsi, KVM_IRQFD_FLAG_DEASSIGN);
    }

    @Override
    public synchronized void setMsiRoute(int gsi, long address, int data)
            throws HypervisorException {
        if (gsi < IOAPIC_PINS) {
            throw new IllegalArgumentException("GSI " + gsi + " belongs to the I/O APIC");
        }
        msiRoutes.put(gsi, new long[] {address, data});
        commitRoutes();
    }

    @Override
    public synchronized void removeMsiRoute(int gsi) throws HypervisorException {
        if (msiRoutes.remove(gsi) != null) {
            commitRoutes();
        }
    }

    /**
     * KVM_SET_GSI_ROUTING replaces the whole table, so it always carries the irqchip routes KVM
     * set up by default (GSI 0-15 to the PIC and I/O APIC, 16-23 to the I/O APIC) with the MSIs.
     */
    private void commitRoutes() throws HypervisorException {
        int n = IOAPIC_PINS + 15 + msiRoutes.size();
        long entrySize = STRUCT_KVM_IRQ_ROUTING_ENTRY.byteSize();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(8 + n * entrySize, 8);
            int i = 0;
            for (int gsi = 0; gsi < IOAPIC_PINS; gsi++) {
                i = irqchipRoute(s, i, gsi, KVM_IRQCHIP_IOAPIC, gsi);
                if (gsi < 16 && gsi != 2) {
                    i = irqchipRoute(s, i, gsi,
                            gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE, gsi % 8);
                }
            }
            for (Map.Entry<Integer, long[]> e : msiRoutes.entrySet()) {
                long o = 8 + i * entrySize;
                long addr = e.getValue()[0];
                s.set(JAVA_INT, o, e.getKey());
                s.set(JAVA_INT, o + 4, KVM_IRQ_ROUTING_MSI);
                s.set(JAVA_INT, o + 16, (int) addr);
                s.set(JAVA_INT, o + 20, (int) (addr >>> 32));
                s.set(JAVA_INT, o + 24, (int) e.getValue()[1]);
                i++;
            }
            s.set(JAVA_INT, 0, i);
            Linux.ioctl(fd, KVM_SET_GSI_ROUTING, s, "ioctl KVM_SET_GSI_ROUTING");
        } catch (SyscallException e) {
            throw new HypervisorException("Cannot update interrupt routing", e);
        }
    }

    private static int irqchipRoute(MemorySegment s, int i, int gsi, int chip, int pin) {
        long o = 8 + i * STRUCT_KVM_IRQ_ROUTING_ENTRY.byteSize();
        s.set(JAVA_INT, o, gsi);
        s.set(JAVA_INT, o + 4, KVM_IRQ_ROUTING_IRQCHIP);
        s.set(JAVA_INT, o + 16, chip);
        s.set(JAVA_INT, o + 20, pin);
        return i + 1;
    }

    @Override
    public void signalMsi(long address, int data) throws HypervisorException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(STRUCT_KVM_MSI);
            s.set(JAVA_INT, 0, (int) address);
            s.set(JAVA_INT, 4, (int) (address >>> 32));
            s.set(JAVA_INT, 8, data);
            Linux.ioctl(fd, KVM_SIGNAL_MSI, s, "ioctl KVM_SIGNAL_MSI");
        } catch (SyscallException e) {
            throw new HypervisorException("Cannot signal MSI", e);
        }
    }

    @Override
    public long getClock() throws HypervisorException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(STRUCT_KVM_CLOCK_DATA);
            Linux.ioctl(fd, KVM_GET_CLOCK, s, "ioctl KVM_GET_CLOCK");
            return s.get(JAVA_LONG, 0);
        } catch (SyscallException e) {
            throw new HypervisorException("Cannot read the guest clock", e);
        }
    }

    @Override
    public void setClock(long ns) throws HypervisorException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(STRUCT_KVM_CLOCK_DATA);
            s.set(JAVA_LONG, 0, ns);
            Linux.ioctl(fd, KVM_SET_CLOCK, s, "ioctl KVM_SET_CLOCK");
        } catch (SyscallException e) {
            throw new HypervisorException("Cannot set the guest clock", e);
        }
    }

    @Override
    public void close() {
        Linux.close(fd);
        arena.close();
    }
}
