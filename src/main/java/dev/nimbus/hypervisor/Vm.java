package dev.nimbus.hypervisor;

/**
 * A virtual machine: its memory map, interrupt controller and vCPUs. The in-kernel irqchip
 * (local APICs, I/O APIC, PIC) is created with the VM.
 */
public interface Vm extends AutoCloseable {
    /** Maps {@code size} bytes of host memory at {@code hva} into the guest at {@code gpa}. */
    void setUserMemoryRegion(int slot, long gpa, long size, long hva) throws HypervisorException;

    Vcpu createVcpu(int id) throws HypervisorException;

    /** Drives I/O APIC input {@code gsi}. */
    void setIrqLine(int gsi, boolean level) throws HypervisorException;

    /**
     * Makes a guest write of {@code len} bytes at {@code addr} (an I/O port when {@code pio})
     * signal {@code eventfd} inside the kernel instead of exiting to the VMM.
     */
    void registerIoeventfd(int eventfd, long addr, int len, boolean pio, Long datamatch)
            throws HypervisorException;

    void unregisterIoeventfd(int eventfd, long addr, int len, boolean pio, Long datamatch)
            throws HypervisorException;

    /** Makes a write to {@code eventfd} inject interrupt {@code gsi} without a VMM exit. */
    void registerIrqfd(int eventfd, int gsi) throws HypervisorException;

    void unregisterIrqfd(int eventfd, int gsi) throws HypervisorException;

    /**
     * Routes {@code gsi} to an MSI message. Routes added here are kept together with the
     * I/O APIC's own; the whole table is handed to the kernel on each change.
     */
    void setMsiRoute(int gsi, long address, int data) throws HypervisorException;

    void removeMsiRoute(int gsi) throws HypervisorException;

    /** Injects one MSI directly. */
    void signalMsi(long address, int data) throws HypervisorException;

    /** The guest's kvmclock in ns, for keeping time across pause and snapshot. */
    long getClock() throws HypervisorException;

    void setClock(long ns) throws HypervisorException;

    @Override
    void close();
}
