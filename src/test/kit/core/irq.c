/*
 * Interrupts for the virtio driver: an IDT whose 256 gates lead to irq.S, the local APIC
 * software-enabled (xAPIC through MMIO or x2APIC through MSRs, whichever mode the firmware or
 * VMM left it in), a periodic APIC timer so that a wait always wakes up, and kit_wait, which
 * halts with interrupts on until a condition holds.
 *
 * Exceptions (vectors 0 to 31) are reported as KIT-ERROR what=exception and halt the guest.
 * Every other vector is counted in kit_irq_count and acknowledged with an EOI.
 */
#include "kit.h"
#include "io.h"

#define IDT_ENTRIES 256
#define KIT_IRQ_STUB_SIZE 16
#define GATE_INTERRUPT_PRESENT 0x8E     /* present, DPL 0, interrupt gate (IF cleared) */

/* IA32_APIC_BASE (SDM Vol. 3, 11.4.4) and the x2APIC MSR range (11.12.1). */
#define MSR_IA32_APICBASE 0x1B
#define APICBASE_EXTD (1u << 10)
#define APICBASE_ENABLE (1u << 11)
#define MSR_X2APIC_BASE 0x800

/* Local APIC registers, as xAPIC MMIO offsets (SDM Vol. 3, Table 11-1). */
#define APIC_ID 0x20
#define APIC_TPR 0x80
#define APIC_EOI 0xB0
#define APIC_SVR 0xF0
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_LINT0 0x350
#define APIC_TIMER_INITIAL 0x380
#define APIC_TIMER_DIVIDE 0x3E0
#define APIC_SVR_ENABLE 0x100
#define APIC_LVT_MASKED (1u << 16)
#define APIC_LVT_TIMER_PERIODIC (1u << 17)
#define APIC_TIMER_DIVIDE_BY_1 0xB

/*
 * KVM's APIC timer counts at 1 GHz unless the VMM changes it: 10 ms per period. Under
 * another rate the period differs, which only changes how often an idle wait wakes up.
 */
#define APIC_TIMER_COUNT 10000000u

/* 8259 interrupt mask registers (OCW1). */
#define PIC_MASTER_IMR 0x21
#define PIC_SLAVE_IMR 0xA1
#define MADT_PCAT_COMPAT 1u

volatile uint32_t kit_irq_count[256];

extern char kit_irq_stubs[];

static int apic_x2;
static uint64_t apic_mmio;
static int ready;
static uint32_t next_vector = KIT_FIRST_DEVICE_VECTOR;

struct __attribute__((packed)) idtr {
    uint16_t limit;
    uintptr_t base;
};

#ifdef __x86_64__
struct gate {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t ist;
    uint8_t type;
    uint16_t offset_mid;
    uint32_t offset_hi;
    uint32_t reserved;
};
#else
struct gate {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t zero;
    uint8_t type;
    uint16_t offset_hi;
};
#endif

static struct gate idt[IDT_ENTRIES] __attribute__((aligned(16)));

static uint32_t apic_read(uint32_t reg)
{
    if (apic_x2)
        return (uint32_t)rdmsr(MSR_X2APIC_BASE + (reg >> 4));
    return mmio_read32(apic_mmio + reg);
}

static void apic_write(uint32_t reg, uint32_t v)
{
    if (apic_x2)
        wrmsr(MSR_X2APIC_BASE + (reg >> 4), v);
    else
        mmio_write32(apic_mmio + reg, v);
}

static void fill_idt(void)
{
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    for (uint32_t v = 0; v < IDT_ENTRIES; v++) {
        uintptr_t handler = (uintptr_t)kit_irq_stubs + v * KIT_IRQ_STUB_SIZE;
        struct gate *g = &idt[v];
        memset(g, 0, sizeof(*g));
        g->offset_lo = (uint16_t)handler;
        g->selector = cs;
        g->type = GATE_INTERRUPT_PRESENT;
#ifdef __x86_64__
        g->offset_mid = (uint16_t)(handler >> 16);
        g->offset_hi = (uint32_t)((uint64_t)handler >> 32);
#else
        g->offset_hi = (uint16_t)(handler >> 16);
#endif
    }
    struct idtr r = {sizeof(idt) - 1, (uintptr_t)idt};
    __asm__ volatile("lidt %0" : : "m"(r) : "memory");
}

/* Vectors that push an error code (SDM Vol. 3, Table 6-1). */
static int has_error_code(uint32_t vector)
{
    return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21
           || vector == 29 || vector == 30;
}

