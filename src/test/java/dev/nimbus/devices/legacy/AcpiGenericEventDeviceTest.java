package dev.nimbus.devices.legacy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nimbus.acpi.Ged;
import dev.nimbus.devices.InterruptLine;
import org.junit.jupiter.api.Test;

class AcpiGenericEventDeviceTest {
    private int edges;

    private final InterruptLine line = new InterruptLine() {
        @Override
        public void trigger() {
            edges++;
        }

        @Override
        public void setLevel(boolean asserted) {
            throw new AssertionError("the GED interrupt is edge-triggered");
        }
    };

    @Test
    void powerButtonSetsItsBitAndInterruptsOnce() {
        AcpiGenericEventDevice ged = new AcpiGenericEventDevice(line);
        ged.notifyEvents(Ged.POWER_BUTTON_CHANGED);
        assertEquals(1, edges);
        assertEquals(Ged.POWER_BUTTON_CHANGED, ged.pending());
    }

    @Test
    void readingTheRegisterReturnsPendingEventsAndClearsThem() {
        AcpiGenericEventDevice ged = new AcpiGenericEventDevice(line);
        ged.notifyEvents(Ged.POWER_BUTTON_CHANGED);
        ged.notifyEvents(Ged.CPU_DEVICES_CHANGED);
        assertEquals(Ged.POWER_BUTTON_CHANGED | Ged.CPU_DEVICES_CHANGED, ged.read(0, 1));
        assertEquals(0, ged.read(0, 1), "each event is seen once");
        assertEquals(2, edges);
    }

    @Test
    void writesAndOtherOffsetsDoNothing() {
        AcpiGenericEventDevice ged = new AcpiGenericEventDevice(line);
        ged.notifyEvents(Ged.POWER_BUTTON_CHANGED);
        ged.write(0, 1, 0);
        assertEquals(0, ged.read(1, 1));
        assertEquals(Ged.POWER_BUTTON_CHANGED, ged.read(0, 1));
    }
}
