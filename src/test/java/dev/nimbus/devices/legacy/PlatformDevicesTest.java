package dev.nimbus.devices.legacy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.devices.VmControl;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PlatformDevicesTest {
    private final List<String> requests = new ArrayList<>();
    private final VmControl control = new VmControl() {
        @Override
        public void requestPowerOff() {
            requests.add("poweroff");
        }

        @Override
        public void requestReset() {
            requests.add("reset");
        }
    };

    @Test
    void sleepControlWithS5AndSlpEnPowersOff() {
        new AcpiPowerControl(control).write(0, 1, 0x34);
        assertEquals(List.of("poweroff"), requests);
    }

    @Test
    void resetRegisterValueResets() {
        new AcpiPowerControl(control).write(0, 1, 1);
        assertEquals(List.of("reset"), requests);
    }

    @Test
    void otherSleepStatesAreIgnored() {
        AcpiPowerControl acpi = new AcpiPowerControl(control);
        acpi.write(0, 1, (3 << 2) | (1 << 5)); // S3
        acpi.write(0, 1, 5 << 2); // S5 without SLP_EN
        assertTrue(requests.isEmpty());
    }

    @Test
    void i8042PulseResetCommandResets() {
        I8042 kbd = new I8042(control);
        kbd.write(3, 1, 0xAD); // disable keyboard: not a reset
        assertTrue(requests.isEmpty());
        kbd.write(3, 1, 0xFE);
        assertEquals(List.of("reset"), requests);
        assertEquals(0x20, kbd.read(0, 1));
    }

    @Test
    void pmTimerCountsAt3579545Hz() throws InterruptedException {
        AcpiPmTimer timer = new AcpiPmTimer();
        long a = timer.read(0, 4);
        long t0 = System.nanoTime();
        Thread.sleep(50);
        long b = timer.read(0, 4);
        long elapsed = System.nanoTime() - t0;
        double expected = elapsed * 3.579545e-3;
        assertTrue(Math.abs((b - a) - expected) < expected * 0.2 + 2000,
                "ticks=" + (b - a) + " expected~" + expected);
    }

    @Test
    void debugPortNamesTheBootStage() {
        assertEquals("Firmware", DebugPort.stage(0x00));
        assertEquals("Kernel", DebugPort.stage(0x40));
        assertEquals("Userspace", DebugPort.stage(0x41 + 0x20));
        assertEquals("Custom", DebugPort.stage(0xFF));
    }
}
