package dev.nimbus.devices.legacy;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.devices.Bus;
import dev.nimbus.devices.ConsoleOutput;
import dev.nimbus.devices.InterruptLine;
import dev.nimbus.devices.VmControl;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every legacy device on its Cloud Hypervisor port, taking seeded random reads and writes of
 * every size, as a guest can issue them: each access must return normally to the vCPU (an
 * exception there ends the VMM). The 0x80 debug port is left out: it only logs each byte. Power-off and reset requests are what a guest may legitimately
 * cause, so they are counted, not refused.
 */
class LegacyPortFuzzTest {
    private static final int OPERATIONS = 200_000;

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {11, 12, 13})
    void randomPortAccessesReturnNormally(long seed) {
        AtomicInteger requests = new AtomicInteger();
        VmControl control = new VmControl() {
            @Override
            public void requestPowerOff() {
                requests.incrementAndGet();
            }

            @Override
            public void requestReset() {
                requests.incrementAndGet();
            }
        };
        AtomicInteger interrupts = new AtomicInteger();
        InterruptLine irq = new InterruptLine() {
            @Override
            public void trigger() {
                interrupts.incrementAndGet();
            }

            @Override
            public void setLevel(boolean asserted) {
                interrupts.incrementAndGet();
            }
        };
        Bus pio = new Bus("pio");
        pio.register(0x3F8, 8, new Serial16550(irq, ConsoleOutput.DISCARD), "serial");
        pio.register(I8042.BASE, I8042.LENGTH, new I8042(control), "i8042");
        pio.register(Cmos.BASE, Cmos.LENGTH, new Cmos(512L << 20, 0), "cmos");
        pio.register(AcpiPowerControl.BASE, AcpiPowerControl.LENGTH,
                new AcpiPowerControl(control), "acpi-power");
        pio.register(AcpiPmTimer.BASE, AcpiPmTimer.LENGTH, new AcpiPmTimer(), "pm-timer");
        pio.register(PortConsole.FIRMWARE_DEBUG_PORT, 1, new PortConsole(ConsoleOutput.DISCARD),
                "firmware-debug");
        pio.register(0x700, AcpiGenericEventDevice.LENGTH, new AcpiGenericEventDevice(irq),
                "ged");
        int[][] ranges = {{0x3F8, 8}, {I8042.BASE, I8042.LENGTH}, {Cmos.BASE, Cmos.LENGTH},
            {AcpiPowerControl.BASE, AcpiPowerControl.LENGTH},
            {AcpiPmTimer.BASE, AcpiPmTimer.LENGTH},
            {PortConsole.FIRMWARE_DEBUG_PORT, 1}, {0x700, AcpiGenericEventDevice.LENGTH}};

        Random random = new Random(seed);
        long[] value = new long[1];
        int handled = 0;
        for (int i = 0; i < OPERATIONS; i++) {
            int[] range = ranges[random.nextInt(ranges.length)];
            // Mostly inside the device, sometimes straddling its end.
            int port = range[0] + random.nextInt(range[1] + 2);
            int size = 1 << random.nextInt(3);
            boolean hit = random.nextBoolean()
                    ? pio.write(port, size, random.nextInt(4) == 0 ? -1L : random.nextLong())
                    : pio.read(port, size, value);
            handled += hit ? 1 : 0;
        }
        assertTrue(handled > OPERATIONS / 2, "the accesses reached the devices: " + handled);
    }
}
