package dev.nimbus.devices.pci;

import dev.nimbus.hypervisor.HypervisorException;
import dev.nimbus.hypervisor.Vm;
import dev.nimbus.log.RateLimitedLog;
import dev.nimbus.sys.EventFd;
import dev.nimbus.sys.SyscallException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * A function's MSI-X state: the vector table and Pending Bit Array a BAR exposes, and the enable
 * and function-mask bits of the capability's Message Control (PCI Local Bus Spec 3.0, 6.8.2).
 *
 * <p>Each vector, once the guest first unmasks it, gets a GSI from the {@link GsiAllocator}, a KVM
 * MSI route to the address and data the guest programmed ({@link Vm#setMsiRoute}) and an irqfd:
 * {@link #trigger} then costs one eventfd write, and KVM injects the interrupt without a VMM exit.
 * A vector that is masked (by its own mask bit or by the function mask) sets its pending bit
 * instead, and is delivered when unmasked, as 6.8.2.9 requires.
 *
 * <p>Thread-safe: table accesses come from vCPUs, triggers from device threads.
 */
public final class MsixTable implements AutoCloseable {
    private static final Logger LOG = System.getLogger(MsixTable.class.getName());
    private static final RateLimitedLog GUEST_ERRORS = new RateLimitedLog(LOG);

    // Capability layout, include/uapi/linux/pci_regs.h (offsets from the capability start).
    public static final int PCI_MSIX_FLAGS = 2;
    public static final int PCI_MSIX_FLAGS_QSIZE = 0x07FF;
    public static final int PCI_MSIX_FLAGS_MASKALL = 0x4000;
    public static final int PCI_MSIX_FLAGS_ENABLE = 0x8000;
    public static final int PCI_MSIX_TABLE = 4;
    public static final int PCI_MSIX_PBA = 8;
    public static final int PCI_MSIX_TABLE_BIR = 0x7;
    /** Capability length, with the id and next bytes. */
    public static final int PCI_CAP_MSIX_SIZEOF = 12;

    // Table entry layout.
    public static final int PCI_MSIX_ENTRY_SIZE = 16;
    public static final int PCI_MSIX_ENTRY_LOWER_ADDR = 0;
    public static final int PCI_MSIX_ENTRY_UPPER_ADDR = 4;
    public static final int PCI_MSIX_ENTRY_DATA = 8;
    public static final int PCI_MSIX_ENTRY_VECTOR_CTRL = 12;
    public static final int PCI_MSIX_ENTRY_CTRL_MASKBIT = 1;

    /** A Table Size field of 11 bits allows up to 2048 vectors. */
    public static final int MAX_VECTORS = 2048;

    private final String name;
    private final Vm vm;
    private final GsiAllocator gsis;
    private final int count;
    private final int[] addressLow;
    private final int[] addressHigh;
    private final int[] data;
    private final int[] vectorControl;
    private final long[] pendingBits;
    private final Route[] routes;
    private boolean enabled;
    private boolean functionMasked;
    private long droppedWhileDisabled;

    /** Where a vector's interrupts go once routed. */
    private static final class Route {
        int gsi = -1;
        EventFd irqfd;
        boolean programmed;
        long address;
        int data;
        boolean broken;
        /** The irqfd was handed to another process, which writes it directly. */
        boolean exported;
        /** Whether KVM listens on the irqfd now (an exported one only while deliverable). */
        boolean registered;
    }

    /**
     * An MSI-X table of {@code count} vectors, all masked, with MSI-X disabled (the state after
     * reset).
     *
     * @param name the owning device, for logs
     */
    public MsixTable(String name, int count, Vm vm, GsiAllocator gsis) {
        if (count < 1 || count > MAX_VECTORS) {
            throw new IllegalArgumentException("Invalid MSI-X vector count=" + count);
        }
        this.name = name;
        this.vm = vm;
        this.gsis = gsis;
        this.count = count;
        this.addressLow = new int[count];
        this.addressHigh = new int[count];
        this.data = new int[count];
        this.vectorControl = new int[count];
        this.pendingBits = new long[(count + 63) / 64];
        this.routes = new Route[count];
        java.util.Arrays.fill(vectorControl, PCI_MSIX_ENTRY_CTRL_MASKBIT);
    }

    public int vectorCount() {
        return count;
    }

    /** Bytes of BAR space the table needs. */
    public long tableSize() {
        return (long) count * PCI_MSIX_ENTRY_SIZE;
    }

    /** Bytes of BAR space the PBA needs: one bit per vector, in whole qwords. */
    public long pbaSize() {
        return pendingBits.length * 8L;
    }

    /**
     * The capability's bytes after id and next: Message Control, Table Offset/BIR and PBA
     * Offset/BIR; for {@link PciConfigSpace#addCapability}.
     */
    public byte[] capabilityBody(int tableBar, long tableOffset, int pbaBar, long pbaOffset) {
        byte[] b = new byte[PCI_CAP_MSIX_SIZEOF - 2];
        putLe(b, PCI_MSIX_FLAGS - 2, (count - 1) & PCI_MSIX_FLAGS_QSIZE, 2);
        putLe(b, PCI_MSIX_TABLE - 2, (int) tableOffset | tableBar, 4);
        putLe(b, PCI_MSIX_PBA - 2, (int) pbaOffset | pbaBar, 4);
        return b;
    }

    /** The guest may write only Enable and Function Mask in Message Control. */
    public static byte[] capabilityWritableMask() {
        byte[] m = new byte[PCI_CAP_MSIX_SIZEOF - 2];
        m[PCI_MSIX_FLAGS - 2 + 1] = (byte) ((PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >>> 8);
        return m;
    }

    /** The guest wrote Message Control; the device passes the register's new value. */
    public synchronized void writeMessageControl(int value) {
        boolean[] before = deliverableVectors();
        enabled = (value & PCI_MSIX_FLAGS_ENABLE) != 0;
        functionMasked = (value & PCI_MSIX_FLAGS_MASKALL) != 0;
        for (int v = 0; v < count; v++) {
            if (!before[v] && deliverable(v)) {
                unmasked(v);
            } else if (before[v] && !deliverable(v)) {
                masked(v);
            }
        }
    }

    public synchronized boolean isEnabled() {
        return enabled;
    }

    public synchronized boolean isFunctionMasked() {
        return functionMasked;
    }

    public synchronized boolean isMasked(int vector) {
        return (vectorControl[vector] & PCI_MSIX_ENTRY_CTRL_MASKBIT) != 0;
    }

    public synchronized boolean isPending(int vector) {
        return (pendingBits[vector >>> 6] & (1L << vector)) != 0;
    }

    /** Triggers that found MSI-X disabled and so went nowhere (there is no INTx fallback). */
    public synchronized long droppedWhileDisabled() {
        return droppedWhileDisabled;
    }

    /** Reads {@code size} bytes at {@code offset} in the table. */
    public synchronized long readTable(long offset, int size) {
        long value = 0;
        for (int i = size - 1; i >= 0; i--) {
            value = value << 8 | tableByte(offset + i);
        }
        return value;
    }

    private int tableByte(long offset) {
        if (offset < 0 || offset >= tableSize()) {
            return 0;
        }
        int v = (int) (offset / PCI_MSIX_ENTRY_SIZE);
        int field = (int) (offset % PCI_MSIX_ENTRY_SIZE);
        int dword = switch (field & ~3) {
            case PCI_MSIX_ENTRY_LOWER_ADDR -> addressLow[v];
            case PCI_MSIX_ENTRY_UPPER_ADDR -> addressHigh[v];
            case PCI_MSIX_ENTRY_DATA -> data[v];
            default -> vectorControl[v];
        };
        return (dword >>> ((field & 3) * 8)) & 0xFF;
    }

    /**
     * Writes the table. The spec allows aligned dword and qword accesses only; anything else is
     * ignored.
     */
    public synchronized void writeTable(long offset, int size, long value) {
        if (offset < 0 || offset + size > tableSize() || (size != 4 && size != 8)
                || offset % size != 0) {
            GUEST_ERRORS.log(Level.DEBUG, () -> String.format(
                    "%s: ignored MSI-X table write offset=0x%x size=%d", name, offset, size));
            return;
        }
        writeTableDword(offset, (int) value);
        if (size == 8) {
            writeTableDword(offset + 4, (int) (value >>> 32));
        }
    }

    private void writeTableDword(long offset, int value) {
        int v = (int) (offset / PCI_MSIX_ENTRY_SIZE);
        boolean before = deliverable(v);
        switch ((int) (offset % PCI_MSIX_ENTRY_SIZE)) {
            case PCI_MSIX_ENTRY_LOWER_ADDR -> addressLow[v] = value & ~3;
            case PCI_MSIX_ENTRY_UPPER_ADDR -> addressHigh[v] = value;
            case PCI_MSIX_ENTRY_DATA -> data[v] = value;
            default -> vectorControl[v] = value & PCI_MSIX_ENTRY_CTRL_MASKBIT;
        }
        if (!before && deliverable(v)) {
            unmasked(v);
        } else if (before && !deliverable(v)) {
            masked(v);
        } else if (deliverable(v)) {
            // The guest changed an unmasked entry, which 6.8.2.9 leaves undefined; follow it.
            route(v);
        }
    }

    /** Reads {@code size} bytes at {@code offset} in the Pending Bit Array (read-only). */
    public synchronized long readPba(long offset, int size) {
        long value = 0;
        for (int i = size - 1; i >= 0; i--) {
            long o = offset + i;
            int b = o >= 0 && o < pbaSize()
                    ? (int) (pendingBits[(int) (o / 8)] >>> ((o % 8) * 8)) & 0xFF
                    : 0;
            value = value << 8 | b;
        }
        return value;
    }

    /**
     * Sends vector {@code vector}'s message, or marks it pending when masked. Called from device
     * threads.
     */
    public synchronized void trigger(int vector) {
        if (vector < 0 || vector >= count) {
            return;
        }
        if (!enabled) {
            droppedWhileDisabled++;
            return;
        }
        if (functionMasked || isMasked(vector)) {
            pendingBits[vector >>> 6] |= 1L << vector;
            return;
        }
        send(vector);
    }

    private boolean deliverable(int v) {
        return enabled && !functionMasked
                && (vectorControl[v] & PCI_MSIX_ENTRY_CTRL_MASKBIT) == 0;
    }

    private boolean[] deliverableVectors() {
        boolean[] d = new boolean[count];
        for (int v = 0; v < count; v++) {
            d[v] = deliverable(v);
        }
        return d;
    }

    /**
     * The irqfd of vector {@code v}, for a device whose engine runs in another process (a
     * vhost-user back-end writes it as its call descriptor, and KVM injects the MSI without this
     * process). The vector keeps the masking rules of 6.8.2.9: while it is masked (or MSI-X is
     * disabled or function-masked) KVM stops listening on the irqfd, so writes wait in its
     * counter, and when it is unmasked KVM listens again and delivers what waited. The pending
     * bit does not show such waiting writes. Returns null if the vector cannot be routed.
     */
    public synchronized EventFd exportIrqfd(int v) {
        if (v < 0 || v >= count) {
            return null;
        }
        Route r = route(v);
        if (r == null) {
            return null;
        }
        r.exported = true;
        if (!deliverable(v)) {
            masked(v);
        }
        return r.irqfd;
    }

    /** Vector {@code v} stopped being deliverable: an exported irqfd stops reaching KVM. */
    private void masked(int v) {
        Route r = routes[v];
        if (r == null || !r.exported || !r.registered) {
            return;
        }
        try {
            vm.unregisterIrqfd(r.irqfd.fd(), r.gsi);
            r.registered = false;
        } catch (HypervisorException e) {
            LOG.log(Level.WARNING, () -> String.format(
                    "%s: cannot hold back MSI-X vector=%d while masked: %s", name, v,
                    e.getMessage()));
        }
    }

    /** Vector {@code v} just became deliverable: route it, then send what was pending. */
    private void unmasked(int v) {
        Route r0 = route(v);
        if (r0 != null && r0.exported && !r0.registered) {
            try {
                // KVM checks the eventfd when it starts listening: writes made while the vector
                // was masked are delivered now.
                vm.registerIrqfd(r0.irqfd.fd(), r0.gsi);
                r0.registered = true;
            } catch (HypervisorException e) {
                LOG.log(Level.WARNING, () -> String.format(
                        "%s: cannot deliver MSI-X vector=%d after unmask: %s", name, v,
                        e.getMessage()));
            }
        }
        long bit = 1L << v;
        if ((pendingBits[v >>> 6] & bit) != 0) {
            pendingBits[v >>> 6] &= ~bit;
            send(v);
        }
    }

    private void send(int v) {
        Route r = route(v);
        if (r != null && !r.irqfd.signal()) {
            GUEST_ERRORS.log(Level.WARNING, () -> String.format(
                    "%s: cannot signal irqfd of MSI-X vector=%d", name, v));
        }
    }

    /** Makes KVM's route for {@code v} match the table; returns null if it cannot be routed. */
    private Route route(int v) {
        Route r = routes[v];
        if (r == null) {
            r = new Route();
            routes[v] = r;
        }
        if (r.broken) {
            return null;
        }
        long address = (long) addressHigh[v] << 32 | (addressLow[v] & 0xFFFF_FFFFL);
        try {
            if (r.gsi < 0) {
                int gsi = gsis.allocate();
                if (gsi < 0) {
                    throw new HypervisorException("No GSI left for MSI-X vector " + v);
                }
                r.gsi = gsi;
                vm.setMsiRoute(gsi, address, data[v]);
                r.programmed = true;
                r.address = address;
                r.data = data[v];
                r.irqfd = EventFd.create();
                vm.registerIrqfd(r.irqfd.fd(), gsi);
                r.registered = true;
            } else if (!r.programmed || r.address != address || r.data != data[v]) {
                vm.setMsiRoute(r.gsi, address, data[v]);
                r.programmed = true;
                r.address = address;
                r.data = data[v];
            }
            return r;
        } catch (HypervisorException | SyscallException e) {
            r.broken = true;
            LOG.log(Level.WARNING, () -> String.format(
                    "%s: cannot route MSI-X vector=%d; its interrupts are lost: %s", name, v,
                    e.getMessage()));
            return null;
        }
    }

    /** Removes every route and irqfd and frees the GSIs. */
    @Override
    public synchronized void close() {
        for (Route r : routes) {
            if (r == null || r.gsi < 0) {
                continue;
            }
            try {
                if (r.irqfd != null) {
                    if (r.registered) {
                        vm.unregisterIrqfd(r.irqfd.fd(), r.gsi);
                    }
                    r.irqfd.close();
                }
                vm.removeMsiRoute(r.gsi);
            } catch (HypervisorException e) {
                LOG.log(Level.WARNING, () -> name + ": cannot remove MSI-X route gsi=" + r.gsi
                        + ": " + e.getMessage());
            }
            gsis.free(r.gsi);
            r.gsi = -1;
        }
    }

    private static void putLe(byte[] b, int off, int value, int size) {
        for (int i = 0; i < size; i++) {
            b[off + i] = (byte) (value >>> (8 * i));
        }
    }
}
