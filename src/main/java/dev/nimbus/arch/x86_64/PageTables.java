package dev.nimbus.arch.x86_64;

import dev.nimbus.memory.GuestMemory;

/**
 * The identity map a 64-bit entry needs: the low 4 GiB mapped with 2 MiB pages, one PML4
 * entry, four PDPT entries and four page directories (Intel SDM vol. 3, 4.5).
 *
 * <p>The Linux 64-bit boot protocol asks for the kernel (up to init_size), the zero page and
 * the command line to be identity mapped. Mapping all of the low 4 GiB covers those and the
 * initramfs wherever they sit below the hole, costs six pages, and the kernel replaces these
 * tables with its own early in boot.
 */
public final class PageTables {
    private PageTables() {}

    /** Page-table entry bits. */
    public static final long PTE_PRESENT = 1L;
    public static final long PTE_WRITABLE = 1L << 1;
    /** PS in a page-directory entry: the entry maps a 2 MiB page. */
    public static final long PTE_PAGE_SIZE = 1L << 7;

    /** Page directories: one per GiB mapped. */
    public static final int PD_COUNT = 4;
    /** Entries per table page. */
    public static final int ENTRIES_PER_TABLE = 512;
    /** Size of a large page mapped by a page-directory entry. */
    public static final long LARGE_PAGE_SIZE = 2L << 20;
    /** Bytes the identity map covers: 4 GiB. */
    public static final long IDENTITY_MAPPED = PD_COUNT * ENTRIES_PER_TABLE * LARGE_PAGE_SIZE;

    /** Writes the tables at {@link Layout#PML4_START}, {@link Layout#PDPTE_START} and on. */
    public static void writeIdentityMap(GuestMemory mem) {
        mem.zero(Layout.PML4_START, 4096);
        mem.zero(Layout.PDPTE_START, 4096);
        mem.writeLong(Layout.PML4_START, Layout.PDPTE_START | PTE_PRESENT | PTE_WRITABLE);
        for (int d = 0; d < PD_COUNT; d++) {
            long pd = Layout.PDE_START + 4096L * d;
            mem.writeLong(Layout.PDPTE_START + 8L * d, pd | PTE_PRESENT | PTE_WRITABLE);
            for (int i = 0; i < ENTRIES_PER_TABLE; i++) {
                long page = ((long) d * ENTRIES_PER_TABLE + i) * LARGE_PAGE_SIZE;
                mem.writeLong(pd + 8L * i, page | PTE_PRESENT | PTE_WRITABLE | PTE_PAGE_SIZE);
            }
        }
    }
}
