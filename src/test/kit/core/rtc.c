/*
 * The CMOS real-time clock (MC146818, as on the PC: index port 0x70, data port 0x71).
 * Registers 0-9 hold the time of day and date, 0x0A/0x0B the status, 0x32 the century (the
 * ACPI FADT CENTURY default). A read is only consistent outside an update cycle, so the kit
 * waits for Update-In-Progress (status A bit 7) to clear and reads until two passes agree.
 */
#include "kit.h"
#include "io.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71

#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS 0x04
#define RTC_WEEKDAY 0x06
#define RTC_DAY 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_STATUS_A 0x0A
#define RTC_STATUS_B 0x0B
#define RTC_CENTURY 0x32

#define RTC_STATUS_A_UIP 0x80
#define RTC_STATUS_B_24H 0x02
#define RTC_STATUS_B_BINARY 0x04
#define RTC_HOURS_PM 0x80

#define UIP_POLL_LIMIT 200000
#define READ_ATTEMPTS 8

enum { F_SEC, F_MIN, F_HOUR, F_WDAY, F_DAY, F_MON, F_YEAR, F_CENT, F_COUNT };

static uint8_t cmos_read(uint8_t reg)
{
    outb(CMOS_INDEX, reg);
    return inb(CMOS_DATA);
}

static int wait_update_done(void)
{
    for (uint32_t i = 0; i < UIP_POLL_LIMIT; i++) {
        if (!(cmos_read(RTC_STATUS_A) & RTC_STATUS_A_UIP))
            return 1;
    }
    return 0;
}

static void read_fields(uint8_t f[F_COUNT])
{
    f[F_SEC] = cmos_read(RTC_SECONDS);
    f[F_MIN] = cmos_read(RTC_MINUTES);
    f[F_HOUR] = cmos_read(RTC_HOURS);
    f[F_WDAY] = cmos_read(RTC_WEEKDAY);
    f[F_DAY] = cmos_read(RTC_DAY);
    f[F_MON] = cmos_read(RTC_MONTH);
    f[F_YEAR] = cmos_read(RTC_YEAR);
    f[F_CENT] = cmos_read(RTC_CENTURY);
}

static uint32_t from_bcd(uint8_t v, int bcd)
{
    return bcd ? (uint32_t)((v >> 4) * 10 + (v & 0xF)) : v;
}

static void put2(char *p, uint32_t v)
{
    p[0] = (char)('0' + (v / 10) % 10);
    p[1] = (char)('0' + v % 10);
}

/* The seconds register, read outside an update cycle; 0 when the UIP bit never cleared. */
int kit_rtc_read_seconds(uint8_t *seconds)
{
    if (cmos_read(RTC_STATUS_A) == 0xFF || !wait_update_done())
        return 0;
    *seconds = cmos_read(RTC_SECONDS);
    return 1;
}

void kit_report_rtc(void)
{
    uint8_t a[F_COUNT], b[F_COUNT];
    int stable = 0, uip_ok = 1;

    /* No device answers on an empty I/O port: every read gives 0xFF. */
    if (cmos_read(RTC_STATUS_A) == 0xFF && cmos_read(RTC_STATUS_B) == 0xFF
        && cmos_read(RTC_SECONDS) == 0xFF) {
        kit_error("rtc-absent");
        kit_end();
        return;
    }

    for (int attempt = 0; attempt < READ_ATTEMPTS && !stable; attempt++) {
        uip_ok = wait_update_done();
        read_fields(a);
        uip_ok = wait_update_done() && uip_ok;
        read_fields(b);
        stable = memcmp(a, b, F_COUNT) == 0;
    }
    uint8_t status_a = cmos_read(RTC_STATUS_A);
    uint8_t status_b = cmos_read(RTC_STATUS_B);

    int bcd = !(status_b & RTC_STATUS_B_BINARY);
    int h24 = (status_b & RTC_STATUS_B_24H) != 0;
    uint32_t hour_raw = b[F_HOUR];
    uint32_t hour;
    if (h24) {
        hour = from_bcd((uint8_t)hour_raw, bcd);
    } else {
        /* 12-hour mode: bit 7 is PM, 12 means midnight or noon. */
        hour = from_bcd((uint8_t)(hour_raw & ~RTC_HOURS_PM), bcd) % 12;
        if (hour_raw & RTC_HOURS_PM)
            hour += 12;
    }
    uint32_t century = (b[F_CENT] == 0 || b[F_CENT] == 0xFF) ? 20 : from_bcd(b[F_CENT], bcd);
    uint32_t year = century * 100 + from_bcd(b[F_YEAR], bcd);
    uint32_t month = from_bcd(b[F_MON], bcd);
    uint32_t day = from_bcd(b[F_DAY], bcd);
    uint32_t minute = from_bcd(b[F_MIN], bcd);
    uint32_t second = from_bcd(b[F_SEC], bcd);

    char date[10], time[8];
    put2(date, year / 100);
    put2(date + 2, year % 100);
    date[4] = '-';
    put2(date + 5, month);
    date[7] = '-';
    put2(date + 8, day);
    put2(time, hour);
    time[2] = ':';
    put2(time + 3, minute);
    time[5] = ':';
    put2(time + 6, second);

    kit_line("RTC");
    kit_str("date", date, 10);
    kit_str("time", time, 8);
    kit_dec("weekday", from_bcd(b[F_WDAY], bcd));
    kit_hex("century_reg", b[F_CENT]);
    kit_hex("status_a", status_a);
    kit_hex("status_b", status_b);
    kit_bool("bcd", bcd);
    kit_bool("h24", h24);
    kit_bool("stable", stable);
    kit_bool("uip_ok", uip_ok);
    kit_end();
}
