package dev.nimbus.arch.x86_64;

import dev.nimbus.memory.GuestMemory;
import java.util.List;

/**
 * The PVH boot structures (xen/include/public/arch-x86/hvm/start_info.h): {@code struct
 * hvm_start_info} at {@link Layout#PVH_INFO_START}, one {@code struct hvm_modlist_entry} per
 * module at {@link Layout#MODLIST_START}, and the memory map at {@link Layout#MEMMAP_START}.
 */
final class PvhStartInfo {
    private PvhStartInfo() {}

    /** "xEn3" with the 0x80 bit of the "E" set. */
    static final int XEN_HVM_START_MAGIC_VALUE = 0x336EC578;
    /** Version 1 adds memmap_paddr and memmap_entries. */
    static final int VERSION = 1;

    static final int SIZEOF_HVM_START_INFO = 56;
    static final int OFFSETOF_MAGIC = 0;
    static final int OFFSETOF_VERSION = 4;
    static final int OFFSETOF_FLAGS = 8;
    static final int OFFSETOF_NR_MODULES = 12;
    static final int OFFSETOF_MODLIST_PADDR = 16;
    static final int OFFSETOF_CMDLINE_PADDR = 24;
    static final int OFFSETOF_RSDP_PADDR = 32;
    static final int OFFSETOF_MEMMAP_PADDR = 40;
    static final int OFFSETOF_MEMMAP_ENTRIES = 48;

    static final int SIZEOF_HVM_MODLIST_ENTRY = 32;
    static final int OFFSETOF_MOD_PADDR = 0;
    static final int OFFSETOF_MOD_SIZE = 8;
    static final int OFFSETOF_MOD_CMDLINE_PADDR = 16;

    /**
     * Writes start info, module list and memory map.
     *
     * @param cmdlineAddr guest address of the NUL-terminated command line
     * @param rsdpAddr ACPI RSDP address, 0 if none (0 means "not present" in this ABI)
     * @param moduleAddr initramfs address, 0 if none
     * @param moduleSize initramfs size, 0 if none
     * @param memmap the memory map
     */
    static void write(GuestMemory mem, long cmdlineAddr, long rsdpAddr, long moduleAddr,
            long moduleSize, List<E820Entry> memmap) {
        long si = Layout.PVH_INFO_START;
        mem.zero(si, SIZEOF_HVM_START_INFO);
        mem.writeInt(si + OFFSETOF_MAGIC, XEN_HVM_START_MAGIC_VALUE);
        mem.writeInt(si + OFFSETOF_VERSION, VERSION);
        mem.writeLong(si + OFFSETOF_CMDLINE_PADDR, cmdlineAddr);
        mem.writeLong(si + OFFSETOF_RSDP_PADDR, rsdpAddr);
        mem.writeLong(si + OFFSETOF_MEMMAP_PADDR, Layout.MEMMAP_START);
        mem.writeInt(si + OFFSETOF_MEMMAP_ENTRIES, memmap.size());

        if (moduleSize > 0) {
            long mod = Layout.MODLIST_START;
            mem.zero(mod, SIZEOF_HVM_MODLIST_ENTRY);
            mem.writeLong(mod + OFFSETOF_MOD_PADDR, moduleAddr);
            mem.writeLong(mod + OFFSETOF_MOD_SIZE, moduleSize);
            mem.writeInt(si + OFFSETOF_NR_MODULES, 1);
            mem.writeLong(si + OFFSETOF_MODLIST_PADDR, mod);
        }

        for (int i = 0; i < memmap.size(); i++) {
            memmap.get(i).writeHvmMemmapEntry(
                    mem, Layout.MEMMAP_START + (long) i * E820Entry.SIZEOF_HVM_MEMMAP_TABLE_ENTRY);
        }
    }
}
