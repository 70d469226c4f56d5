package dev.nimbus.testkit;

import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Pattern;

/**
 * What a kit guest reported on the serial port, as structured facts.
 *
 * <p>The input is the raw UART output; anything that is not a kit line (firmware banners,
 * terminal escapes, text before {@code KIT-} on a line) is skipped. The line format is
 * described in {@code src/test/kit/README.md}: {@code KIT-<TAG>} followed by {@code key=value}
 * fields, hex numbers with {@code 0x}, {@code \xHH} escapes, and a last {@code text=} field
 * that runs to the end of the line.
 */
public final class KitReport {
    private static final String PREFIX = "KIT-";
    private static final Pattern TAG = Pattern.compile("[A-Z0-9][A-Z0-9-]*");
    private static final Pattern ANSI_ESCAPE = Pattern.compile("\u001b(\\[[0-9;?]*[A-Za-z]|.)");
    private static final String TEXT_KEY = "text";

    private final List<Line> lines;
    private final String raw;

    private KitReport(List<Line> lines, String raw) {
        this.lines = List.copyOf(lines);
        this.raw = raw;
    }

    /**
     * Parses UART output. Only complete lines count: output captured while the guest still
     * prints may end in the middle of a line, which is left out.
     */
    public static KitReport parse(String output) {
        List<Line> parsed = new ArrayList<>();
        String[] physicalLines = output.split("\n", -1);
        for (int i = 0; i < physicalLines.length - 1; i++) {
            String physical = physicalLines[i];
            Line line = parseLine(physical);
            if (line != null) {
                parsed.add(line);
            }
        }
        return new KitReport(parsed, output);
    }

    /** One kit line: its tag without {@code KIT-}, its fields in order, its text. */
    public record Line(String tag, Map<String, String> fields, String raw) {
        /** The value of {@code key}, unescaped; fails when the line has no such field. */
        public String get(String key) {
            String v = fields.get(key);
            if (v == null) {
                throw new IllegalArgumentException("kit line has no field: key=" + key
                        + " line=" + raw);
            }
            return v;
        }

        public Optional<String> find(String key) {
            return Optional.ofNullable(fields.get(key));
        }

        public boolean has(String key) {
            return fields.containsKey(key);
        }

        /** A number field: hexadecimal with {@code 0x}, decimal without. */
        public long number(String key) {
            return parseNumber(get(key), key, raw);
        }

        public int intNumber(String key) {
            return Math.toIntExact(number(key));
        }

        /** A flag field: {@code 0} or {@code 1}. */
        public boolean flag(String key) {
            return switch (get(key)) {
                case "1" -> true;
                case "0" -> false;
                default -> throw new IllegalArgumentException("kit field is not a flag: key="
                        + key + " line=" + raw);
            };
        }
    }

    /** A memory map entry (PVH memmap or E820). Type 1 is RAM. */
    public record MemoryRange(long addr, long size, int type, String source) {
        public static final int TYPE_RAM = 1;

        public long end() {
            return addr + size;
        }

        public boolean isRam() {
            return type == TYPE_RAM;
        }
    }

    /** A boot module (PVH module or Linux initrd) and the CRC-32 the guest computed over it. */
    public record Module(int index, String source, long addr, long size, OptionalLong crc32) {
    }

    /** The RSDP and where the guest found it: {@code boot}, {@code ebda} or {@code bios}. */
    public record Rsdp(long addr, String source, String oem, int revision, String extChecksum,
                       long rsdt, long xsdt) {
    }

    /** An ACPI table; {@code checksum} is {@code ok}, {@code bad}, {@code unchecked} or
     * {@code none} (the FACS has none). */
    public record AcpiTable(String signature, long addr, long length, int revision,
                            String checksum, String oem, String via) {
        public boolean checksumOk() {
            return checksum.equals("ok");
        }
    }

    /** A MADT processor entry: Processor Local APIC (type 0) or Local x2APIC (type 9). */
    public record LocalApic(long uid, long apicId, long flags, boolean enabled,
                            boolean onlineCapable, boolean x2apic) {
    }

    /** A MADT I/O APIC entry. */
    public record IoApic(int id, long addr, long gsiBase) {
    }

    /** A MADT interrupt source override. */
    public record InterruptOverride(int bus, int source, long gsi, int flags) {
    }

    /** The FADT facts the kit reports. */
    public record Fadt(long addr, int revision, long flags, boolean hwReduced,
                       boolean resetRegSupported, long dsdt, long facs) {
    }

    /** A register the FADT describes (an ACPI Generic Address Structure). */
    public record AcpiRegister(String name, String space, int width, long addr,
                               OptionalLong value) {
    }

