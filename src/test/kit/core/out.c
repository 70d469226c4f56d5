/*
 * The kit's output: one line per fact on the 16550 UART at I/O port 0x3F8.
 *
 * Each byte waits for the Transmitter Holding Register Empty bit (LSR bit 5) first. The wait is
 * bounded so that a UART model whose LSR never reports THRE still gets the bytes, only slower.
 */
#include "kit.h"
#include "io.h"

#define COM1_BASE 0x3F8
#define UART_THR 0
#define UART_LSR 5
#define UART_LSR_THRE 0x20
#define LSR_POLL_LIMIT 2000

static uint32_t line_count;
static uint32_t error_count;

static void uart_putc(char c)
{
    for (uint32_t i = 0; i < LSR_POLL_LIMIT; i++) {
        if (inb(COM1_BASE + UART_LSR) & UART_LSR_THRE)
            break;
    }
    outb(COM1_BASE + UART_THR, (uint8_t)c);
}

static void puts_raw(const char *s)
{
    while (*s)
        uart_putc(*s++);
}

static void put_hex_digits(uint64_t v, int min_digits)
{
    char buf[16];
    int n = 0;
    do {
        uint32_t d = (uint32_t)(v & 0xF);
        buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v >>= 4;
    } while (v != 0 && n < 16);
    while (n < min_digits)
        buf[n++] = '0';
    while (n > 0)
        uart_putc(buf[--n]);
}

static void put_escaped(const char *s, uint32_t len, int allow_space)
{
    for (uint32_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)s[i];
        int plain = c > 0x20 && c < 0x7F && c != '\\';
        if (allow_space && c == ' ')
            plain = 1;
        if (plain) {
            uart_putc((char)c);
        } else {
            uart_putc('\\');
            uart_putc('x');
            put_hex_digits(c, 2);
        }
    }
}

static void key(const char *k)
{
    uart_putc(' ');
    puts_raw(k);
    uart_putc('=');
}

/* Starts a line "KIT-<tag>"; the fields follow, kit_end() closes it. */
void kit_line(const char *tag)
{
    puts_raw("KIT-");
    puts_raw(tag);
    line_count++;
}

void kit_hex(const char *k, uint64_t value)
{
    key(k);
    puts_raw("0x");
    put_hex_digits(value, 1);
}

void kit_dec(const char *k, uint64_t value)
{
    char buf[20];
    int n = 0;
    key(k);
    do {
        uint32_t rem;
        value = kit_udiv64(value, 10, &rem);
        buf[n++] = (char)('0' + rem);
    } while (value != 0);
    while (n > 0)
        uart_putc(buf[--n]);
}

/* A value with no spaces: bytes outside printable ASCII, space and backslash become \xHH. */
void kit_str(const char *k, const char *s, uint32_t len)
{
    key(k);
    put_escaped(s, len, 0);
}

void kit_cstr(const char *k, const char *s)
{
    kit_str(k, s, (uint32_t)kit_strlen(s));
}

void kit_bool(const char *k, int value)
{
    key(k);
    uart_putc(value ? '1' : '0');
}

/* The free text field: always last on its line, it runs to the end of the line. */
void kit_text(const char *s, uint32_t len)
{
    key("text");
    put_escaped(s, len, 1);
}

void kit_end(void)
{
    uart_putc('\r');
    uart_putc('\n');
}

/* KIT-ERROR what=<what>; callers may add fields before kit_end(). */
void kit_error(const char *what)
{
    kit_line("ERROR");
    kit_cstr("what", what);
    error_count++;
}

uint32_t kit_lines(void)
{
    return line_count;
}

uint32_t kit_errors(void)
{
    return error_count;
}
