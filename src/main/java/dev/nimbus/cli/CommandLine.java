package dev.nimbus.cli;

import dev.nimbus.vmm.config.BalloonConfig;
import dev.nimbus.vmm.config.ConfigException;
import dev.nimbus.vmm.config.ConsoleConfig;
import dev.nimbus.vmm.config.CpusConfig;
import dev.nimbus.vmm.config.DebugConsoleConfig;
import dev.nimbus.vmm.config.DiskConfig;
import dev.nimbus.vmm.config.FsConfig;
import dev.nimbus.vmm.config.MemoryConfig;
import dev.nimbus.vmm.config.NetConfig;
import dev.nimbus.vmm.config.OptionParser;
import dev.nimbus.vmm.config.PayloadConfig;
import dev.nimbus.vmm.config.PmemConfig;
import dev.nimbus.vmm.config.RngConfig;
import dev.nimbus.vmm.config.VmConfig;
import dev.nimbus.vmm.config.VsockConfig;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code cloud-hypervisor} command line as Nimbus reads it: which VM to build (if any) and how
 * the VMM itself runs.
 *
 * <p>Options are spelled as Cloud Hypervisor spells them, {@code --opt value} or
 * {@code --opt=value}; {@code --disk}, {@code --net}, {@code --fs} and {@code --pmem} take several
 * values after one flag and may be repeated. Options that configure the VM need a payload
 * ({@code --kernel} or {@code --firmware}); without one there is no VM and the VMM only serves
 * its API. Cloud Hypervisor options Nimbus does not implement yet are refused by name.
 *
 * @param vmConfig the validated VM to create and boot; empty when no payload was given
 * @param apiSocket where to serve the HTTP API, if anywhere
 * @param eventMonitor where to write events, if anywhere
 * @param verbosity how many {@code -v} were given: 0 warnings, 1 info, 2 debug, 3+ trace
 * @param logFile where to log instead of standard error, if anywhere
 * @param seccomp what the system call filter does with a call it does not allow
 * @param noShutdown whether the VMM keeps running after the guest shuts down
 * @param version whether to print the version and exit
 * @param help whether to print the help text and exit
 */