    /** The CMOS RTC reading, decoded to a calendar date and time (no zone: what the RTC holds). */
    public record Rtc(LocalDateTime dateTime, boolean bcd, boolean h24, int centuryRegister,
                      boolean stable) {
    }

    /** CPUID facts of the boot CPU. */
    public record Cpu(String vendor, int family, int model, int apicId, boolean hypervisor,
                      boolean x2apic, boolean longMode) {
    }

    /** One {@code KIT-TICK}: its number and the TSC milliseconds since ticking began. */
    public record Tick(long n, long ms) {
    }

    /** All kit lines in order. */
    public List<Line> lines() {
        return lines;
    }

    /** The lines with {@code tag} (without {@code KIT-}), in order. */
    public List<Line> lines(String tag) {
        return lines.stream().filter(l -> l.tag().equals(tag)).toList();
    }

    public Optional<Line> first(String tag) {
        return lines.stream().filter(l -> l.tag().equals(tag)).findFirst();
    }

    /** The line with {@code tag}; fails with the whole output when there is none. */
    public Line require(String tag) {
        return first(tag).orElseThrow(() -> new IllegalStateException(
                "kit output has no KIT-" + tag + " line:\n" + raw));
    }

    public boolean ready() {
        return first("READY").isPresent();
    }

    public boolean done() {
        return first("DONE").isPresent();
    }

    /** {@code pvh} or {@code bzimage}. */
    public String bootPath() {
        return require("READY").get("boot");
    }

    /** The CPU mode the guest was entered in: 16, 32 or 64. */
    public int entryBits() {
        return require("READY").intNumber("entry");
    }

    public long loadAddress() {
        return require("READY").number("load");
    }

    /** The registers at entry as the guest recorded them. */
    public Line entry() {
        return require("ENTRY");
    }

    public String commandLine() {
        return require("CMDLINE").get(TEXT_KEY);
    }

    public List<MemoryRange> memoryMap() {
        return lines("MEM").stream().map(l -> new MemoryRange(l.number("addr"),
                l.number("size"), l.intNumber("type"), l.get("source"))).toList();
    }

    /** Bytes of RAM (type 1) in the memory map. */
    public long ramBytes() {
        return memoryMap().stream().filter(MemoryRange::isRam).mapToLong(MemoryRange::size).sum();
    }

    /** The highest end of RAM in the memory map. */
    public long ramTop() {
        return memoryMap().stream().filter(MemoryRange::isRam).mapToLong(MemoryRange::end)
                .max().orElse(0);
    }

    public List<Module> modules() {
        return lines("MODULE").stream().map(l -> {
            String crc = l.get("crc32");
            OptionalLong value = crc.startsWith("0x")
                    ? OptionalLong.of(l.number("crc32")) : OptionalLong.empty();
            return new Module(l.intNumber("i"), l.get("source"), l.number("addr"),
                    l.number("size"), value);
        }).toList();
    }

    public Optional<Rsdp> rsdp() {
        return first("ACPI-RSDP").map(l -> new Rsdp(l.number("addr"), l.get("source"),
                l.get("oem"), l.intNumber("revision"), l.get("ext_checksum"), l.number("rsdt"),
                l.number("xsdt")));
    }

    /** Every ACPI table reported, the root tables, DSDT and FACS included. */
    public List<AcpiTable> acpiTables() {
        return lines("ACPI-TABLE").stream().filter(l -> l.has("sig")).map(l -> new AcpiTable(
                l.get("sig"), l.number("addr"), l.number("length"),
                l.has("revision") ? l.intNumber("revision") : 0, l.get("checksum"),
                l.find("oem").orElse(""), l.get("via"))).toList();
    }

    public Optional<AcpiTable> acpiTable(String signature) {
        return acpiTables().stream().filter(t -> t.signature().equals(signature)).findFirst();
    }

    /** MADT processor entries, local APIC and x2APIC, in table order. */
    public List<LocalApic> localApics() {
        return lines.stream()
                .filter(l -> l.tag().equals("MADT-LAPIC") || l.tag().equals("MADT-X2APIC"))
                .map(l -> new LocalApic(l.number("uid"), l.number("apic_id"), l.number("flags"),
                        l.flag("enabled"), l.flag("online_capable"),
                        l.tag().equals("MADT-X2APIC")))
                .toList();
    }

    public List<IoApic> ioApics() {
        return lines("MADT-IOAPIC").stream().map(l -> new IoApic(l.intNumber("id"),
                l.number("addr"), l.number("gsi_base"))).toList();
    }

