package dev.nimbus.arch.x86_64;

/**
 * The x86-64 guest physical address map: every fixed guest address Nimbus uses, in address
 * order and grouped by range. It is the Cloud Hypervisor map, so guests, firmware and tools
 * that know where CH puts things find them in the same place.
 *
 * <pre>
 *   0x0000_0000  low RAM (640 KiB): boot GDT/IDT, PVH start info, zero page, stack, page
 *                tables, command line, MP table
 *   0x000A_0000  EBDA: ACPI RSDP and tables, SMBIOS at 0xF0000
 *   0x0010_0000  high RAM, up to 3 GiB: the kernel, then the initramfs at the top
 *   0xC000_0000  32-bit device hole (1 GiB): PCI MMIO32, ECAM, KVM TSS, IOAPIC, TPM, LAPIC
 *   0x1_0000_0000  RAM above 4 GiB
 * </pre>
 */
public final class Layout {
    private Layout() {}

    // ---- Low RAM [0, 640 KiB) ----

    /** First byte of guest RAM. */
    public static final long LOW_RAM_START = 0x0;

    /** BIOS data area word holding the EBDA segment; ACPI's RSDP search starts from it. */
    public static final long EBDA_POINTER = 0x40E;

    /** Boot GDT: null, code, data and TSS descriptors, 8 bytes each. */
    public static final long BOOT_GDT_START = 0x500;

    /** Boot IDT: one empty gate; the kernel installs its own before enabling interrupts. */
    public static final long BOOT_IDT_START = 0x520;

    /** PVH {@code struct hvm_start_info}; EBX points here at a PVH entry. */
    public static final long PVH_INFO_START = 0x6000;

    /** PVH {@code struct hvm_modlist_entry} array: the initramfs, when there is one. */
    public static final long MODLIST_START = 0x6040;

    /**
     * PVH memory map ({@code struct hvm_memmap_table_entry} array). Shares its page with the
     * zero page: a guest boots through one protocol or the other, never both.
     */
    public static final long MEMMAP_START = 0x7000;

    /** Linux {@code struct boot_params}, the "zero page"; RSI points here at a bzImage entry. */
    public static final long ZERO_PAGE_START = 0x7000;

    /** Size of the zero page. */
    public static final long ZERO_PAGE_SIZE = 0x1000;

    /** Bottom of the boot stack page. */
    public static final long BOOT_STACK_START = 0x8000;

    /** Initial RSP: near the top of the boot stack page, 16-byte aligned. */
    public static final long BOOT_STACK_POINTER = 0x8FF0;

    /** Page for a 5-level table root; reserved, since Nimbus boots with 4-level paging. */
    public static final long PML5_START = 0x9000;

    /** PML4 of the boot identity map (CR3 at a 64-bit entry). */
    public static final long PML4_START = 0xA000;

    /** Page-directory-pointer table of the boot identity map. */
    public static final long PDPTE_START = 0xB000;

    /** Page directories of the boot identity map: 4 pages up to 0x10000, 2 MiB pages. */
    public static final long PDE_START = 0xC000;

    /** Kernel command line, NUL-terminated. */
    public static final long CMDLINE_START = 0x20000;

    /** Room for the command line, including its NUL. */
    public static final long CMDLINE_MAX_SIZE = 0x10000;

    /** Intel MP table (processor list for guests without ACPI). */
    public static final long MPTABLE_START = 0x9FC00;

    // ---- EBDA and BIOS area [640 KiB, 1 MiB) ----

    /** Start of the extended BIOS data area; reported to the guest as the end of low RAM. */
    public static final long EBDA_START = 0xA0000;

    /** ACPI RSDP, first thing in the EBDA, where a guest's RSDP scan finds it. */
    public static final long RSDP_POINTER = EBDA_START;

    /** SMBIOS entry point: the first address the SMBIOS spec lets a guest search. */
    public static final long SMBIOS_START = 0xF0000;

    // ---- High RAM [1 MiB, 3 GiB) ----

    /** Start of high RAM; bzImage kernels without a preferred address load here. */
    public static final long HIGH_RAM_START = 0x100000;

    // ---- 32-bit device hole [3 GiB, 4 GiB) ----

    /** Start of the hole below 4 GiB where RAM stops and devices begin. */
    public static final long MEM_32BIT_RESERVED_START = 0xC000_0000L;

    /** 32-bit PCI MMIO window (BARs below 4 GiB). */
    public static final long MEM_32BIT_DEVICES_START = MEM_32BIT_RESERVED_START;

    /** Size of the 32-bit PCI MMIO window: 640 MiB. */
    public static final long MEM_32BIT_DEVICES_SIZE = 640L << 20;

    /** PCIe ECAM (MMCONFIG) window, right after the MMIO32 window; e820-reserved. */
    public static final long PCI_MMCONFIG_START = MEM_32BIT_DEVICES_START + MEM_32BIT_DEVICES_SIZE;

    /** Size of the ECAM window: 256 MiB, room for up to 256 one-bus segments. */
    public static final long PCI_MMCONFIG_SIZE = 256L << 20;

    /** ECAM bytes per PCI segment: one bus, 256 functions, 4 KiB each. */
    public static final long PCI_MMIO_CONFIG_SIZE_PER_SEGMENT = 4096L * 256;

    /** Size of the whole 32-bit reserved range: MMIO32 plus ECAM. */
    public static final long MEM_32BIT_RESERVED_SIZE = MEM_32BIT_DEVICES_SIZE + PCI_MMCONFIG_SIZE;

    /** Three pages KVM needs for the real-mode TSS on Intel (KVM_SET_TSS_ADDR). */
    public static final long KVM_TSS_START = PCI_MMCONFIG_START + PCI_MMCONFIG_SIZE;

    /** Size of the KVM TSS area. */
    public static final long KVM_TSS_SIZE = 3 * 4096;

    /** One page KVM needs for its real-mode identity map (KVM_SET_IDENTITY_MAP_ADDR). */
    public static final long KVM_IDENTITY_MAP_START = KVM_TSS_START + KVM_TSS_SIZE;

    /** Size of the KVM identity map page. */
    public static final long KVM_IDENTITY_MAP_SIZE = 4096;

    /** I/O APIC registers. */
    public static final long IOAPIC_START = 0xFEC0_0000L;

    /** Size of the I/O APIC register window. */
    public static final long IOAPIC_SIZE = 0x20;

    /** TPM 2.0 CRB interface registers. */
    public static final long TPM_START = 0xFED4_0000L;

    /** Size of the TPM CRB window. */
    public static final long TPM_SIZE = 0x1000;

    /** Local APIC registers (the architectural default APIC base). */
    public static final long APIC_START = 0xFEE0_0000L;

    // ---- RAM above 4 GiB ----

    /** Start of the RAM that does not fit below the 32-bit hole. */
    public static final long RAM_64BIT_START = 0x1_0000_0000L;

    // ---- Top of the guest physical address space ----

    /** Size of the platform device area: the ACPI GED and the hot-plug controllers. */
    public static final long PLATFORM_DEVICE_AREA_SIZE = 1L << 20;

    /** Room left unused between the platform device area and the end of the address space. */
    public static final long PLATFORM_DEVICE_AREA_TOP_GAP = 64L << 10;

    /**
     * Start of the platform device area for a guest with {@code physBits} physical address
     * bits: the last MiB below the top 64 KiB of what the guest can address.
     */
    public static long platformDeviceAreaStart(int physBits) {
        return (1L << physBits) - PLATFORM_DEVICE_AREA_TOP_GAP - PLATFORM_DEVICE_AREA_SIZE;
    }
}
