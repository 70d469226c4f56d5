package dev.nimbus.devices.legacy;

import static dev.nimbus.devices.legacy.Cmos.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class CmosTest {
    private static final Clock FIXED =
            Clock.fixed(Instant.parse("2026-12-04T21:07:09.5Z"), ZoneOffset.UTC);

    private static int reg(Cmos cmos, int index) {
        cmos.write(0, 1, index);
        return (int) cmos.read(1, 1);
    }

    @Test
    void timeReadsAsBcdIn24HourModeByDefault() {
        Cmos cmos = new Cmos(512L << 20, 0, FIXED);
        assertEquals(0x09, reg(cmos, RTC_SECONDS));
        assertEquals(0x07, reg(cmos, RTC_MINUTES));
        assertEquals(0x21, reg(cmos, RTC_HOURS));
        assertEquals(0x04, reg(cmos, RTC_DAY_OF_MONTH));
        assertEquals(0x12, reg(cmos, RTC_MONTH));
        assertEquals(0x26, reg(cmos, RTC_YEAR));
        assertEquals(0x20, reg(cmos, RTC_CENTURY));
        assertEquals(6, reg(cmos, RTC_DAY_OF_WEEK)); // Friday, with Sunday = 1
    }

    @Test
    void binaryAnd12HourModesFollowStatusB() {
        Cmos cmos = new Cmos(512L << 20, 0, FIXED);
        cmos.write(0, 1, RTC_REG_B);
        cmos.write(1, 1, REG_B_BINARY);
        assertEquals(0x80 | 9, reg(cmos, RTC_HOURS));
        assertEquals(26, reg(cmos, RTC_YEAR));
    }

    @Test
    void memorySizeRegistersDescribeRamBelowAndAbove4G() {
        Cmos cmos = new Cmos(3L << 30, 3L << 30, FIXED);
        int above16m = reg(cmos, MEM_ABOVE_16M_LOW) | reg(cmos, MEM_ABOVE_16M_HIGH) << 8;
        assertEquals(((3L << 30) - (16 << 20)) >> 16, above16m);
        int above4g = reg(cmos, MEM_ABOVE_4G_LOW) | reg(cmos, MEM_ABOVE_4G_MID) << 8
                | reg(cmos, MEM_ABOVE_4G_HIGH) << 16;
        assertEquals((3L << 30) >> 16, above4g);
    }

    @Test
    void updateInProgressIsSetOnlyAtTheEndOfASecond() {
        Cmos quiet = new Cmos(1 << 30, 0, FIXED);
        assertEquals(0, reg(quiet, RTC_REG_A) & REG_A_UIP);
        Clock late = Clock.fixed(Instant.parse("2026-12-04T21:07:09.999900Z"), ZoneOffset.UTC);
        Cmos updating = new Cmos(1 << 30, 0, late);
        assertEquals(REG_A_UIP, reg(updating, RTC_REG_A) & REG_A_UIP);
    }

    @Test
    void nvramBytesKeepWhatTheGuestWrites() {
        Cmos cmos = new Cmos(1 << 30, 0, FIXED);
        cmos.write(0, 1, 0x80 | 0x40); // with the NMI-disable bit
        cmos.write(1, 1, 0x5A);
        assertEquals(0x5A, reg(cmos, 0x40));
    }
}
