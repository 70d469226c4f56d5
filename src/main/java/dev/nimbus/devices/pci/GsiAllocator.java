package dev.nimbus.devices.pci;

import java.util.BitSet;

/**
 * Hands out global system interrupt numbers for MSI routes. GSIs 0 to 23 are the I/O APIC's
 * pins, so MSI routes start at 24; KVM accepts routing entries below KVM_MAX_IRQ_ROUTES (4096).
 * Thread-safe.
 */
public final class GsiAllocator {
    /** First GSI past the 24 I/O APIC pins. */
    public static final int FIRST_MSI_GSI = 24;
    /** KVM_MAX_IRQ_ROUTES in include/linux/kvm_host.h. */
    public static final int KVM_MAX_IRQ_ROUTES = 4096;

    private final int first;
    private final int limit;
    private final BitSet used = new BitSet();

    /** GSIs in {@code [first, limit)}. */
    public GsiAllocator(int first, int limit) {
        if (first < 0 || limit <= first) {
            throw new IllegalArgumentException("Invalid GSI range first=" + first + " limit="
                    + limit);
        }
        this.first = first;
        this.limit = limit;
    }

    /** The MSI range KVM allows: 24 up to 4095. */
    public GsiAllocator() {
        this(FIRST_MSI_GSI, KVM_MAX_IRQ_ROUTES);
    }

    /** The lowest free GSI, now taken; -1 when all are taken. */
    public synchronized int allocate() {
        int i = used.nextClearBit(0);
        if (first + i >= limit) {
            return -1;
        }
        used.set(i);
        return first + i;
    }

    public synchronized void free(int gsi) {
        if (gsi >= first && gsi < limit) {
            used.clear(gsi - first);
        }
    }
}
