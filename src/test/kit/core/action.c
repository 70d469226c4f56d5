/*
 * The action chosen with kit.action=<name> after the reports: power off, reset, halt, spin or
 * tick. Each prints one KIT-ACTION line before it acts, so a test sees what was attempted.
 */
#include "kit.h"
#include "io.h"

/* SLP_TYP for S5 as the sleep control register takes it, and SLP_EN (ACPI 6.5, 4.8.3.7). */
#define SLEEP_CONTROL_SLP_TYP_S5 5
#define SLEEP_CONTROL_SLP_TYP_SHIFT 2
#define SLEEP_CONTROL_SLP_EN (1u << 5)

/* PM1 control register: SLP_TYPx in bits 10-12, SLP_EN bit 13 (ACPI 6.5, Table 4.13). */
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_EN (1u << 13)

/* i8042 command port; command 0xFE pulses the CPU reset line. */
#define I8042_COMMAND 0x64
#define I8042_CMD_PULSE_RESET 0xFE

/* The ACPI PM timer runs at 3.579545 MHz (ACPI 6.5, 4.8.3.3); FADT flag TMR_VAL_EXT: 32 bits. */
#define PM_TIMER_HZ 3579545u
#define FADT_FLAG_TMR_VAL_EXT (1u << 8)

#define TICK_DEFAULT_MS 100
#define TICK_MAX_MS 60000
#define GUESS_TSC_HZ 1000000000ull

void kit_halt(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

static void spin_forever(void) __attribute__((noreturn));
static void spin_forever(void)
{
    for (;;)
        __asm__ volatile("" ::: "memory");
}

/* Gives a power-off or reset write time to take effect before the kit says it did not. */
static void settle(void)
{
    for (volatile uint32_t i = 0; i < 1000000; i++)
        pause();
}

static void action_line(const char *name, const char *method)
{
    kit_line("ACTION");
    kit_cstr("name", name);
    kit_cstr("method", method);
}

static void gas_fields(const struct kit_gas *g)
{
    kit_cstr("space", g->space == 0 ? "mem" : g->space == 1 ? "io" : "other");
    kit_hex("addr", g->address);
}

static void poweroff(void)
{
    const struct kit_acpi *a = &kit_acpi;
    if (a->sleep_control.address != 0) {
        /* HW-reduced ACPI: one write of SLP_TYP (5 for S5) and SLP_EN. */
        uint32_t value = (SLEEP_CONTROL_SLP_TYP_S5 << SLEEP_CONTROL_SLP_TYP_SHIFT)
                         | SLEEP_CONTROL_SLP_EN;
        action_line("poweroff", "sleep_control");
        gas_fields(&a->sleep_control);
        kit_hex("value", value);
        kit_end();
        if (!kit_gas_write(&a->sleep_control, value)) {
            kit_error("poweroff-register-unsupported");
            kit_end();
        }
    } else if (a->pm1a_cnt.address != 0) {
        /* Fixed hardware: SLP_TYPa/b come from the \_S5 package in the DSDT. */
        uint32_t typ_a = a->have_s5 ? a->s5_typ_a : SLEEP_CONTROL_SLP_TYP_S5;
        uint32_t typ_b = a->have_s5 ? a->s5_typ_b : SLEEP_CONTROL_SLP_TYP_S5;
        uint32_t value = (typ_a << PM1_CNT_SLP_TYP_SHIFT) | PM1_CNT_SLP_EN;
        action_line("poweroff", "pm1_cnt");
        gas_fields(&a->pm1a_cnt);
        kit_hex("value", value);
        kit_cstr("slp_typ_source", a->have_s5 ? "dsdt" : "default");
        kit_end();
        if (a->pm1b_cnt.address != 0)
            kit_gas_write(&a->pm1b_cnt, (typ_b << PM1_CNT_SLP_TYP_SHIFT) | PM1_CNT_SLP_EN);
        if (!kit_gas_write(&a->pm1a_cnt, value)) {
            kit_error("poweroff-register-unsupported");
            kit_end();
        }
    } else {
        action_line("poweroff", "none");
        kit_end();
        kit_error("poweroff-unsupported");
        kit_end();
        kit_halt();
    }
    settle();
    kit_error("poweroff-returned");
    kit_end();
    kit_halt();
}

static void reset(void)
{
    const struct kit_acpi *a = &kit_acpi;
    if (a->reset_reg.address == 0) {
        action_line("reset", "none");
        kit_end();
        kit_error("reset-unsupported");
        kit_end();
        kit_halt();
    }
    action_line("reset", "reset_reg");
    gas_fields(&a->reset_reg);
    kit_hex("value", a->reset_value);
    kit_end();
    if (!kit_gas_write(&a->reset_reg, a->reset_value)) {
        kit_error("reset-register-unsupported");
        kit_end();
    }
    settle();
    kit_error("reset-returned");
    kit_end();
    kit_halt();
}

static void i8042_reset(void)
{
    action_line("i8042-reset", "port");
    kit_hex("port", I8042_COMMAND);
    kit_hex("value", I8042_CMD_PULSE_RESET);
    kit_end();
    outb(I8042_COMMAND, I8042_CMD_PULSE_RESET);
    settle();
    kit_error("i8042-reset-returned");
    kit_end();
    kit_halt();
}

/*
 * An IDT limit of 0 makes every vector fault: the first exception raises #GP, that one #DF,
 * and #DF the shutdown. The first exception comes from UD2 by default; kit.fault=int3 uses
 * INT3 instead. KVM's instruction emulator cannot perform INT3 in protected mode, so where
 * the guest runs under emulation (KVM-PVM without hardware virtualization) only UD2 works.
 */
static void triple_fault(const struct kit_boot *boot)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uintptr_t base;
    } idtr = {0, 0};
    int use_int3 = kit_param_is(boot, "kit.fault", "int3");
    action_line("triple-fault", use_int3 ? "int3" : "ud2");
    kit_end();
    if (use_int3)
        __asm__ volatile("cli; lidt %0; int3" : : "m"(idtr));
    else
        __asm__ volatile("cli; lidt %0; ud2" : : "m"(idtr));
    kit_error("triple-fault-returned");
    kit_end();
    kit_halt();
}

