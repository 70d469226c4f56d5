package dev.nimbus.acpi;

import dev.nimbus.memory.GuestMemory;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the ACPI tables a guest sees and writes them into guest memory.
 *
 * <p>The RSDP sits at the start of the EBDA, 0xA0000, where an OS also finds it by scanning when
 * no boot protocol passes its address (provided the boot code stores the EBDA segment, 0xA000,
 * at 0x40E). The DSDT, FACP, APIC, MCFG (with PCI only), any extra tables and finally the XSDT
 * follow it, each 8-byte aligned, and all of them must end below the SMBIOS area at 0xF0000.
 * Guest memory must map that range, as the low RAM region does.
 */
public final class AcpiTables {
    /** Where the RSDP goes: the start of the EBDA. */
    public static final long RSDP_GPA = 0xA_0000L;

    /** End of the room for tables: the SMBIOS entry point and tables start here. */
    public static final long TABLES_END_GPA = 0xF_0000L;

    static final int TABLE_ALIGNMENT = 8;

    /**
     * One table placed in guest memory.
     *
     * @param signature its signature ("RSD PTR " for the RSDP)
     * @param gpa where it goes
     * @param bytes its finished contents
     */
    public record Placed(String signature, long gpa, byte[] bytes) {
        /** First address after the table. */
        public long end() {
            return gpa + bytes.length;
        }
    }

    private AcpiTables() {
    }

    /**
     * Writes the tables for {@code cfg} into {@code mem} and returns the RSDP's address, which
     * boot code passes to the guest (PVH start info, or boot_params.acpi_rsdp_addr).
     */
    public static long write(GuestMemory mem, AcpiConfig cfg) {
        List<Placed> tables = layout(cfg);
        long end = tables.getLast().end();
        mem.zero(RSDP_GPA, end - RSDP_GPA);
        for (Placed t : tables) {
            mem.write(t.gpa(), t.bytes());
        }
        return RSDP_GPA;
    }

    /**
     * The finished tables for {@code cfg} and their addresses, RSDP first, without touching
     * guest memory.
     *
     * @throws IllegalArgumentException if they do not fit below {@link #TABLES_END_GPA}
     */
    public static List<Placed> layout(AcpiConfig cfg) {
        List<Placed> placed = new ArrayList<>();
        long next = align(RSDP_GPA + Rsdp.LENGTH);

        Sdt dsdt = Dsdt.build(cfg);
        Placed dsdtPlaced = place(dsdt, next);
        placed.add(dsdtPlaced);
        next = align(dsdtPlaced.end());

        List<Sdt> listed = new ArrayList<>();
        listed.add(Fadt.build(dsdtPlaced.gpa()));
        listed.add(Madt.build(cfg.bootVcpus(), cfg.apicIds()));
        if (!cfg.pciSegments().isEmpty()) {
            listed.add(Mcfg.build(cfg.pciSegments()));
        }
        listed.addAll(cfg.extraTables());

        List<Long> xsdtEntries = new ArrayList<>();
        for (Sdt table : listed) {
            Placed p = place(table, next);
            placed.add(p);
            xsdtEntries.add(p.gpa());
            next = align(p.end());
        }
        Placed xsdt = place(Xsdt.build(xsdtEntries), next);
        placed.add(xsdt);
        placed.addFirst(new Placed(Rsdp.SIGNATURE, RSDP_GPA, Rsdp.build(xsdt.gpa())));

        if (xsdt.end() > TABLES_END_GPA) {
            throw new IllegalArgumentException(String.format(
                    "ACPI tables do not fit below SMBIOS: end=0x%x limit=0x%x maxVcpus=%d",
                    xsdt.end(), TABLES_END_GPA, cfg.maxVcpus()));
        }
        return placed;
    }

    private static Placed place(Sdt table, long gpa) {
        return new Placed(table.signature(), gpa, table.toByteArray());
    }

    private static long align(long gpa) {
        return (gpa + TABLE_ALIGNMENT - 1) & -TABLE_ALIGNMENT;
    }
}