    public List<InterruptOverride> interruptOverrides() {
        return lines("MADT-ISO").stream().map(l -> new InterruptOverride(l.intNumber("bus"),
                l.intNumber("source"), l.number("gsi"), l.intNumber("flags"))).toList();
    }

    /** Enabled processors in the MADT, as the guest counted them. */
    public int enabledCpus() {
        return require("CPUS").intNumber("enabled");
    }

    public Optional<Fadt> fadt() {
        return first("FADT").map(l -> new Fadt(l.number("addr"), l.intNumber("revision"),
                l.number("flags"), l.flag("hw_reduced"), l.flag("reset_reg_sup"),
                l.number("dsdt"), l.number("facs")));
    }

    /** A FADT register by name: pm1a_cnt, pm1b_cnt, pm_timer, reset, sleep_control, ... */
    public Optional<AcpiRegister> fadtRegister(String name) {
        return lines("FADT-REG").stream().filter(l -> l.get("name").equals(name)).findFirst()
                .map(l -> new AcpiRegister(name, l.get("space"), l.intNumber("width"),
                        l.number("addr"), l.has("value")
                                ? OptionalLong.of(l.number("value")) : OptionalLong.empty()));
    }

    public Optional<Rtc> rtc() {
        return first("RTC").map(l -> new Rtc(
                LocalDateTime.of(LocalDate.parse(l.get("date")), LocalTime.parse(l.get("time"))),
                l.flag("bcd"), l.flag("h24"), l.intNumber("century_reg"), l.flag("stable")));
    }

    public Cpu cpu() {
        Line l = require("CPU");
        return new Cpu(l.get("vendor"), l.intNumber("family"), l.intNumber("model"),
                l.intNumber("apic_id"), l.flag("hypervisor"), l.flag("x2apic"), l.flag("lm"));
    }

    /** The hypervisor's CPUID signature (leaf 0x40000000), e.g. {@code KVMKVMKVM}. */
    public Optional<String> hypervisorVendor() {
        return first("HYPERVISOR").map(l -> l.get("vendor"));
    }

    /** The {@code KIT-ACTION} line: what the guest was about to do when it stopped reporting. */
    public Optional<Line> action() {
        return first("ACTION");
    }

    public List<Tick> ticks() {
        return lines("TICK").stream().map(l -> new Tick(l.number("n"), l.number("ms"))).toList();
    }

    /** The {@code KIT-ERROR} lines; each has a {@code what} field. */
    public List<Line> errors() {
        return lines("ERROR");
    }

    /** The raw output the report was parsed from. */
    @Override
    public String toString() {
        return raw;
    }

    private static Line parseLine(String physical) {
        String s = ANSI_ESCAPE.matcher(physical).replaceAll("");
        int start = s.indexOf(PREFIX);
        if (start < 0) {
            return null;
        }
        s = s.substring(start).stripTrailing();
        int space = s.indexOf(' ');
        String tag = s.substring(PREFIX.length(), space < 0 ? s.length() : space);
        if (!TAG.matcher(tag).matches()) {
            return null;
        }
        Map<String, String> fields = new LinkedHashMap<>();
        int pos = space < 0 ? s.length() : space + 1;
        while (pos < s.length()) {
            if (s.startsWith(TEXT_KEY + "=", pos)) {
                fields.put(TEXT_KEY, unescape(s.substring(pos + TEXT_KEY.length() + 1)));
                break;
            }
            int end = s.indexOf(' ', pos);
            if (end < 0) {
                end = s.length();
            }
            String token = s.substring(pos, end);
            int eq = token.indexOf('=');
            if (eq <= 0) {
                return null;
            }
            fields.put(token.substring(0, eq), unescape(token.substring(eq + 1)));
            pos = end + 1;
        }
        return new Line(tag, Collections.unmodifiableMap(fields), s);
    }

    /**
     * Undoes the kit's {@code \xHH} escapes, byte for char (ISO-8859-1): a UTF-8 command line
     * comes back as its bytes, so tests should compare ASCII text.
     */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() && s.charAt(i + 1) == 'x'
                    && isHex(s.charAt(i + 2)) && isHex(s.charAt(i + 3))) {
                b.append((char) Integer.parseInt(s.substring(i + 2, i + 4), 16));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static boolean isHex(char c) {
        return Character.digit(c, 16) >= 0;
    }

    private static long parseNumber(String v, String key, String line) {
        try {
            if (v.startsWith("0x")) {
                return Long.parseUnsignedLong(v.substring(2), 16);
            }
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("kit field is not a number: key=" + key
                    + " value=" + v + " line=" + line, e);
        }
    }
}
