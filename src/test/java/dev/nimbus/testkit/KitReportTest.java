package dev.nimbus.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.testkit.KitReport.AcpiTable;
import dev.nimbus.testkit.KitReport.IoApic;
import dev.nimbus.testkit.KitReport.LocalApic;
import dev.nimbus.testkit.KitReport.MemoryRange;
import dev.nimbus.testkit.KitReport.Tick;
import java.time.LocalDateTime;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class KitReportTest {
    /** A q35 boot as QEMU prints it: SeaBIOS escapes and banner first, then the kit. */
    private static final String Q35_OUTPUT =
            "\u001bc\u001b[?7l\u001b[2J\u001b[0mSeaBIOS (version 1.16.2)\r\n"
            + "Booting from ROM..KIT-READY kit=1 boot=pvh entry=32 load=0x100000\r\n"
            + """
            KIT-ENTRY bits=32 eax=0x0 ebx=0x21e0 esp=0x6edc eflags=0x6 cr0=0x11 cs=0x8
            KIT-PVH addr=0x21e0 magic=0x336ec578 version=1 flags=0x0 nr_modules=1 \
            modlist_paddr=0x2000 cmdline_paddr=0x11c0 rsdp_paddr=0xf59e0 memmap_paddr=0x5a8 \
            memmap_entries=3
            KIT-CMDLINE addr=0x11c0 len=36 text=console=ttyS0  a=b \\x5cx kit.action=poweroff
            KIT-MEM i=0 addr=0x0 size=0x9fc00 type=1 source=pvh
            KIT-MEM i=1 addr=0x100000 size=0x1fedf000 type=1 source=pvh
            KIT-MEM i=2 addr=0xfd00000000 size=0x300000000 type=2 source=pvh
            KIT-MEM-SUMMARY entries=3 ram_bytes=0x1ff7ec00 ram_kib=523771 ram_top=0x1ffdf000
            KIT-MODULE i=0 source=pvh addr=0x1ffb7000 size=0x186a0 crc32=0xd543ff48
            KIT-MODULE i=1 source=pvh addr=0x1ffb0000 size=0x10 crc32=skipped
            KIT-CPU vendor=AuthenticAMD max_leaf=0x1c family=0x19 model=0x11 stepping=0x1 \
            apic_id=0x0 logical=4 apic=1 x2apic=1 tsc=1 hypervisor=1 lm=1
            KIT-HYPERVISOR max_leaf=0x40000001 vendor=KVMKVMKVM features=0x1007afb
            KIT-RTC date=2026-12-04 time=16:50:14 weekday=6 century_reg=0x20 status_a=0x26 \
            status_b=0x2 bcd=1 h24=1 stable=1 uip_ok=1
            KIT-ACPI-RSDP addr=0xf59e0 source=boot oem=BOCHS\\x20 revision=0 checksum=ok \
            ext_checksum=none length=20 rsdt=0x1ffe23f8 xsdt=0x0
            KIT-ACPI-TABLE sig=RSDT addr=0x1ffe23f8 length=0x38 revision=1 checksum=ok \
            oem=BOCHS\\x20 oem_table=BXPC\\x20\\x20\\x20\\x20 via=rsdp
            KIT-ACPI-TABLE sig=FACP addr=0x1ffe21d8 length=0xf4 revision=3 checksum=ok \
            oem=BOCHS\\x20 via=rsdt
            KIT-FADT addr=0x1ffe21d8 revision=3 minor=0 flags=0x84a5 hw_reduced=0 \
            reset_reg_sup=1 dsdt=0x1ffe0040 facs=0x1ffe0000
            KIT-FADT-REG name=pm1a_cnt space=io width=16 offset=0 access=0 addr=0x604
            KIT-FADT-REG name=reset space=io width=8 offset=0 access=0 addr=0xcf9 value=0xf
            KIT-ACPI-TABLE sig=DSDT addr=0x1ffe0040 length=0x2198 revision=1 checksum=bad \
            oem=BOCHS\\x20 via=fadt
            KIT-ACPI-TABLE sig=FACS addr=0x1ffe0000 length=0x40 checksum=none via=fadt
            KIT-ACPI-TABLE sig=APIC addr=0x1ffe22cc length=0x90 revision=1 checksum=ok \
            oem=BOCHS\\x20 via=rsdt
            KIT-MADT addr=0x1ffe22cc lapic_addr=0xfee00000 flags=0x1
            KIT-MADT-LAPIC uid=0 apic_id=0x0 flags=0x1 enabled=1 online_capable=0
            KIT-MADT-LAPIC uid=1 apic_id=0x1 flags=0x1 enabled=1 online_capable=0
            KIT-MADT-X2APIC uid=2 apic_id=0x100 flags=0x2 enabled=0 online_capable=1
            KIT-MADT-IOAPIC id=0x0 addr=0xfec00000 gsi_base=0
            KIT-MADT-ISO bus=0 source=0 gsi=2 flags=0x0
            KIT-CPUS enabled=2 online_capable=1 madt_entries=5 source=madt
            KIT-DONE lines=30 errors=0
            KIT-ACTION name=tick method=tsc clock=rtc tsc_khz=2585428 interval_ms=250
            KIT-TICK n=1 ms=250
            KIT-TICK n=2 ms=500
            KIT-TICK n=3""";

    @Test
    void skipsFirmwareNoiseAndReadsTheBootFacts() {
        KitReport r = KitReport.parse(Q35_OUTPUT);

        assertTrue(r.ready());
        assertTrue(r.done());
        assertEquals("READY", r.lines().getFirst().tag());
        assertEquals("pvh", r.bootPath());
        assertEquals(32, r.entryBits());
        assertEquals(0x100000, r.loadAddress());
        assertEquals(0x21e0, r.entry().number("ebx"));
        assertEquals(0x336ec578, r.require("PVH").number("magic"));
        assertTrue(r.errors().isEmpty());
    }

    @Test
    void commandLineKeepsSpacesAndUnescapesBackslashes() {
        KitReport r = KitReport.parse(Q35_OUTPUT);

        assertEquals("console=ttyS0  a=b \\x kit.action=poweroff", r.commandLine());
    }

    @Test
    void memoryMapSumsRamOnly() {
        KitReport r = KitReport.parse(Q35_OUTPUT);

        assertEquals(List.of(new MemoryRange(0, 0x9fc00, 1, "pvh"),
                new MemoryRange(0x100000, 0x1fedf000, 1, "pvh"),
                new MemoryRange(0xfd00000000L, 0x300000000L, 2, "pvh")), r.memoryMap());
        assertEquals(0x9fc00 + 0x1fedf000, r.ramBytes());
        assertEquals(0x1ffdf000, r.ramTop());
        assertEquals(r.require("MEM-SUMMARY").number("ram_bytes"), r.ramBytes());
    }

    @Test
    void modulesCarryTheirCrcWhenComputed() {
        KitReport r = KitReport.parse(Q35_OUTPUT);

        assertEquals(OptionalLong.of(0xd543ff48L), r.modules().get(0).crc32());
        assertEquals(100000, r.modules().get(0).size());
        assertEquals(OptionalLong.empty(), r.modules().get(1).crc32());
    }

    @Test
    void acpiTablesUnescapeOemIdsAndKeepChecksumVerdicts() {
        KitReport r = KitReport.parse(Q35_OUTPUT);

        assertEquals(List.of("RSDT", "FACP", "DSDT", "FACS", "APIC"),
                r.acpiTables().stream().map(AcpiTable::signature).toList());
        assertEquals("BOCHS ", r.rsdp().orElseThrow().oem());
        assertEquals(0x1ffe23f8, r.rsdp().orElseThrow().rsdt());
        assertFalse(r.acpiTable("DSDT").orElseThrow().checksumOk());
        assertTrue(r.acpiTable("APIC").orElseThrow().checksumOk());
        assertEquals("none", r.acpiTable("FACS").orElseThrow().checksum());
        assertEquals("BXPC    ", r.lines("ACPI-TABLE").getFirst().get("oem_table"));
    }

    @Test
    void madtEntriesAndCpuCount() {
        KitReport r = KitReport.parse(Q35_OUTPUT);

        assertEquals(List.of(new LocalApic(0, 0, 1, true, false, false),
                new LocalApic(1, 1, 1, true, false, false),
                new LocalApic(2, 0x100, 2, false, true, true)), r.localApics());
        assertEquals(List.of(new IoApic(0, 0xfec00000L, 0)), r.ioApics());
        assertEquals(2, r.interruptOverrides().getFirst().gsi());
        assertEquals(2, r.enabledCpus());
    }

    @Test
    void fadtAndItsRegisters() {
        KitReport r = KitReport.parse(Q35_OUTPUT);

        KitReport.Fadt fadt = r.fadt().orElseThrow();
        assertFalse(fadt.hwReduced());
        assertTrue(fadt.resetRegSupported());
        assertEquals(0x1ffe0040, fadt.dsdt());
        KitReport.AcpiRegister reset = r.fadtRegister("reset").orElseThrow();
        assertEquals("io", reset.space());
        assertEquals(0xcf9, reset.addr());
        assertEquals(OptionalLong.of(0xf), reset.value());
        assertEquals(OptionalLong.empty(), r.fadtRegister("pm1a_cnt").orElseThrow().value());
        assertTrue(r.fadtRegister("sleep_control").isEmpty());
    }

    @Test
    void rtcCpuAndHypervisor() {
        KitReport r = KitReport.parse(Q35_OUTPUT);

        assertEquals(LocalDateTime.of(2026, 12, 4, 16, 50, 14), r.rtc().orElseThrow().dateTime());
        assertEquals(0x20, r.rtc().orElseThrow().centuryRegister());
        assertEquals("AuthenticAMD", r.cpu().vendor());
        assertEquals(0x19, r.cpu().family());
        assertTrue(r.cpu().hypervisor());
        assertEquals("KVMKVMKVM", r.hypervisorVendor().orElseThrow());
    }

    @Test
    void ticksAfterTheActionAndAnUnfinishedLastLineIsDropped() {
        KitReport r = KitReport.parse(Q35_OUTPUT);

        assertEquals("tick", r.action().orElseThrow().get("name"));
        assertEquals(250, r.action().orElseThrow().number("interval_ms"));
        // "KIT-TICK n=3" has no line end yet: the guest was still printing it.
        assertEquals(List.of(new Tick(1, 250), new Tick(2, 500)), r.ticks());
    }

    @Test
    void malformedLinesAreSkipped() {
        KitReport r = KitReport.parse("""
                KIT-READY kit=1 boot=pvh entry=32 load=0x100000
                KIT-not a tag
                KIT-MEM i=0 addr=0x0 size
                see KIT-? here
                KIT-DONE lines=2 errors=0
                """);

        assertEquals(List.of("READY", "DONE"),
                r.lines().stream().map(KitReport.Line::tag).toList());
    }

    @Test
    void missingLinesAndFieldsFailWithTheOutput() {
        KitReport r = KitReport.parse("KIT-READY kit=1 boot=pvh entry=x\r\n");

        IllegalStateException noLine = assertThrows(IllegalStateException.class, r::commandLine);
        assertTrue(noLine.getMessage().contains("KIT-CMDLINE"), noLine.getMessage());
        assertThrows(IllegalArgumentException.class, r::entryBits);
        assertThrows(IllegalArgumentException.class, r::loadAddress);
    }
}