static uint64_t measure_tsc_hz(const char **source);

/*
 * TSC ticks per second, from CPUID when it says, else measured against the PM timer or RTC.
 * Measured once; later calls return the first answer.
 */
uint64_t kit_tsc_hz(const char **source)
{
    static uint64_t hz;
    static const char *hz_source;
    if (hz == 0)
        hz = measure_tsc_hz(&hz_source);
    *source = hz_source;
    return hz;
}

static uint64_t measure_tsc_hz(const char **source)
{
    uint32_t r[4];
    cpuid(0, 0, r);
    uint32_t max_leaf = r[0];
    if (max_leaf >= 0x15) {
        cpuid(0x15, 0, r);
        if (r[0] != 0 && r[1] != 0 && r[2] != 0) {
            *source = "cpuid15";
            return kit_udiv64((uint64_t)r[2] * r[1], r[0], NULL);
        }
    }
    if (max_leaf >= 0x16) {
        cpuid(0x16, 0, r);
        if ((r[0] & 0xFFFF) != 0) {
            *source = "cpuid16";
            return (uint64_t)(r[0] & 0xFFFF) * 1000000u;
        }
    }
    cpuid(1, 0, r);
    if (r[2] & (1u << 31)) {
        cpuid(0x40000000u, 0, r);
        if (r[0] >= 0x40000010u && r[0] < 0x40000100u) {
            cpuid(0x40000010u, 0, r);
            if (r[0] != 0) {
                *source = "hypervisor";
                return (uint64_t)r[0] * 1000u;
            }
        }
    }
    const struct kit_gas *pmt = &kit_acpi.pm_timer;
    uint32_t p0, p1;
    if (pmt->address != 0 && kit_gas_read(pmt, &p0)) {
        uint32_t mask = (kit_acpi.fadt_flags & FADT_FLAG_TMR_VAL_EXT) ? 0xFFFFFFFFu : 0xFFFFFFu;
        uint32_t want = PM_TIMER_HZ / 20, elapsed = 0, tries = 0;
        uint64_t t0 = rdtsc(), t1 = t0;
        /* A timer that does not count (tries runs out) falls through to the RTC. */
        while (elapsed < want && tries++ < 10000000u) {
            kit_gas_read(pmt, &p1);
            t1 = rdtsc();
            elapsed = (p1 - p0) & mask;
        }
        if (elapsed >= want) {
            *source = "pm_timer";
            return kit_udiv64((t1 - t0) * PM_TIMER_HZ, elapsed, NULL);
        }
    }
    uint8_t s0, s1, s2;
    if (kit_rtc_read_seconds(&s0)) {
        uint32_t tries = 0;
        do {
            kit_rtc_read_seconds(&s1);
        } while (s1 == s0 && tries++ < 1000000u);
        uint64_t t0 = rdtsc();
        tries = 0;
        do {
            kit_rtc_read_seconds(&s2);
        } while (s2 == s1 && tries++ < 1000000u);
        uint64_t t1 = rdtsc();
        if (s1 != s0 && s2 != s1) {
            *source = "rtc";
            return t1 - t0;
        }
    }
    *source = "guess";
    return GUESS_TSC_HZ;
}

