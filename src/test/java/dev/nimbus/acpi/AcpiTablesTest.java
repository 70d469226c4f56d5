package dev.nimbus.acpi;

import static dev.nimbus.acpi.GuestTables.ascii;
import static dev.nimbus.acpi.GuestTables.u16;
import static dev.nimbus.acpi.GuestTables.u32;
import static dev.nimbus.acpi.GuestTables.u64;
import static dev.nimbus.acpi.GuestTables.u8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.memory.GuestMemory;
import dev.nimbus.memory.GuestRegion;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AcpiTablesTest {
    private static final long LOW_RAM_SIZE = 1 << 20;

    @TempDir
    Path dir;

    private Arena arena;
    private GuestMemory mem;

    @BeforeEach
    void lowRam() {
        arena = Arena.ofConfined();
        mem = GuestMemory.of(List.of(new GuestRegion(0, arena.allocate(LOW_RAM_SIZE), -1, 0)));
    }

    @AfterEach
    void free() {
        arena.close();
    }

    private GuestTables writeAndRead(AcpiConfig cfg) {
        long rsdp = AcpiTables.write(mem, cfg);
        assertEquals(0xA0000, rsdp);
        return new GuestTables(mem, rsdp);
    }

    @ParameterizedTest(name = "boot={0} max={1}")
    @CsvSource({"1, 1", "2, 2", "4, 4", "2, 4", "255, 255", "256, 288"})
    void tablesReadBackFromGuestMemory(int boot, int max) throws Exception {
        GuestTables t = writeAndRead(AcpiConfig.builder(boot, max).build());

        assertEquals(List.of("FACP", "APIC", "XSDT", "DSDT"), List.copyOf(t.tables.keySet()));
        assertEquals(List.of(t.addresses.get("FACP"), t.addresses.get("APIC")), t.xsdtEntries);
        assertTablesInsideTheEbdaWithoutOverlap(t);
        assertFadt(t.tables.get("FACP"), t.addresses.get("DSDT"));
        assertMadt(new MadtEntries(t.tables.get("APIC")), boot, max);
        assertEquals(2, t.tables.get("DSDT")[8], "DSDT revision");

        String dsl = Acpica.disassemble(dir, "dsdt", t.tables.get("DSDT"));
        assertEquals(max, count(dsl, "Name (_HID, \"ACPI0007\""), "processor devices");
        for (int i = 0; i < max; i++) {
            assertTrue(dsl.contains(String.format("Device (C%03X)", i)), "C" + i);
        }
        assertTrue(dsl.contains("Device (\\_SB.CPUS)"));
        assertTrue(dsl.contains("EisaId (\"PNP0501\")"), "COM1");
        assertTrue(dsl.contains("0x03F8,             // Range Minimum"), "COM1 port");
        assertTrue(dsl.contains("EisaId (\"PNP0C0C\")"), "power button");
        assertTrue(dsl.contains("Name (\\_S5, Package (0x04)"), "_S5_");
        assertFalse(dsl.contains("PNP0A08"), "no PCI unless asked");

        String last = Dsdt.processorPath(max - 1);
        String out = Acpica.exec(dir, List.of(t.tables.get("DSDT")),
                "evaluate \\_S5_; evaluate " + Dsdt.processorPath(0) + "._STA; evaluate "
                        + last + "._STA; evaluate " + last + "._UID; evaluate " + last + "._MAT");
        List<Long> ints = integers(out);
        assertEquals(List.of(5L, 5L, 0L, 0L), ints.subList(0, 4), "_S5_ package");
        assertEquals(0x0F, ints.get(4), "boot vCPU 0 is present");
        assertEquals(boot == max ? 0x0F : 0x00, ints.get(5), "last vCPU _STA");
        assertEquals(max - 1, ints.get(6), "last vCPU _UID");
        byte[] mat = Madt.processorEntry(max - 1, max - 1, true);
        assertTrue(out.contains(hexLine(mat)), "last vCPU _MAT:\n" + out);
    }

    private static void assertTablesInsideTheEbdaWithoutOverlap(GuestTables t) {
        List<long[]> ranges = new ArrayList<>();
        ranges.add(new long[] {t.rsdpGpa, t.rsdpGpa + Rsdp.LENGTH});
        t.tables.forEach((sig, bytes) -> {
            long gpa = t.addresses.get(sig);
            ranges.add(new long[] {gpa, gpa + bytes.length});
        });
        ranges.sort((a, b) -> Long.compare(a[0], b[0]));
        assertEquals(AcpiTables.RSDP_GPA, ranges.getFirst()[0], "RSDP comes first");
        for (int i = 1; i < ranges.size(); i++) {
            assertTrue(ranges.get(i)[0] >= ranges.get(i - 1)[1], "tables overlap");
        }
        assertTrue(ranges.getLast()[1] <= AcpiTables.TABLES_END_GPA, "tables below SMBIOS");
    }

    private static void assertFadt(byte[] fadt, long dsdtGpa) {
        assertEquals(276, fadt.length);
        assertEquals(6, fadt[8], "FADT revision");
        assertEquals(5, fadt[Fadt.FADT_MINOR_VERSION], "FADT minor version");
        long flags = u32(fadt, Fadt.FLAGS);
        assertEquals((1 << 20) | (1 << 10) | (1 << 8), flags,
                "HW_REDUCED_ACPI | RESET_REG_SUP | TMR_VAL_EXT");
        assertEquals(new GenericAddress(1, 8, 0, 1, 0x600),
                GenericAddress.parse(fadt, Fadt.RESET_REG));
        assertEquals(1, u8(fadt, Fadt.RESET_VALUE));
        assertEquals(new GenericAddress(1, 8, 0, 1, 0x600),
                GenericAddress.parse(fadt, Fadt.SLEEP_CONTROL_REG));
        assertEquals(new GenericAddress(1, 8, 0, 1, 0x600),
                GenericAddress.parse(fadt, Fadt.SLEEP_STATUS_REG));
        assertEquals(new GenericAddress(1, 32, 0, 3, 0x608),
                GenericAddress.parse(fadt, Fadt.X_PM_TMR_BLK));
        assertEquals(dsdtGpa, u64(fadt, Fadt.X_DSDT));
        assertEquals(0, u32(fadt, Fadt.DSDT), "32-bit DSDT superseded by X_DSDT");
        assertEquals(0, u16(fadt, Fadt.SCI_INT), "no SCI on hardware-reduced ACPI");
        assertEquals("NIMBUSVM", ascii(fadt, Fadt.HYPERVISOR_VENDOR_IDENTITY, 8));
    }

    private static void assertMadt(MadtEntries m, int boot, int max) {
        assertEquals(0xFEE0_0000L, m.localApicAddress);
        assertEquals(0, m.flags, "no PC-AT dual 8259");
        assertEquals(max, m.processors.size());
        for (int i = 0; i < max; i++) {
            MadtEntries.Processor p = m.processors.get(i);
            assertEquals(i < 255 ? 0 : 9, p.type(), "structure type of vCPU " + i);
            assertEquals(i, p.uid());
            assertEquals(i, p.apicId());
            assertEquals(i < boot ? 1 : 2, p.flags(), "Enabled or Online Capable, vCPU " + i);
        }
        assertEquals(List.of(new MadtEntries.IoApic(0, 0xFEC0_0000L, 0)), m.ioApics);
        assertEquals(List.of(new MadtEntries.Override(0, 4, 4, 0)), m.overrides);
        List<MadtEntries.Nmi> nmis = new ArrayList<>();
        nmis.add(new MadtEntries.Nmi(4, 0xFF, 0, 1));
        if (max > 255) {
            nmis.add(new MadtEntries.Nmi(10, 0xFFFF_FFFFL, 0, 1));
        }
        assertEquals(nmis, m.nmis, "NMI on LINT1 of all processors");
    }

    @Test
    void apicIdsFrom255UseX2apicStructuresWhateverTheVcpuNumber() throws Exception {
        AcpiConfig cfg = AcpiConfig.builder(3, 4).apicIds(List.of(0, 2, 300, 254)).build();
        MadtEntries m = new MadtEntries(writeAndRead(cfg).tables.get("APIC"));

        assertEquals(List.of(
                new MadtEntries.Processor(0, 0, 0, 1),
                new MadtEntries.Processor(0, 1, 2, 1),
                new MadtEntries.Processor(9, 2, 300, 1),
                new MadtEntries.Processor(0, 3, 254, 2)), m.processors);
        assertEquals(2, m.nmis.size(), "x2APIC NMI structure as well");

        String out = Acpica.exec(dir, List.of(Dsdt.build(cfg).toByteArray()),
                "evaluate " + Dsdt.processorPath(2) + "._MAT");
        assertTrue(out.contains(hexLine(Madt.processorEntry(2, 300, true))), out);
    }

    @Test
    void processorUidThatDoesNotFitALocalApicEntryIsRejected() {
        // vCPU 255 gets APIC id 0, so it needs a Local APIC structure, whose one-byte UID
        // field cannot say 255 (that value means "all processors" elsewhere in the MADT).
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < 256; i++) {
            ids.add(i);
        }
        ids.set(0, 255);
        ids.set(255, 0);
        AcpiConfig cfg = AcpiConfig.builder(1, 256).apicIds(ids).build();
        assertThrows(IllegalArgumentException.class, () -> AcpiTables.layout(cfg));
    }

    @Test
    void invalidVcpuConfigurationsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> AcpiConfig.builder(0, 1).build());
        assertThrows(IllegalArgumentException.class, () -> AcpiConfig.builder(3, 2).build());
        assertThrows(IllegalArgumentException.class,
                () -> AcpiConfig.builder(1, AcpiConfig.MAX_VCPUS + 1).build());
        assertThrows(IllegalArgumentException.class,
                () -> AcpiConfig.builder(1, 2).apicIds(List.of(1, 1)).build());
        assertThrows(IllegalArgumentException.class,
                () -> AcpiConfig.builder(1, 2).apicIds(List.of(0)).build());
    }

    @Test
    void serialPortOffLeavesCom1OutOfTheDsdt() throws Exception {
        GuestTables t = writeAndRead(AcpiConfig.builder(1, 1).serialPort(false).build());
        String dsl = Acpica.disassemble(dir, "dsdt", t.tables.get("DSDT"));
        assertFalse(dsl.contains("PNP0501"));
        assertFalse(dsl.contains("COM1"));
        assertTrue(dsl.contains("PNP0C0C"));
    }

    @Test
    void pciSegmentsAddMcfgHostBridgesAndTheirEcamReservation() throws Exception {
        PciSegment seg0 = PciSegment.of(0, 0xC000_0000L, 0x1400_0000L, 0x10_0000_0000L,
                0x8_0000_0000L).withHostBridgeContent(
                        AmlObjects.name("_PRT", AmlData.pkg()));
        PciSegment seg1 = PciSegment.of(1, 0xD400_0000L, 0x1400_0000L, 0x18_0000_0000L,
                0x8_0000_0000L);
        AcpiConfig cfg = AcpiConfig.builder(2, 2).pciSegment(seg0).pciSegment(seg1).build();
        GuestTables t = writeAndRead(cfg);

        assertEquals(List.of(t.addresses.get("FACP"), t.addresses.get("APIC"),
                t.addresses.get("MCFG")), t.xsdtEntries);
        byte[] mcfg = t.tables.get("MCFG");
        assertEquals(Mcfg.ENTRIES_OFFSET + 2 * Mcfg.ENTRY_SIZE, mcfg.length);
        for (int i = 0; i < 2; i++) {
            int off = Mcfg.ENTRIES_OFFSET + i * Mcfg.ENTRY_SIZE;
            assertEquals(0xE800_0000L + i * 0x10_0000L, u64(mcfg, off), "ECAM base");
            assertEquals(i, u16(mcfg, off + 8), "segment");
            assertEquals(0, u8(mcfg, off + 10), "start bus");
            assertEquals(0, u8(mcfg, off + 11), "end bus");
        }
        Acpica.disassemble(dir, "mcfg", mcfg);

        String dsl = Acpica.disassemble(dir, "dsdt", t.tables.get("DSDT"));
        assertEquals(2, count(dsl, "EisaId (\"PNP0A08\")"));
        assertTrue(dsl.contains("Device (\\_SB.PC00)") && dsl.contains("Device (\\_SB.PC01)"));
        assertTrue(dsl.contains("Name (_PRT, Package (0x00)"), "host bridge hook");
        assertEquals(1, count(dsl, "0x0CF8,             // Range Minimum"),
                "config ports on segment 0 only");
        assertTrue(dsl.contains("EisaId (\"PNP0C02\")"), "motherboard resources");

        String out = Acpica.exec(dir, List.of(t.tables.get("DSDT")),
                "evaluate \\_SB.PC01._SEG; evaluate \\_SB.PC01._UID; evaluate \\_SB.PC01._BBN");
        assertEquals(List.of(1L, 1L, 0L), integers(out));
        assertTrue(dsl.contains("0x00000017FFFFFFFF, // Range Maximum"),
                "64-bit window of segment 0:\n" + dsl);
    }

    @Test
    void gedRunsTheActionOfEveryPendingEvent() throws Exception {
        Ged ged = Ged.of(0xFFFF_FFFF_F000L, 5).withEvent(Ged.CPU_DEVICES_CHANGED,
                AmlOps.call("\\CPEV"));
        // A test-only method that plays the VMM: it sets the pending bits, then raises the
        // interrupt by running _EVT as the OS's GED driver does.
        Aml fire = AmlObjects.method("\\FIRE", 0, false,
                AmlOps.store(AmlData.integer(Ged.POWER_BUTTON_CHANGED | Ged.CPU_DEVICES_CHANGED),
                        AmlData.path("\\_SB.GEC.GDAT")),
                AmlOps.call("\\_SB.GED._EVT", AmlData.integer(5)));
        Aml cpuEvent = AmlObjects.method("\\CPEV", 0, false,
                AmlOps.store(AmlData.integer(0x1234), AmlData.path("\\MARK")));
        AcpiConfig cfg = AcpiConfig.builder(1, 1).ged(ged)
                .dsdt(AmlObjects.name("\\MARK", AmlData.ZERO), cpuEvent, fire).build();
        byte[] dsdt = writeAndRead(cfg).tables.get("DSDT");

        String dsl = Acpica.disassemble(dir, "dsdt", dsdt);
        assertTrue(dsl.contains("Name (_HID, \"ACPI0013\""));
        assertTrue(dsl.contains("Method (_EVT, 1, Serialized)"));

        String out = Acpica.exec(dir, List.of(dsdt), "evaluate \\FIRE; evaluate \\MARK");
        assertTrue(out.contains("Notify on [PWRB]") && out.contains("Value 0x80"),
                "power button notified:\n" + out);
        assertEquals(List.of(0x1234L), integers(out), "CPU event ran");
    }

    @Test
    void extraTablesAndDsdtContentAreIncluded() throws Exception {
        Sdt extra = new Sdt("TEST", 1);
        extra.bytes().u32(0xCAFE);
        AcpiConfig cfg = AcpiConfig.builder(1, 1).table(extra)
                .dsdt(AmlObjects.device("\\_SB.XTRA",
                        AmlObjects.name("_HID", AmlData.string("NMBS0001"))))
                .build();
        GuestTables t = writeAndRead(cfg);

        assertEquals(t.addresses.get("TEST"), t.xsdtEntries.getLast());
        assertEquals(0xCAFE, u32(t.tables.get("TEST"), Sdt.HEADER_SIZE));
        assertTrue(Acpica.disassemble(dir, "dsdt", t.tables.get("DSDT"))
                .contains("Device (\\_SB.XTRA)"));
    }

    @Test
    void everyTableDisassemblesCleanly() throws Exception {
        AcpiConfig cfg = AcpiConfig.builder(2, 300)
                .pciSegment(PciSegment.of(0, 0xC000_0000L, 0x2800_0000L, 0x10_0000_0000L,
                        0x1_0000_0000L))
                .ged(Ged.of(0xFFFF_FFFF_F000L, 5)).build();
        GuestTables t = writeAndRead(cfg);
        for (var e : t.tables.entrySet()) {
            Acpica.disassemble(dir, e.getKey().toLowerCase(), e.getValue());
        }
        String madt = Acpica.disassemble(dir, "apic2", t.tables.get("APIC"));
        assertEquals(255, count(madt, "[Processor Local APIC]"));
        assertEquals(45, count(madt, "[Processor Local x2APIC]"));
        String facp = Acpica.disassemble(dir, "facp2", t.tables.get("FACP"));
        assertTrue(facp.contains("Hardware Reduced (V5) : 1"), facp);
    }

    @Test
    void dsdtRecompilesFromItsDisassemblyToTheSameAml() throws Exception {
        AcpiConfig cfg = AcpiConfig.builder(2, 4)
                .pciSegment(PciSegment.of(0, 0xC000_0000L, 0x2800_0000L, 0x10_0000_0000L,
                        0x1_0000_0000L))
                .ged(Ged.of(0xFFFF_FFFF_F000L, 5)).build();
        byte[] dsdt = Dsdt.build(cfg).toByteArray();
        String dsl = Acpica.disassemble(dir, "dsdt", dsdt);
        byte[] recompiled = Acpica.compile(dir, "recompiled", dsl);
        assertArrayEquals(java.util.Arrays.copyOfRange(dsdt, Sdt.HEADER_SIZE, dsdt.length),
                java.util.Arrays.copyOfRange(recompiled, Sdt.HEADER_SIZE, recompiled.length));
    }

    @Test
    void largestVcpuCountFitsBelowSmbios() {
        List<AcpiTables.Placed> tables = AcpiTables.layout(
                AcpiConfig.builder(1, AcpiConfig.MAX_VCPUS).build());
        assertTrue(tables.getLast().end() <= AcpiTables.TABLES_END_GPA);
    }

    @Test
    void tablesThatWouldReachSmbiosAreRejected() {
        Sdt huge = new Sdt("HUGE", 1);
        huge.bytes().zeros(0x50000);
        AcpiConfig cfg = AcpiConfig.builder(1, 1).table(huge).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AcpiTables.write(mem, cfg));
        assertTrue(e.getMessage().contains("limit=0xf0000"), e.getMessage());
        assertEquals(0, mem.readLong(AcpiTables.RSDP_GPA), "nothing written");
    }

    @Test
    void writeClearsWhatAnEarlierBootLeftBetweenTables() {
        mem.write(AcpiTables.RSDP_GPA, filled(0x10000, (byte) 0xA5));
        AcpiTables.write(mem, AcpiConfig.builder(1, 1).build());
        List<AcpiTables.Placed> tables = AcpiTables.layout(AcpiConfig.builder(1, 1).build());
        for (int i = 1; i < tables.size(); i++) {
            long gapStart = tables.get(i - 1).end();
            for (long gpa = gapStart; gpa < tables.get(i).gpa(); gpa++) {
                assertEquals(0, mem.readByte(gpa), "gap byte at 0x" + Long.toHexString(gpa));
            }
        }
    }

    private static byte[] filled(int len, byte v) {
        byte[] b = new byte[len];
        java.util.Arrays.fill(b, v);
        return b;
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + what.length())) {
            n++;
        }
        return n;
    }

    /** Every "[Integer] = ..." value acpiexec printed, in order. */
    private static List<Long> integers(String out) {
        List<Long> values = new ArrayList<>();
        Matcher m = Pattern.compile("\\[Integer\\] = ([0-9A-Fa-f]+)").matcher(out);
        while (m.find()) {
            values.add(Long.parseUnsignedLong(m.group(1), 16));
        }
        return values;
    }

    /** The first line of bytes as acpiexec dumps a buffer. */
    private static String hexLine(byte[] b) {
        StringBuilder sb = new StringBuilder("0000:");
        for (int i = 0; i < Math.min(16, b.length); i++) {
            sb.append(String.format(" %02X", b[i]));
        }
        return sb.toString();
    }
}
