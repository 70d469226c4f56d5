package dev.nimbus.acpi;

import static dev.nimbus.acpi.AmlData.ZERO;
import static dev.nimbus.acpi.AmlData.eisaId;
import static dev.nimbus.acpi.AmlData.integer;
import static dev.nimbus.acpi.AmlData.path;
import static dev.nimbus.acpi.AmlData.string;
import static dev.nimbus.acpi.AmlObjects.device;
import static dev.nimbus.acpi.AmlObjects.field;
import static dev.nimbus.acpi.AmlObjects.method;
import static dev.nimbus.acpi.AmlObjects.name;
import static dev.nimbus.acpi.AmlObjects.operationRegion;
import static dev.nimbus.acpi.AmlOps.and;
import static dev.nimbus.acpi.AmlOps.call;
import static dev.nimbus.acpi.AmlOps.equal;
import static dev.nimbus.acpi.AmlOps.ifThen;
import static dev.nimbus.acpi.AmlOps.local;
import static dev.nimbus.acpi.AmlOps.notifyObject;
import static dev.nimbus.acpi.AmlOps.store;

import dev.nimbus.acpi.AmlObjects.AccessType;
import dev.nimbus.acpi.AmlObjects.FieldUnit;
import dev.nimbus.acpi.AmlObjects.RegionSpace;
import dev.nimbus.acpi.AmlObjects.UpdateRule;
import dev.nimbus.acpi.ResourceTemplate.Cacheability;
import java.util.ArrayList;
import java.util.List;

/**
 * The Generic Event Device (ACPI 6.5, section 5.6.9) through which the VMM signals hot-plug and
 * power-button events on a hardware-reduced platform, and the one-byte MMIO register beside it
 * that says which events are pending.
 *
 * <p>The DSDT gets two devices: {@code \_SB_.GED_} (ACPI0013), whose interrupt runs _EVT, and
 * {@code \_SB_.GEC_}, which owns the register; _EVT calls {@code GEC_.ESCN}, which reads the
 * register once and runs the action of every event whose bit is set. Reading the register
 * clears it on the device side.
 *
 * @param mmioAddress guest physical address of the event register
 * @param gsi the interrupt the device raises (edge-triggered, active high)
 * @param events the events ESCN dispatches
 */
public record Ged(long mmioAddress, int gsi, List<Event> events) {
    /** Size of the event register. */
    public static final int MMIO_SIZE = 1;

    // Event register bits, one per kind of event.
    public static final int CPU_DEVICES_CHANGED = 1 << 0;
    public static final int MEMORY_DEVICES_CHANGED = 1 << 1;
    public static final int PCI_DEVICES_CHANGED = 1 << 2;
    public static final int POWER_BUTTON_CHANGED = 1 << 3;

    /** Notify value for a power button press (ACPI 6.5, section 5.6.6, device notifications). */
    static final int NOTIFY_POWER_BUTTON = 0x80;

    /** One event bit and what ESCN does when it is set. */
    public record Event(int mask, Aml action) {
    }

    public Ged {
        events = List.copyOf(events);
    }

    /** The GED with the power-button event, which notifies {@code \_SB_.PWRB}. */
    public static Ged of(long mmioAddress, int gsi) {
        Aml pressed = notifyObject(path(Dsdt.POWER_BUTTON_PATH), integer(NOTIFY_POWER_BUTTON));
        return new Ged(mmioAddress, gsi, List.of(new Event(POWER_BUTTON_CHANGED, pressed)));
    }

    /** This GED with one more event; e.g. CPU hot-plug calls {@code \_SB_.CPUS.CSCN}. */
    public Ged withEvent(int mask, Aml action) {
        List<Event> all = new ArrayList<>(events);
        all.add(new Event(mask, action));
        return new Ged(mmioAddress, gsi, all);
    }

    /** The GEC_ and GED_ devices. */
    public Aml toAml() {
        List<Aml> scan = new ArrayList<>();
        scan.add(store(path("GDAT"), local(0)));
        for (Event e : events) {
            scan.add(and(local(0), integer(e.mask()), local(1)));
            scan.add(ifThen(equal(local(1), integer(e.mask())), e.action()));
        }

        ResourceTemplate registers = new ResourceTemplate().memory(true,
                Cacheability.NON_CACHEABLE, true, mmioAddress, mmioAddress + MMIO_SIZE - 1);
        Aml controller = device("\\_SB_.GEC_",
                name("_HID", eisaId("PNP0A06")),
                name("_UID", string("Generic Event Controller")),
                name("_CRS", registers),
                operationRegion("GDST", RegionSpace.SYSTEM_MEMORY, mmioAddress, MMIO_SIZE),
                field("GDST", AccessType.BYTE, false, UpdateRule.WRITE_AS_ZEROS,
                        FieldUnit.named("GDAT", 8)),
                method("ESCN", 0, true, scan));

        Aml ged = device("\\_SB_.GED_",
                name("_HID", string("ACPI0013")),
                name("_UID", ZERO),
                name("_CRS", new ResourceTemplate().interrupt(true, true, false, false, gsi)),
                method("_EVT", 1, true, call("\\_SB_.GEC_.ESCN")));
        return Aml.sequence(controller, ged);
    }
}