/* Prints KIT-TICK lines forever, one per interval, for pause and resume tests. */
static void tick(const struct kit_boot *boot)
{
    uint64_t interval_ms = TICK_DEFAULT_MS;
    if (kit_param_dec(boot, "kit.tick_ms", &interval_ms)
        && (interval_ms == 0 || interval_ms > TICK_MAX_MS))
        interval_ms = TICK_DEFAULT_MS;
    const char *source = "none";
    uint64_t hz = kit_tsc_hz(&source);
    uint32_t per_ms = (uint32_t)kit_udiv64(hz, 1000, NULL);
    if (per_ms == 0)
        per_ms = 1;
    uint64_t interval = (uint64_t)per_ms * (uint32_t)interval_ms;

    action_line("tick", "tsc");
    kit_cstr("clock", source);
    kit_dec("tsc_khz", kit_udiv64(hz, 1000, NULL));
    kit_dec("interval_ms", interval_ms);
    kit_end();

    uint64_t t0 = rdtsc();
    uint64_t next = t0 + interval;
    for (uint32_t n = 1;; n++) {
        uint64_t now;
        while ((now = rdtsc()) < next)
            pause();
        kit_line("TICK");
        kit_dec("n", n);
        kit_dec("ms", kit_udiv64(now - t0, per_ms, NULL));
        kit_end();
        next += interval;
        /* After a stall (a paused VM) start a fresh period instead of printing a burst. */
        if (now > next)
            next = now + interval;
    }
}

/*
 * Prints KIT-FLOOD lines as fast as the UART takes them, forever: for tests of a console that
 * nobody reads. Each line carries a hexadecimal sequence number, so a reader sees what was lost.
 */
static void flood(void)
{
    action_line("flood", "uart");
    kit_end();
    for (uint32_t n = 1;; n++) {
        kit_line("FLOOD");
        kit_hex("n", n);
        kit_end();
    }
}

/*
 * Ports a chaos run leaves alone: the UART that carries the report, the ACPI power control and
 * PM timer block and the i8042 (a write there may power off or reset, which a test would
 * mistake for the VMM's doing), and the ports that only log each byte (0x80, 0x402, 0xe9).
 */
static int chaos_skips_port(uint16_t port)
{
    return (port >= 0x3F8 && port <= 0x3FF) || (port >= 0x600 && port <= 0x60F)
           || (port >= 0x60 && port <= 0x64) || port == 0x80 || port == 0x402 || port == 0xE9;
}

/* The 32-bit device hole up to the I/O APIC: PCI BARs, ECAM and nothing at all. */
#define CHAOS_MMIO_START 0xC0000000u
#define CHAOS_MMIO_END 0xFEC00000u

/*
 * kit.chaos.n reads and writes of random width and value to random I/O ports and addresses in
 * the device hole (seeded by kit.chaos.seed, xorshift64), with interrupts off, then power-off.
 * A guest may do all of this; the VMM must keep running it.
 */
static void chaos(const struct kit_boot *boot)
{
    uint64_t n = 20000, seed = 1;
    kit_param_dec(boot, "kit.chaos.n", &n);
    kit_param_hex(boot, "kit.chaos.seed", &seed);
    action_line("chaos", "pio+mmio");
    kit_dec("n", n);
    kit_hex("seed", seed);
    kit_end();
    cli();
    uint64_t x = seed * 2 + 1; /* odd, and distinct for distinct seeds */
    uint32_t pio = 0, mmio = 0;
    for (uint64_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint32_t r = (uint32_t)(x >> 32);
        uint32_t v = (uint32_t)x;
        uint32_t width = r & 3;
        int write = (r >> 2) & 1;
        if ((r >> 3) & 1) {
            uint16_t port = (uint16_t)(r >> 16);
            if (chaos_skips_port(port))
                continue;
            if (width == 0)
                write ? outb(port, (uint8_t)v) : (void)inb(port);
            else if (width == 1)
                write ? outw(port, (uint16_t)v) : (void)inw(port);
            else
                write ? outl(port, v) : (void)inl(port);
            pio++;
        } else {
            /* 32-bit arithmetic: the 32-bit kit has no 64-bit division. */
            uint32_t offset = (v & ~3u) % (CHAOS_MMIO_END - CHAOS_MMIO_START);
            uint64_t addr = CHAOS_MMIO_START + offset;
            if (width == 0)
                write ? mmio_write8(addr, (uint8_t)v) : (void)mmio_read8(addr);
            else if (width == 1)
                write ? mmio_write16(addr, (uint16_t)v) : (void)mmio_read16(addr);
            else
                write ? mmio_write32(addr, v) : (void)mmio_read32(addr);
            mmio++;
        }
    }
    kit_line("CHAOS");
    kit_dec("pio", pio);
    kit_dec("mmio", mmio);
    kit_end();
    poweroff();
}

void kit_act(const struct kit_boot *boot)
{
    const char *name = "halt";
    uint32_t len = 4;
    kit_param(boot, "kit.action", &name, &len);

#define IS(s) (len == sizeof(s) - 1 && memcmp(name, s, len) == 0)
    if (IS("poweroff"))
        poweroff();
    if (IS("reset"))
        reset();
    if (IS("i8042-reset"))
        i8042_reset();
    if (IS("triple-fault"))
        triple_fault(boot);
    if (IS("tick"))
        tick(boot);
    if (IS("flood"))
        flood();
    if (IS("chaos"))
        chaos(boot);
    if (IS("spin")) {
        action_line("spin", "loop");
        kit_end();
        cli();
        spin_forever();
    }
    if (!IS("halt")) {
        kit_error("unknown-action");
        kit_str("name", name, len);
        kit_end();
    }
#undef IS
    action_line("halt", "hlt");
    kit_end();
    kit_halt();
}
