package dev.nimbus.acpi;

import static dev.nimbus.acpi.AmlData.ZERO;
import static dev.nimbus.acpi.AmlData.buffer;
import static dev.nimbus.acpi.AmlData.eisaId;
import static dev.nimbus.acpi.AmlData.integer;
import static dev.nimbus.acpi.AmlData.pkg;
import static dev.nimbus.acpi.AmlData.string;
import static dev.nimbus.acpi.AmlObjects.device;
import static dev.nimbus.acpi.AmlObjects.method;
import static dev.nimbus.acpi.AmlObjects.name;
import static dev.nimbus.acpi.AmlOps.ret;

import java.util.ArrayList;
import java.util.List;

/**
 * The Differentiated System Description Table (ACPI 6.5, section 5.2.11.1): the AML namespace
 * of the machine's devices.
 *
 * <p>It holds the processor container {@code \_SB_.CPUS} with one processor device per possible
 * vCPU, COM1, the power button, the S5 sleep state, the Generic Event Device, one host bridge
 * per PCI segment with the motherboard device that reserves their ECAM areas, and whatever
 * other code adds through {@link AcpiConfig#dsdtContent()}.
 */
public final class Dsdt {
    /** Revision 2 and later make AML integers 64 bits wide. */
    public static final int REVISION = 2;

    public static final String CPUS_PATH = "\\_SB_.CPUS";
    public static final String SERIAL_PATH = "\\_SB_.COM1";
    public static final String POWER_BUTTON_PATH = "\\_SB_.PWRB";
    public static final String MOTHERBOARD_PATH = "\\_SB_.MBRD";

    public static final int SERIAL_PORT = 0x3F8;
    public static final int SERIAL_PORT_LENGTH = 8;
    public static final int SERIAL_IRQ = 4;

    /**
     * SLP_TYP of S5. The OS writes {@code SLP_TYP << 2 | SLP_EN} (bit 5) to the sleep control
     * register, so powering off writes 0x34 (ACPI 6.5, section 4.8.3.7).
     */
    public static final int SLP_TYP_S5 = 5;

    /** _STA of a device that is present, enabled, shown and working. */
    static final int STA_PRESENT = 0x0F;

    /** _STA of a device that is not there. */
    static final int STA_ABSENT = 0x00;

    private Dsdt() {
    }

    /** The DSDT for {@code cfg}. */
    public static Sdt build(AcpiConfig cfg) {
        Sdt dsdt = new Sdt("DSDT", REVISION);
        Aml.sequence(content(cfg)).encode(dsdt.bytes());
        return dsdt;
    }

    /** The DSDT's top-level objects for {@code cfg}, in table order. */
    public static List<Aml> content(AcpiConfig cfg) {
        List<Aml> all = new ArrayList<>();
        all.add(processors(cfg));
        if (cfg.serialPort()) {
            all.add(serialPort());
        }
        all.add(powerButton());
        all.add(sleepStateS5());
        cfg.ged().ifPresent(ged -> all.add(ged.toAml()));
        for (PciSegment s : cfg.pciSegments()) {
            all.add(s.hostBridge());
        }
        if (!cfg.pciSegments().isEmpty()) {
            all.add(motherboardResources(cfg.pciSegments()));
        }
        all.addAll(cfg.dsdtContent());
        return all;
    }

    /** Path of the processor device of vCPU {@code index}. */
    public static String processorPath(int index) {
        return String.format("%s.C%03X", CPUS_PATH, index);
    }

    /**
     * The processor container (ACPI0010) and a processor device (ACPI0007) per possible vCPU,
     * whose _UID is the vCPU number, as the MADT's processor UIDs are.
     */
    public static Aml processors(AcpiConfig cfg) {
        List<Aml> body = new ArrayList<>();
        body.add(name("_HID", string("ACPI0010")));
        body.add(name("_CID", eisaId("PNP0A05")));
        for (int i = 0; i < cfg.maxVcpus(); i++) {
            body.add(processor(i, cfg.apicIds().get(i), i < cfg.bootVcpus()));
        }
        return device(CPUS_PATH, body);
    }

    private static Aml processor(int index, int apicId, boolean present) {
        // TODO: _STA of a vCPU that is not running at boot is a constant "absent" because the
        // CPU hot-plug controller does not exist yet; it will become a method reading it.
        return device(String.format("C%03X", index),
                name("_HID", string("ACPI0007")),
                name("_UID", integer(index)),
                method("_STA", 0, false, ret(integer(present ? STA_PRESENT : STA_ABSENT))),
                // Linux takes a hot-added processor's APIC id from _MAT, and only from an
                // entry marked Enabled, whatever the MADT says about that vCPU at boot.
                name("_MAT", buffer(Madt.processorEntry(index, apicId, true))));
    }

    /** COM1: a 16550 UART (PNP0501) at I/O port 0x3F8 on GSI 4. */
    public static Aml serialPort() {
        ResourceTemplate crs = new ResourceTemplate()
                .interrupt(true, true, false, false, SERIAL_IRQ)
                .io(SERIAL_PORT, SERIAL_PORT, 0, SERIAL_PORT_LENGTH);
        return device(SERIAL_PATH,
                name("_HID", eisaId("PNP0501")),
                name("_UID", ZERO),
                name("_DDN", string("COM1")),
                name("_CRS", crs));
    }

    /** The power button device (PNP0C0C), which the GED notifies when the VMM presses it. */
    public static Aml powerButton() {
        return device(POWER_BUTTON_PATH,
                name("_HID", eisaId("PNP0C0C")),
                name("_UID", ZERO));
    }

    /** {@code \_S5_}: the soft-off state, SLP_TYPa = SLP_TYPb = 5. */
    public static Aml sleepStateS5() {
        return name("\\_S5_", pkg(integer(SLP_TYP_S5), integer(SLP_TYP_S5), ZERO, ZERO));
    }

    /**
     * A motherboard resources device (PNP0C02) claiming every segment's ECAM area: Linux uses an
     * MCFG area only once it finds it reserved here or in the E820 map.
     */
    public static Aml motherboardResources(List<PciSegment> segments) {
        ResourceTemplate crs = new ResourceTemplate();
        for (PciSegment s : segments) {
            crs.memory32Fixed(true, s.ecamStart(), s.ecamSize());
        }
        return device(MOTHERBOARD_PATH,
                name("_HID", eisaId("PNP0C02")),
                name("_UID", ZERO),
                name("_CRS", crs));
    }
}