public record CommandLine(
        Optional<VmConfig> vmConfig,
        Optional<Target> apiSocket,
        Optional<Target> eventMonitor,
        int verbosity,
        Optional<String> logFile,
        Seccomp seccomp,
        boolean noShutdown,
        boolean version,
        boolean help) {

    /** A socket or file given by path, or a file descriptor inherited from the parent. */
    public sealed interface Target {
        /** A path to create or open. */
        record Path(String path) implements Target {}

        /** An open file descriptor. */
        record Fd(int fd) implements Target {}
    }

    /** What the seccomp filter does on a system call it does not allow ({@code --seccomp}). */
    public enum Seccomp {
        /** {@code true}: the thread gets SIGSYS and the VMM dies. */
        TRAP("true"),
        /** {@code false}: no filter. */
        OFF("false"),
        /** {@code log}: the call is allowed and logged by the kernel. */
        LOG("log"),
        /** {@code errno}: the call fails with EPERM. */
        ERRNO("errno");

        private final String cliName;

        Seccomp(String cliName) {
            this.cliName = cliName;
        }

        public String cliName() {
            return cliName;
        }
    }

    /** The log level {@link #verbosity()} asks for. */
    public Level logLevel() {
        return switch (verbosity) {
            case 0 -> Level.WARNING;
            case 1 -> Level.INFO;
            case 2 -> Level.DEBUG;
            default -> Level.TRACE;
        };
    }

    private enum Arity { ONE, MANY, FLAG }

    /** One accepted option: how many values it takes and whether it configures the VM. */
    private record Spec(Arity arity, boolean vmOption, String defaultValue) {}

    private static final String KERNEL = "kernel";
    private static final String FIRMWARE = "firmware";

    /** Accepted options, in the order their values are parsed (the reference order). */
    private static final Map<String, Spec> SPECS = new LinkedHashMap<>();

    static {
        SPECS.put(KERNEL, new Spec(Arity.ONE, false, null));
        SPECS.put(FIRMWARE, new Spec(Arity.ONE, false, null));
        SPECS.put("initramfs", new Spec(Arity.ONE, true, null));
        SPECS.put("cmdline", new Spec(Arity.ONE, true, null));
        SPECS.put("disk", new Spec(Arity.MANY, true, null));
        SPECS.put("net", new Spec(Arity.MANY, true, null));
        SPECS.put("rng", new Spec(Arity.ONE, true, "src=" + RngConfig.DEFAULT_SOURCE));
        SPECS.put("balloon", new Spec(Arity.ONE, true, null));
        SPECS.put("fs", new Spec(Arity.MANY, true, null));
        SPECS.put("pmem", new Spec(Arity.MANY, true, null));
        SPECS.put("console", new Spec(Arity.ONE, true, "tty"));
        SPECS.put("serial", new Spec(Arity.ONE, true, "null"));
        SPECS.put("debug-console", new Spec(Arity.ONE, true, "off,iobase=0xe9"));
        SPECS.put("vsock", new Spec(Arity.ONE, true, null));
        SPECS.put("cpus", new Spec(Arity.ONE, true,
                "boot=" + CpusConfig.DEFAULT_VCPUS + ",max_phys_bits="
                        + CpusConfig.DEFAULT_MAX_PHYS_BITS));
        SPECS.put("memory", new Spec(Arity.ONE, true, "size=512M"));
        SPECS.put("api-socket", new Spec(Arity.ONE, false, null));
        SPECS.put("event-monitor", new Spec(Arity.ONE, false, null));
        SPECS.put("log-file", new Spec(Arity.ONE, false, null));
        SPECS.put("seccomp", new Spec(Arity.ONE, false, "true"));
        SPECS.put("no-shutdown", new Spec(Arity.FLAG, false, null));
        SPECS.put("version", new Spec(Arity.FLAG, false, null));
        SPECS.put("help", new Spec(Arity.FLAG, false, null));
    }

    /** Cloud Hypervisor options that Nimbus does not implement yet. */
    private static final List<String> NOT_SUPPORTED = List.of("dbus-object-path",
            "dbus-service-name", "dbus-system-bus", "device", "fw-cfg-config", "gdb",
            "generic-vhost-user", "host-data", "igvm", "ivshmem", "landlock", "landlock-rules",
            "log-format", "memory-zone", "numa", "pci-segment", "platform", "pvmemcontrol",
            "pvpanic", "rate-limit-group", "restore", "rtc", "tpm", "user-device", "vdpa",
            "watchdog");

    /**
     * Reads {@code args} (without the program name).
     *
     * @throws CommandLineException with one line for standard error
     */
    public static CommandLine parse(String... args) throws CommandLineException {
        Scan scan = new Scan(args);
        if (!scan.run()) {
            return help(scan.verbosity);
        }
        Map<String, List<String>> given = scan.given;

        boolean payload = given.containsKey(KERNEL) || given.containsKey(FIRMWARE);
        if (!payload) {
            for (String name : SPECS.keySet()) {
                if (SPECS.get(name).vmOption() && given.containsKey(name)) {
                    throw new CommandLineException(
                            "--" + name + " requires a payload: --kernel or --firmware");
                }
            }
        }
        Seccomp seccomp = seccomp(one(given, "seccomp"));
        if (scan.version) {
            return new CommandLine(Optional.empty(), Optional.empty(), Optional.empty(),
                    scan.verbosity, Optional.empty(), seccomp, false, true, false);
        }

        Optional<Target> apiSocket = Optional.ofNullable(apiSocket(given.get("api-socket")));
        Optional<Target> eventMonitor = Optional.ofNullable(
                eventMonitor(given.get("event-monitor")));
        Optional<VmConfig> vm = payload ? Optional.of(vmConfig(given)) : Optional.empty();
        return new CommandLine(vm, apiSocket, eventMonitor, scan.verbosity,
                Optional.ofNullable(one(given, "log-file")), seccomp,
                given.containsKey("no-shutdown"), false, false);
    }

    /**
     * One pass over the arguments that sorts them into options and values, the way the reference
     * command line does before any value is interpreted.
     */
    private static final class Scan {
        private final String[] args;
        private final Map<String, List<String>> given = new HashMap<>();
        private int next;
        private int verbosity;
        private boolean version;

        Scan(String[] args) {
            this.args = args;
        }

        /** Reads every argument; false when help was asked for, which ends the scan. */
        boolean run() throws CommandLineException {
            while (next < args.length) {
                String arg = args[next++];
                boolean goOn;
                if (arg.startsWith("--") && arg.length() > 2) {
                    goOn = longOption(arg);
                } else if (arg.startsWith("-") && arg.length() > 1 && !arg.startsWith("--")) {
                    goOn = shortFlags(arg);
                } else {
                    throw new CommandLineException("Unexpected argument '" + arg + "' found");
                }
                if (!goOn) {
                    return false;
                }
            }
            return true;
        }

        /** {@code --name}, {@code --name value...} or {@code --name=value}. */
        private boolean longOption(String arg) throws CommandLineException {
            int eq = arg.indexOf('=');
            String name = arg.substring(2, eq < 0 ? arg.length() : eq);
            String inline = eq < 0 ? null : arg.substring(eq + 1);
            Spec spec = SPECS.get(name);
            if (spec == null) {
                throw new CommandLineException(NOT_SUPPORTED.contains(name)
                        ? "--" + name + " is not supported by Nimbus yet"
                        : "Unexpected argument '" + arg + "' found");
            }
            List<String> values = given.get(name);
            if (values != null && spec.arity() != Arity.MANY) {
                throw new CommandLineException("--" + name + " cannot be used multiple times");
            }
            if (values == null) {
                values = new ArrayList<>();
                given.put(name, values);
            }
            if (spec.arity() == Arity.FLAG) {
                if (inline != null) {
                    throw new CommandLineException("Unexpected value '" + inline + "' for --"
                            + name + ", which takes none");
                }
                version |= name.equals("version");
                return !name.equals("help");
            }
            if (inline != null) {
                values.add(inline);
            } else {
                int before = values.size();
                while (next < args.length && isValue(args[next])
                        && (values.size() == before || spec.arity() == Arity.MANY)) {
                    values.add(args[next++]);
                }
                if (values.size() == before) {
                    throw new CommandLineException(
                            "A value is required for --" + name + " but none was supplied");
                }
            }
            if (name.equals("seccomp")) {
                seccomp(values.get(0));
            }
            return true;
        }

        /** A cluster of one-letter flags such as {@code -vvV}. */
        private boolean shortFlags(String arg) throws CommandLineException {
            for (int c = 1; c < arg.length(); c++) {
                switch (arg.charAt(c)) {
                    case 'v' -> verbosity++;
                    case 'V' -> version = true;
                    case 'h' -> {
                        return false;
                    }
                    default -> throw new CommandLineException(
                            "Unexpected argument '-" + arg.charAt(c) + "' found");
                }
            }
            return true;
        }
    }

    private static CommandLine help(int verbosity) {
        return new CommandLine(Optional.empty(), Optional.empty(), Optional.empty(), verbosity,
                Optional.empty(), Seccomp.TRAP, false, false, true);
    }

    /** Whether {@code arg} is a value rather than the next option. */
    private static boolean isValue(String arg) {
        return !arg.startsWith("-") || arg.equals("-");
    }

    private static String one(Map<String, List<String>> given, String name) {
        List<String> values = given.get(name);
        return values == null ? SPECS.get(name).defaultValue() : values.get(0);
    }

    private static Seccomp seccomp(String value) throws CommandLineException {
        for (Seccomp s : Seccomp.values()) {
            if (s.cliName().equals(value)) {
                return s;
            }
        }
        throw new CommandLineException("Invalid value '" + value
                + "' for --seccomp: possible values are true, false, log, errno");
    }

    /** {@code path=P}, {@code fd=N}, or a bare path. */
    private static Target apiSocket(List<String> values) throws CommandLineException {
        if (values == null) {
            return null;
        }
        String value = values.get(0);
        if (value.indexOf('=') < 0) {
            // Without '=' no key can be set, so the value is the path itself. Deciding that
            // here skips an exception on what is the usual form.
            return new Target.Path(value);
        }
        OptionParser p = new OptionParser("Error parsing --api-socket").add("path", "fd");
        try {
            p.parse(value);
        } catch (ConfigException e) {
            // A bare path is not key=value; whatever parsed before the error still counts.
        }
        // The reference VMM takes fd and drops path without a word; a socket other than the
        // one named would then serve the API, so both at once is refused instead.
        if (p.isSet("fd") && p.isSet("path")) {
            throw new CommandLineException("Error parsing --api-socket: path and fd are mutually"
                    + " exclusive: give path=<socket path> or fd=<listening socket>, not both");
        }
        // An empty value (path= or fd=) is kept as given, for the checks to reject it.
        if (p.isSet("fd")) {
            String fd = p.get("fd");
            return new Target.Fd(fd("--api-socket", fd != null ? fd : ""));
        }
        if (p.isSet("path")) {
            String path = p.get("path");
            return new Target.Path(path != null ? path : "");
        }
        return new Target.Path(value);
    }

    /** {@code path=P} or {@code fd=N}; one of them is required. */
    private static Target eventMonitor(List<String> values) throws CommandLineException {
        if (values == null) {
            return null;
        }
        OptionParser p = new OptionParser("Error parsing --event-monitor").add("path", "fd");
        try {
            p.parse(values.get(0));
        } catch (ConfigException e) {
            throw new CommandLineException(e.getMessage());
        }
        String fd = p.get("fd");
        if (p.isSet("fd") && fd != null) {
            return new Target.Fd(fd("--event-monitor", fd));
        }
        String path = p.get("path");
        if (path != null) {
            return new Target.Path(path);
        }
        throw new CommandLineException("Error parsing --event-monitor: path or fd required");
    }

    private static int fd(String option, String text) throws CommandLineException {
        try {
            int fd = Integer.parseInt(text);
            if (fd >= 0) {
                return fd;
            }
        } catch (NumberFormatException e) {
            // Reported below.
        }
        throw new CommandLineException(
                "Error parsing " + option + ": fd=" + text + " is not a file descriptor number");
    }

    private static VmConfig vmConfig(Map<String, List<String>> given)
            throws CommandLineException {
        // Loops rather than method references, and the reference order of parsing: disks first,
        // cpus and memory last, so the same bad command line reports the same first error.
        try {
            List<DiskConfig> disks = new ArrayList<>();
            for (String value : values(given, "disk")) {
                disks.add(DiskConfig.parse(value));
            }
            List<NetConfig> nets = new ArrayList<>();
            for (String value : values(given, "net")) {
                nets.add(NetConfig.parse(value));
            }
            RngConfig rng = RngConfig.parse(one(given, "rng"));
            BalloonConfig balloon = given.containsKey("balloon")
                    ? BalloonConfig.parse(one(given, "balloon")) : null;
            List<FsConfig> fs = new ArrayList<>();
            for (String value : values(given, "fs")) {
                fs.add(FsConfig.parse(value));
            }
            List<PmemConfig> pmem = new ArrayList<>();
            for (String value : values(given, "pmem")) {
                pmem.add(PmemConfig.parse(value));
            }
            ConsoleConfig console = ConsoleConfig.parseConsole(one(given, "console"));
            ConsoleConfig serial = ConsoleConfig.parseSerial(one(given, "serial"));
            DebugConsoleConfig debugConsole = DebugConsoleConfig.parse(one(given, "debug-console"));
            VsockConfig vsock = given.containsKey("vsock")
                    ? VsockConfig.parse(one(given, "vsock")) : null;
            PayloadConfig payload = new PayloadConfig(one(given, KERNEL), one(given, "initramfs"),
                    one(given, "cmdline"), one(given, FIRMWARE));
            CpusConfig cpus = CpusConfig.parse(one(given, "cpus"));
            MemoryConfig memory = MemoryConfig.parse(one(given, "memory"));
            return VmConfig.builder().disks(disks).net(nets).rng(rng).balloon(balloon).fs(fs)
                    .pmem(pmem).console(console).serial(serial).debugConsole(debugConsole)
                    .vsock(vsock).payload(payload).cpus(cpus).memory(memory)
                    .build()
                    .check();
        } catch (ConfigException e) {
            throw new CommandLineException(e.kind() == ConfigException.Kind.VALIDATION
                    ? "Error validating configuration: " + e.getMessage()
                    : e.getMessage());
        }
    }

    private static List<String> values(Map<String, List<String>> given, String name) {
        List<String> values = given.get(name);
        return values == null ? List.of() : values;
    }
}
