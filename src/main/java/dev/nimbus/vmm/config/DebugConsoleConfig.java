package dev.nimbus.vmm.config;

import dev.nimbus.json.JsonFields;
import dev.nimbus.json.JsonObject;
import dev.nimbus.json.UnsignedType;

/**
 * The byte-wide I/O port console (port 0xe9 unless moved): {@code DebugConsoleConfig} in the API,
 * {@code --debug-console} on the command line.
 *
 * @param mode where the bytes go; socket mode is not offered
 * @param file the output file in {@link ConsoleMode#FILE} mode, otherwise null
 * @param iobase the I/O port, or null for {@value #DEFAULT_IOBASE}
 */
public record DebugConsoleConfig(ConsoleMode mode, String file, Integer iobase) {
    /** The port the QEMU-style debug console answers on by convention. */
    public static final int DEFAULT_IOBASE = 0xe9;

    /** Off, on port 0xe9. */
    public static final DebugConsoleConfig DEFAULT =
            new DebugConsoleConfig(ConsoleMode.OFF, null, DEFAULT_IOBASE);

    static final String FILE = "file";
    static final String MODE = "mode";
    static final String IOBASE = "iobase";

    /** Parses the {@code --debug-console} option string. */
    public static DebugConsoleConfig parse(String option) {
        OptionParser p = new OptionParser("Error parsing --debug-console")
                .addValueless("off", "pty", "tty", "null")
                .add(FILE, IOBASE)
                .parse(option);
        ConsoleConfig console = ConsoleConfig.common(p, "--debug-console", PciCommon.DEFAULT);
        Integer iobase = null;
        String port = p.get(IOBASE);
        if (port != null) {
            Long value = port.startsWith("0x") ? parseHex(port.substring(2)) : null;
            if (value == null) {
                throw ConfigException.invalid("The IO port was not properly provided in hex or a "
                        + "`0x` prefix is missing: " + port);
            }
            iobase = value.intValue();
        }
        return new DebugConsoleConfig(console.mode(), console.file(), iobase);
    }

    /** Parses hex digits into a 16-bit port number; null when they are not one. */
    private static Long parseHex(String digits) {
        if (digits.isEmpty()) {
            return null;
        }
        long value = 0;
        for (int i = 0; i < digits.length(); i++) {
            int digit = digits.charAt(i) > 0x7f ? -1 : Character.digit(digits.charAt(i), 16);
            value = value << 4 | digit;
            if (digit < 0 || value > 0xffff) {
                return null;
            }
        }
        return value;
    }

    static DebugConsoleConfig fromJson(JsonFields f) {
        Long iobase = f.optUnsigned(IOBASE, UnsignedType.U16);
        return new DebugConsoleConfig(
                WireEnum.read(f, MODE, ConsoleMode.values(), null),
                f.optString(FILE),
                iobase == null ? null : iobase.intValue());
    }

    /** This console as the API writes it. */
    public JsonObject toJson() {
        return JsonObject.builder()
                .putIfPresent(FILE, file)
                .put(MODE, mode.jsonName())
                .putIfPresent(IOBASE, iobase)
                .build();
    }
}
