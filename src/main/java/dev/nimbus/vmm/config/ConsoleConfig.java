package dev.nimbus.vmm.config;

import dev.nimbus.json.JsonFields;
import dev.nimbus.json.JsonObject;

/**
 * The 16550 serial port ({@code SerialConfig} in the API, {@code --serial}) or the virtio-console
 * device ({@code ConsoleConfig}, {@code --console}); both say where their bytes go.
 *
 * @param mode where the bytes go
 * @param file the output file in {@link ConsoleMode#FILE} mode, or the allocated pty's path in
 *     {@link ConsoleMode#PTY} mode once the VMM has opened it; otherwise null
 * @param socket the listening Unix socket in {@link ConsoleMode#SOCKET} mode, otherwise null
 * @param pci id and PCI placement of the virtio-console; {@link PciCommon#DEFAULT} for serial
 */
public record ConsoleConfig(ConsoleMode mode, String file, String socket, PciCommon pci) {
    /** The serial port's default: present, output dropped. */
    public static final ConsoleConfig SERIAL_DEFAULT = of(ConsoleMode.NULL);
    /** The virtio-console's default: the VMM's terminal. */
    public static final ConsoleConfig CONSOLE_DEFAULT = of(ConsoleMode.TTY);

    static final String FILE = "file";
    static final String MODE = "mode";
    static final String SOCKET = "socket";

    private static final String[] VALUELESS_KEYS = {"off", "pty", "tty", "null"};
    private static final String[] VALUE_KEYS = {FILE, SOCKET};

    public ConsoleConfig {
        if (pci == null) {
            pci = PciCommon.DEFAULT;
        }
    }

    /** A console in {@code mode} with no file or socket. */
    public ConsoleConfig(ConsoleMode mode, String file, String socket) {
        this(mode, file, socket, PciCommon.DEFAULT);
    }

    /** A console in {@code mode} with no file or socket. */
    public static ConsoleConfig of(ConsoleMode mode) {
        return new ConsoleConfig(mode, null, null, PciCommon.DEFAULT);
    }

    /** This console with {@code path} as its file: how a pty's path is reported back. */
    public ConsoleConfig withFile(String path) {
        return new ConsoleConfig(mode, path, socket, pci);
    }

    /** Parses the {@code --serial} option string: {@code off|null|pty|tty|file=|socket=}. */
    public static ConsoleConfig parseSerial(String option) {
        OptionParser p = new OptionParser("Error parsing --serial")
                .addValueless(VALUELESS_KEYS)
                .add(VALUE_KEYS)
                .parse(option);
        return common(p, "--serial", PciCommon.DEFAULT);
    }

    /**
     * Parses the {@code --console} option string: a mode as for {@code --serial}, and the PCI
     * keys {@code id}, {@code iommu}, {@code pci_segment}, {@code pci_device_id}.
     */
    public static ConsoleConfig parseConsole(String option) {
        OptionParser p = new OptionParser("Error parsing --console")
                .addValueless(VALUELESS_KEYS)
                .add(VALUE_KEYS)
                .add(PciCommon.KEYS_WITH_IOMMU)
                .parse(option);
        return common(p, "--console", PciCommon.parse(option));
    }

    /**
     * Picks the mode; when several are given the first of off, pty, tty, null, file, socket wins.
     * The debug console shares this with socket left out of its keys.
     */
    static ConsoleConfig common(OptionParser p, String flag, PciCommon pci) {
        ConsoleMode mode;
        String file = null;
        String socket = null;
        if (p.isSet("off")) {
            mode = ConsoleMode.OFF;
        } else if (p.isSet("pty")) {
            mode = ConsoleMode.PTY;
        } else if (p.isSet("tty")) {
            mode = ConsoleMode.TTY;
        } else if (p.isSet("null")) {
            mode = ConsoleMode.NULL;
        } else if (p.isSet(FILE)) {
            mode = ConsoleMode.FILE;
            file = p.get(FILE);
            if (file == null) {
                throw ConfigException.invalid(Validator.CONSOLE_FILE_MISSING);
            }
        } else if (p.isSet(SOCKET)) {
            mode = ConsoleMode.SOCKET;
            socket = p.get(SOCKET);
            if (socket == null) {
                throw ConfigException.invalid(Validator.CONSOLE_SOCKET_MISSING);
            }
        } else {
            throw ConfigException.option("Error parsing " + flag + ": invalid console mode given");
        }
        return new ConsoleConfig(mode, file, socket, pci);
    }

    static ConsoleConfig serialFromJson(JsonFields f) {
        return new ConsoleConfig(mode(f), f.optString(FILE), f.optString(SOCKET),
                PciCommon.DEFAULT);
    }

    static ConsoleConfig consoleFromJson(JsonFields f) {
        return new ConsoleConfig(mode(f), f.optString(FILE), f.optString(SOCKET),
                PciCommon.fromJson(f));
    }

    private static ConsoleMode mode(JsonFields f) {
        return WireEnum.read(f, MODE, ConsoleMode.values(), null);
    }

    /** This serial port as the API writes it. */
    public JsonObject serialToJson() {
        return common().build();
    }

    /** This virtio-console as the API writes it. */
    public JsonObject consoleToJson() {
        JsonObject.Builder b = common();
        pci.toJson(b);
        return b.build();
    }

    private JsonObject.Builder common() {
        return JsonObject.builder()
                .putIfPresent(FILE, file)
                .put(MODE, mode.jsonName())
                .putIfPresent(SOCKET, socket);
    }
}