/* Called from irq.S with interrupts off. */
void kit_irq_entry(uint32_t vector, const uintptr_t *frame)
{
    if (vector < 32) {
        int ec = has_error_code(vector);
        kit_end();
        kit_error("exception");
        kit_dec("vector", vector);
        kit_hex("rip", frame[ec]);
        if (ec)
            kit_hex("error_code", frame[0]);
        kit_end();
        kit_halt();
    }
    kit_irq_count[vector & 0xFF]++;
    if (vector != KIT_SPURIOUS_VECTOR)
        apic_write(APIC_EOI, 0);
}

/*
 * Installs the IDT and enables the local APIC with its timer; masks the 8259s where the MADT
 * says there are some, so that their timer (vector 8 after a BIOS) cannot look like a double
 * fault. Reports KIT-IRQ; returns 1 when interrupts can be used.
 */
int kit_irq_setup(void)
{
    if (ready)
        return 1;
    uint64_t base = rdmsr(MSR_IA32_APICBASE);
    apic_x2 = (base & APICBASE_EXTD) != 0;
    apic_mmio = base & 0xFFFFF000u;
    apic_mmio |= base & 0x000FFFFF00000000ull;
    if (!(base & APICBASE_ENABLE) || (!apic_x2 && kit_phys(apic_mmio, 0x1000) == NULL)) {
        kit_error("apic-unusable");
        kit_hex("apic_base", base);
        kit_end();
        return 0;
    }
    cli();
    if (kit_acpi.madt_flags & MADT_PCAT_COMPAT) {
        outb(PIC_MASTER_IMR, 0xFF);
        outb(PIC_SLAVE_IMR, 0xFF);
    }
    fill_idt();
    apic_write(APIC_TPR, 0);
    apic_write(APIC_LVT_LINT0, apic_read(APIC_LVT_LINT0) | APIC_LVT_MASKED);
    apic_write(APIC_SVR, APIC_SVR_ENABLE | KIT_SPURIOUS_VECTOR);
    apic_write(APIC_TIMER_DIVIDE, APIC_TIMER_DIVIDE_BY_1);
    apic_write(APIC_LVT_TIMER, APIC_LVT_TIMER_PERIODIC | KIT_TIMER_VECTOR);
    apic_write(APIC_TIMER_INITIAL, APIC_TIMER_COUNT);
    ready = 1;

    kit_line("IRQ");
    kit_cstr("apic", apic_x2 ? "x2apic" : "xapic");
    kit_hex("apic_base", base);
    kit_hex("apic_id", kit_irq_apic_id());
    kit_hex("idt", (uintptr_t)idt);
    kit_hex("timer_vector", KIT_TIMER_VECTOR);
    kit_bool("pic_masked", (kit_acpi.madt_flags & MADT_PCAT_COMPAT) != 0);
    kit_end();
    return 1;
}

/* Stops the APIC timer; the IDT stays. */
void kit_irq_stop(void)
{
    if (ready)
        apic_write(APIC_TIMER_INITIAL, 0);
}

/* The boot CPU's APIC ID, as MSI messages address it. */
uint32_t kit_irq_apic_id(void)
{
    if (apic_x2)
        return apic_read(APIC_ID);
    return apic_read(APIC_ID) >> 24;
}

int kit_irq_x2apic(void)
{
    return apic_x2;
}

/* The next free vector for a device interrupt; 0 when they ran out. */
uint8_t kit_irq_alloc(void)
{
    if (next_vector >= KIT_SPURIOUS_VECTOR)
        return 0;
    return (uint8_t)next_vector++;
}

/*
 * Waits until done(ctx) holds, at most timeout_ms; returns whether it does. With use_irq the
 * CPU halts with interrupts enabled between checks, so only an interrupt (a device's MSI or
 * the APIC timer) moves it on; otherwise it polls, opening a one-instruction window for
 * interrupts on each round.
 */
int kit_wait(int (*done)(void *ctx), void *ctx, uint32_t timeout_ms, int use_irq)
{
    const char *source;
    uint64_t per_ms = kit_udiv64(kit_tsc_hz(&source), 1000, NULL);
    uint64_t deadline = rdtsc() + per_ms * timeout_ms;
    for (;;) {
        if (done(ctx))
            return 1;
        if (rdtsc() > deadline)
            return done(ctx);
        if (use_irq && ready) {
            __asm__ volatile("sti; hlt; cli" ::: "memory", "cc");
        } else {
            if (ready)
                __asm__ volatile("sti; nop; cli" ::: "memory", "cc");
            pause();
        }
    }
}
