package dev.nimbus.devices.legacy;

import dev.nimbus.devices.BusDevice;
import java.time.Clock;
import java.time.ZonedDateTime;

/**
 * The CMOS RTC and NVRAM (MC146818) at ports 0x70 (index) and 0x71 (data). The clock reads the
 * host's time in UTC each time the guest looks; the NVRAM holds the memory size the way PC
 * firmware leaves it. Register map from the MC146818A data sheet and the PC BIOS conventions.
 */
public final class Cmos implements BusDevice {
    public static final int BASE = 0x70;
    public static final int LENGTH = 2;

    static final int RTC_SECONDS = 0x00;
    static final int RTC_MINUTES = 0x02;
    static final int RTC_HOURS = 0x04;
    static final int RTC_DAY_OF_WEEK = 0x06;
    static final int RTC_DAY_OF_MONTH = 0x07;
    static final int RTC_MONTH = 0x08;
    static final int RTC_YEAR = 0x09;
    static final int RTC_REG_A = 0x0A;
    static final int RTC_REG_B = 0x0B;
    static final int RTC_REG_C = 0x0C;
    static final int RTC_REG_D = 0x0D;
    static final int RTC_CENTURY = 0x32;
    static final int MEM_EXT_LOW = 0x30; // KiB above 1 MiB, up to 64 MiB
    static final int MEM_EXT_HIGH = 0x31;
    static final int MEM_ABOVE_16M_LOW = 0x34; // 64 KiB units between 16 MiB and 4 GiB
    static final int MEM_ABOVE_16M_HIGH = 0x35;
    static final int MEM_ABOVE_4G_LOW = 0x5B; // 64 KiB units above 4 GiB, three bytes
    static final int MEM_ABOVE_4G_MID = 0x5C;
    static final int MEM_ABOVE_4G_HIGH = 0x5D;

    static final int REG_A_UIP = 0x80; // update in progress
    static final int REG_A_DIVIDER = 0x26; // 32.768 kHz time base, 1024 Hz periodic rate
    static final int REG_B_24H = 0x02;
    static final int REG_B_BINARY = 0x04;
    static final int REG_D_VALID_RAM = 0x80;

    /** The update cycle takes 244 us at the end of each second; UIP is set through it. */
    private static final long UIP_NANOS = 244_000;

    private final byte[] nvram = new byte[128];
    private final Clock clock;
    private int index;

    /**
     * @param lowRamBytes RAM below the 32-bit device hole
     * @param highRamBytes RAM above 4 GiB
     */
    public Cmos(long lowRamBytes, long highRamBytes, Clock clock) {
        this.clock = clock;
        nvram[RTC_REG_A] = (byte) REG_A_DIVIDER;
        nvram[RTC_REG_B] = (byte) REG_B_24H;
        nvram[RTC_REG_D] = (byte) REG_D_VALID_RAM;

        long extKib = Math.min(Math.max(lowRamBytes - (1L << 20), 0) >> 10, 0xFFFF);
        nvram[MEM_EXT_LOW] = (byte) extKib;
        nvram[MEM_EXT_HIGH] = (byte) (extKib >> 8);
        long above16m = Math.min(Math.max(lowRamBytes - (16L << 20), 0) >> 16, 0xFFFF);
        nvram[MEM_ABOVE_16M_LOW] = (byte) above16m;
        nvram[MEM_ABOVE_16M_HIGH] = (byte) (above16m >> 8);
        long above4g = highRamBytes >> 16;
        nvram[MEM_ABOVE_4G_LOW] = (byte) above4g;
        nvram[MEM_ABOVE_4G_MID] = (byte) (above4g >> 8);
        nvram[MEM_ABOVE_4G_HIGH] = (byte) (above4g >> 16);
    }

    public Cmos(long lowRamBytes, long highRamBytes) {
        this(lowRamBytes, highRamBytes, Clock.systemUTC());
    }

    @Override
    public synchronized long read(long offset, int size) {
        if (offset == 0) {
            return index;
        }
        return switch (index) {
            case RTC_SECONDS, RTC_MINUTES, RTC_HOURS, RTC_DAY_OF_WEEK, RTC_DAY_OF_MONTH,
                    RTC_MONTH, RTC_YEAR, RTC_CENTURY -> timeRegister(index);
            case RTC_REG_A -> (nvram[RTC_REG_A] & 0x7F) | (updateInProgress() ? REG_A_UIP : 0);
            case RTC_REG_C -> 0; // no alarm, periodic or update interrupts are raised
            default -> nvram[index] & 0xFF;
        };
    }

    @Override
    public synchronized void write(long offset, int size, long value) {
        int v = (int) value & 0xFF;
        if (offset == 0) {
            index = v & 0x7F; // bit 7 is the NMI mask; there is no NMI source behind it
            return;
        }
        switch (index) {
            // TODO: the guest cannot set the clock; it always reads host UTC. Linux writes the
            // RTC only on hwclock --systohc, which guests of a VMM rarely need.
            case RTC_SECONDS, RTC_MINUTES, RTC_HOURS, RTC_DAY_OF_WEEK, RTC_DAY_OF_MONTH,
                    RTC_MONTH, RTC_YEAR, RTC_CENTURY, RTC_REG_C, RTC_REG_D -> { }
            case RTC_REG_A -> nvram[RTC_REG_A] = (byte) (v & 0x7F);
            default -> nvram[index] = (byte) v;
        }
    }

    private boolean updateInProgress() {
        long nanos = clock.instant().getNano();
        return nanos >= 1_000_000_000L - UIP_NANOS;
    }

    private int timeRegister(int reg) {
        ZonedDateTime now = ZonedDateTime.now(clock);
        int value = switch (reg) {
            case RTC_SECONDS -> now.getSecond();
            case RTC_MINUTES -> now.getMinute();
            case RTC_HOURS -> now.getHour();
            case RTC_DAY_OF_WEEK -> now.getDayOfWeek().getValue() % 7 + 1; // Sunday = 1
            case RTC_DAY_OF_MONTH -> now.getDayOfMonth();
            case RTC_MONTH -> now.getMonthValue();
            case RTC_YEAR -> now.getYear() % 100;
            default -> now.getYear() / 100; // RTC_CENTURY
        };
        int regB = nvram[RTC_REG_B];
        if (reg == RTC_HOURS && (regB & REG_B_24H) == 0) {
            // 12-hour mode: 12 for midnight and noon, bit 7 set for PM.
            int pm = value >= 12 ? 0x80 : 0;
            int h = value % 12 == 0 ? 12 : value % 12;
            return ((regB & REG_B_BINARY) != 0 ? h : toBcd(h)) | pm;
        }
        return (regB & REG_B_BINARY) != 0 ? value : toBcd(value);
    }

    private static int toBcd(int v) {
        return ((v / 10) << 4) | (v % 10);
    }
}
