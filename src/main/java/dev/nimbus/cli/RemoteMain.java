package dev.nimbus.cli;

import dev.nimbus.api.ApiClient;
import dev.nimbus.json.JsonArray;
import dev.nimbus.json.JsonException;
import dev.nimbus.json.JsonNull;
import dev.nimbus.json.JsonObject;
import dev.nimbus.json.JsonParser;
import dev.nimbus.json.JsonString;
import dev.nimbus.json.JsonValue;
import dev.nimbus.json.JsonWriter;
import dev.nimbus.json.UnsignedType;
import dev.nimbus.vmm.config.ConfigException;
import dev.nimbus.vmm.config.DiskConfig;
import dev.nimbus.vmm.config.FsConfig;
import dev.nimbus.vmm.config.NetConfig;
import dev.nimbus.vmm.config.OptionParser;
import dev.nimbus.vmm.config.PmemConfig;
import dev.nimbus.vmm.config.VsockConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code nimbus-remote}: controls a running VMM through its API socket, with the command line
 * and output of Cloud Hypervisor's {@code ch-remote}.
 *
 * <p>{@code nimbus-remote --api-socket PATH COMMAND [ARGS]}. Device options ({@code add-disk
 * path=/img,readonly=on}) use the same grammar as the VMM's command line and are sent as JSON;
 * {@code add-net fd=[3,4]} sends those descriptors of this process along as {@code SCM_RIGHTS}.
 * A response body is printed as it came; a failure prints the server's error chain on standard
 * error and exits with 1; a usage error exits with 2.
 */
public final class RemoteMain {
    static final String PROGRAM = "nimbus-remote";

    /** Marks a chain entry printed without its level number. */
    private static final String UNNUMBERED = "\u0000";

    /** Subcommands and what they do, as {@code --help} lists them. */
    static final Map<String, String> COMMANDS = new TreeMap<>();

    static {
        COMMANDS.put("add-device", "Add VFIO device");
        COMMANDS.put("add-disk", "Add block device");
        COMMANDS.put("add-fs", "Add virtio-fs backed fs device");
        COMMANDS.put("add-generic-vhost-user", "Add generic vhost-user device");
        COMMANDS.put("add-net", "Add network device");
        COMMANDS.put("add-pmem", "Add persistent memory device");
        COMMANDS.put("add-user-device", "Add userspace device");
        COMMANDS.put("add-vdpa", "Add vDPA device");
        COMMANDS.put("add-vsock", "Add vsock device");
        COMMANDS.put("boot", "Boot a created VM");
        COMMANDS.put("counters", "Counters from the VM");
        COMMANDS.put("create", "Create VM from a JSON configuration");
        COMMANDS.put("delete", "Delete a VM");
        COMMANDS.put("info", "Info on the VM");
        COMMANDS.put("nmi", "Trigger NMI");
        COMMANDS.put("pause", "Pause the VM");
        COMMANDS.put("ping", "Ping the VMM to check for API server availability");
        COMMANDS.put("power-button", "Trigger a power button in the VM");
        COMMANDS.put("reboot", "Reboot the VM");
        COMMANDS.put("receive-migration", "Receive a VM migration");
        COMMANDS.put("remove-device", "Remove VFIO and PCI device");
        COMMANDS.put("resize", "Resize the VM");
        COMMANDS.put("resize-disk", "Resize an attached disk");
        COMMANDS.put("resize-zone", "Resize a memory zone");
        COMMANDS.put("restore", "Restore VM from a snapshot");
        COMMANDS.put("resume", "Resume the VM");
        COMMANDS.put("send-migration", "Initiate a VM migration");
        COMMANDS.put("shutdown", "Shutdown the VM");
        COMMANDS.put("shutdown-vmm", "Shutdown the VMM");
        COMMANDS.put("snapshot", "Create a snapshot from VM");
    }

    /** What the options of resize, resize-disk and resize-zone set, for their --help. */
    private static final Map<String, String> OPTION_HELP = Map.of(
            "balloon", "New balloon size in bytes (supports K/M/G suffix)",
            "cpus", "New vCPUs count",
            "memory", "New memory size in bytes (supports K/M/G suffix)",
            "disk", "Disk identifier",
            "size", "New size in bytes (supports K/M/G suffix)",
            "id", "Memory zone identifier");

    private RemoteMain() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** A usage error: printed with the usage line, exit code 2. */
    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    /** A failure with its chain of messages, outermost first; exit code 1. */
    static final class ChainException extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient List<String> chain;

        ChainException(List<String> chain) {
            super(String.join(": ", chain));
            this.chain = List.copyOf(chain);
        }
    }

    /** One request to make. */
    record Call(String method, String endpoint, String body, int[] fds) {}

    static int run(String[] args, PrintStream out, PrintStream err) {
        String socket = null;
        String command = null;
        List<String> rest = new ArrayList<>();
        try {
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (command == null && a.equals("--api-socket")) {
                    if (++i == args.length) {
                        throw new UsageException("a value is required for '--api-socket <api-socket>'"
                                + " but none was supplied");
                    }
                    socket = args[i];
                } else if (command == null && a.startsWith("--api-socket=")) {
                    socket = a.substring("--api-socket=".length());
                } else if (command == null && (a.equals("-h") || a.equals("--help"))) {
                    out.print(help());
                    return 0;
                } else if (command == null && (a.equals("-V") || a.equals("--version"))) {
                    out.println(PROGRAM + " v" + Usage.VERSION);
                    return 0;
                } else if (command == null) {
                    if (a.startsWith("-")) {
                        throw new UsageException("unexpected argument '" + a + "' found");
                    }
                    if (!COMMANDS.containsKey(a)) {
                        throw new UsageException("unrecognized subcommand '" + a + "'");
                    }
                    command = a;
                } else {
                    rest.add(a);
                }
            }
            if (command == null) {
                err.print(help());
                return 2;
            }
        } catch (UsageException e) {
            err.println("error: " + e.getMessage());
            err.println();
            err.println("Usage: " + PROGRAM + " [OPTIONS] <COMMAND>");
            err.println();
            err.println("For more information, try '--help'.");
            return 2;
        }

        for (String a : rest) {
            if (a.equals("--")) {
                break;
            }
            if (a.equals("-h") || a.equals("--help")) {
                out.print(commandHelp(command));
                return 0;
            }
        }
        Call call;
        try {
            call = call(command, rest);
        } catch (UsageException e) {
            err.println("error: " + e.getMessage());
            return 2;
        } catch (ChainException e) {
            printChain(err, e.chain);
            return 1;
        }
        if (socket == null) {
            err.println("Please either provide the api-socket option or dbus-service-name and "
                    + "dbus-object-path options");
            return 1;
        }
        ApiClient client;
        try {
            client = ApiClient.connect(socket);
        } catch (IOException | IllegalArgumentException e) {
            err.println("Error opening HTTP socket: " + e.getMessage());
            return 1;
        }
        try (client) {
            ApiClient.Response r = client.request(call.method(), call.endpoint(), call.body(),
                    call.fds());
            if (!r.isSuccess()) {
                printChain(err, serverChain(r));
                return 1;
            }
            if (r.body() != null) {
                out.println(r.body());
            }
            return 0;
        } catch (IOException e) {
            printChain(err, List.of("http client error",
                    "Error writing to or reading from HTTP socket", String.valueOf(e.getMessage())));
            return 1;
        }
    }

    /**
     * What a subcommand takes, as the reference client's clap definition has it: at most one
     * positional argument and some {@code --name value} options, each taken once.
     */
    record Spec(String positional, boolean positionalRequired, List<String> options,
            List<String> requiredOptions) {
        static Spec none() {
            return new Spec(null, false, List.of(), List.of());
        }

        static Spec positional(String name, boolean required) {
            return new Spec(name, required, List.of(), List.of());
        }

        static Spec options(List<String> options, List<String> required) {
            return new Spec(null, false, options, required);
        }
    }

    static Spec spec(String command) {
        return switch (command) {
            case "add-device", "add-user-device" -> Spec.positional("device_config", true);
            case "add-disk" -> Spec.positional("disk_config", true);
            case "add-fs" -> Spec.positional("fs_config", true);
            case "add-generic-vhost-user" ->
                    Spec.positional("generic_vhost_user_config", true);
            case "add-net" -> Spec.positional("net_config", true);
            case "add-pmem" -> Spec.positional("pmem_config", true);
            case "add-vdpa" -> Spec.positional("vdpa_config", true);
            case "add-vsock" -> Spec.positional("vsock_config", true);
            case "create" -> Spec.positional("path", false);
            case "receive-migration" -> Spec.positional("receive_migration_config", true);
            case "remove-device" -> Spec.positional("id", true);
            case "resize" -> Spec.options(List.of("balloon", "cpus", "memory"), List.of());
            case "resize-disk" -> Spec.options(List.of("disk", "size"), List.of("disk", "size"));
            case "resize-zone" -> Spec.options(List.of("id", "size"), List.of("id", "size"));
            case "restore" -> Spec.positional("restore_config", true);
            case "send-migration" -> Spec.positional("send_migration_config", true);
            case "snapshot" -> Spec.positional("snapshot_config", true);
            default -> Spec.none();
        };
    }

    private static String optionName(String name) {
        return "--" + name + " <" + name + ">";
    }

    /**
     * The subcommand's arguments by name (the positional one under its own name), checked the
     * way clap checks them, so that a usage error never reaches the server.
     */
    static Map<String, String> parseArgs(String command, List<String> args)
            throws UsageException {
        Spec spec = spec(command);
        Map<String, String> values = new TreeMap<>();
        boolean onlyPositionals = false;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (!onlyPositionals && a.equals("--")) {
                onlyPositionals = true;
                continue;
            }
            if (!onlyPositionals && a.startsWith("--")) {
                int eq = a.indexOf('=');
                String name = a.substring(2, eq < 0 ? a.length() : eq);
                if (!spec.options().contains(name)) {
                    throw new UsageException("unexpected argument '"
                            + (eq < 0 ? a : a.substring(0, eq)) + "' found");
                }
                if (values.containsKey("--" + name)) {
                    throw new UsageException("the argument '" + optionName(name)
                            + "' cannot be used multiple times");
                }
                String value;
                if (eq >= 0) {
                    value = a.substring(eq + 1);
                } else if (i + 1 < args.size() && !looksLikeFlag(args.get(i + 1))) {
                    value = args.get(++i);
                } else {
                    String tip = i + 1 < args.size() ? "; to pass '" + args.get(i + 1)
                            + "' as a value, use '--" + name + "=" + args.get(i + 1) + "'" : "";
                    throw new UsageException("a value is required for '" + optionName(name)
                            + "' but none was supplied" + tip);
                }
                values.put("--" + name, value);
                continue;
            }
            if (!onlyPositionals && looksLikeFlag(a)) {
                throw new UsageException("unexpected argument '" + a + "' found");
            }
            if (spec.positional() == null || values.containsKey(spec.positional())) {
                throw new UsageException("unexpected argument '" + a + "' found");
            }
            values.put(spec.positional(), a);
        }
        if (spec.positionalRequired() && !values.containsKey(spec.positional())) {
            throw new UsageException("the following required arguments were not provided: <"
                    + spec.positional() + ">");
        }
        for (String name : spec.requiredOptions()) {
            if (!values.containsKey("--" + name)) {
                throw new UsageException("the following required arguments were not provided: "
                        + optionName(name));
            }
        }
        return values;
    }

    /** As clap sees it: a dash and something after it, so "-" alone is a value. */
    private static boolean looksLikeFlag(String a) {
        return a.length() > 1 && a.startsWith("-");
    }

    /** The request for {@code command} with its arguments. */
    static Call call(String command, List<String> args) throws UsageException, ChainException {
        Map<String, String> a = parseArgs(command, args);
        String positional = spec(command).positional();
        String arg = positional == null ? null : a.get(positional);
        return switch (command) {
            case "boot", "delete", "resume", "power-button", "reboot", "pause", "shutdown",
                    "nmi" -> vm("PUT", command, null);
            case "info", "counters" -> vm("GET", command, null);
            case "ping" -> new Call("GET", "vmm.ping", null, new int[0]);
            case "shutdown-vmm" -> new Call("PUT", "vmm.shutdown", null, new int[0]);
            case "create" -> vm("PUT", command, createBody(arg == null ? "-" : arg));
            case "add-disk" -> vm("PUT", command, json(command, "Error parsing disk syntax", arg));
            case "add-fs" -> vm("PUT", command, json(command,
                    "Error parsing filesystem syntax", arg));
            case "add-pmem" -> vm("PUT", command, json(command,
                    "Error parsing persistent memory syntax", arg));
            case "add-vsock" -> vm("PUT", command, json(command, "Error parsing vsock syntax",
                    arg));
            case "add-net" -> addNet(arg);
            case "add-device" -> vm("PUT", command, generic(arg, "Error parsing device syntax",
                    "path", "id", "iommu", "pci_segment"));
            case "add-user-device" -> vm("PUT", command, generic(arg,
                    "Error parsing user device syntax", "socket", "id", "pci_segment"));
            case "add-vdpa" -> vm("PUT", command, generic(arg,
                    "Error parsing vDPA device syntax", "path", "num_queues", "id", "iommu",
                    "pci_segment"));
            case "add-generic-vhost-user" -> vm("PUT", command, generic(arg,
                    "Error parsing generic vhost-user syntax", "socket", "device_type",
                    "queue_sizes", "id", "pci_segment"));
            case "remove-device" -> vm("PUT", command, JsonWriter.write(JsonObject.builder()
                    .put("id", arg).build()));
            case "resize" -> vm("PUT", command, resize(a.get("--cpus"), a.get("--memory"),
                    a.get("--balloon")));
            case "resize-disk" -> vm("PUT", command, JsonWriter.write(JsonObject.builder()
                    .put("id", a.get("--disk"))
                    .put("desired_size", number(size(a.get("--size"), "--size",
                            "Invalid disk size")))
                    .build()));
            case "resize-zone" -> vm("PUT", command, JsonWriter.write(JsonObject.builder()
                    .put("id", a.get("--id"))
                    .put("desired_ram", number(size(a.get("--size"), "--size",
                            "Error parsing memory size")))
                    .build()));
            case "snapshot" -> vm("PUT", command, JsonWriter.write(JsonObject.builder()
                    .put("destination_url", arg).build()));
            case "restore" -> vm("PUT", command, generic(arg, "Error parsing restore syntax",
                    "source_url", "prefault"));
            case "receive-migration" -> vm("PUT", command, urlBody(arg, "receiver_url"));
            default -> vm("PUT", command, urlBody(arg, "destination_url")); // send-migration
        };
    }

    private static Call vm(String method, String command, String body) {
        return new Call(method, "vm." + command, body, new int[0]);
    }

    private static String createBody(String path) throws ChainException {
        try {
            byte[] data = path.equals("-") ? System.in.readAllBytes()
                    : Files.readAllBytes(Path.of(path));
            return new String(data, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ChainException(List.of(path.equals("-") ? "Error reading from stdin"
                    : "Error reading from file", String.valueOf(e.getMessage())));
        }
    }

    /** A device option string as the JSON of its configuration record. */
    private static String json(String command, String context, String option)
            throws ChainException {
        try {
            JsonObject body = switch (command) {
                case "add-disk" -> DiskConfig.parse(option).toJson();
                case "add-fs" -> FsConfig.parse(option).toJson();
                case "add-pmem" -> PmemConfig.parse(option).toJson();
                default -> VsockConfig.parse(option).toJson();
            };
            return JsonWriter.write(body);
        } catch (ConfigException e) {
            List<String> chain = new ArrayList<>();
            chain.add(context);
            chain.addAll(e.chain());
            throw new ChainException(chain);
        }
    }

    /** {@code add-net}: the descriptors in {@code fd=[...]} travel as SCM_RIGHTS. */
    private static Call addNet(String option) throws ChainException {
        NetConfig net;
        try {
            net = NetConfig.parse(option);
        } catch (ConfigException e) {
            List<String> chain = new ArrayList<>();
            chain.add("Error parsing network syntax");
            chain.addAll(e.chain());
            throw new ChainException(chain);
        }
        int[] fds = new int[net.fds().size()];
        for (int i = 0; i < fds.length; i++) {
            fds[i] = net.fds().get(i);
        }
        String body = JsonWriter.write(net.withFds(List.of()).toJson());
        return new Call("PUT", "vm.add-net", body, fds);
    }

    /**
     * An option string whose record has no parser of its own: each {@code key=value} becomes a
     * string member, {@code on}/{@code off} a boolean and a number a number.
     */
    private static String generic(String option, String context, String... keys)
            throws ChainException {
        OptionParser p = new OptionParser(context).add(keys);
        try {
            p.parse(option);
        } catch (ConfigException e) {
            List<String> chain = new ArrayList<>();
            chain.add(context);
            chain.addAll(e.chain());
            throw new ChainException(chain);
        }
        JsonObject.Builder b = JsonObject.builder();
        for (String k : keys) {
            String v = p.get(k);
            if (v == null) {
                continue;
            }
            if (v.equals("on") || v.equals("off")) {
                b.put(k, v.equals("on"));
            } else if (v.matches("[0-9]+")) {
                b.put(k, Long.parseLong(v));
            } else {
                b.put(k, v);
            }
        }
        return JsonWriter.write(b.build());
    }

    /** {@code url} or {@code key=url,...}: the URL under {@code key}. */
    private static String urlBody(String option, String key) {
        String url = option;
        if (option.startsWith(key + "=")) {
            int comma = option.indexOf(',');
            url = option.substring(key.length() + 1, comma < 0 ? option.length() : comma);
        }
        return JsonWriter.write(JsonObject.builder().put(key, url).build());
    }

    private static String resize(String cpus, String memory, String balloon)
            throws ChainException {
        JsonValue vcpus = cpus == null ? JsonNull.INSTANCE
                : number(unsigned(cpus, "--cpus", UnsignedType.U32, "Error parsing CPU count"));
        return JsonWriter.write(JsonObject.builder()
                .put("desired_vcpus", vcpus)
                .put("desired_ram", memory == null ? JsonNull.INSTANCE
                        : number(size(memory, "--memory",
                                "Error parsing memory size")))
                .put("desired_balloon", balloon == null ? JsonNull.INSTANCE
                        : number(size(balloon, "--balloon",
                                "Error parsing balloon size")))
                .build());
    }

    /**
     * {@code text} as an unsigned integer of {@code type}; a failure names the option and the
     * value, then gives the reason in the words of Rust's integer parser, which the reference
     * client prints.
     */
    static long unsigned(String text, String option, UnsignedType type, String context)
            throws ChainException {
        String reason = null;
        long n = 0;
        if (text.isEmpty()) {
            reason = "cannot parse integer from empty string";
        } else {
            String digits = text.startsWith("+") ? text.substring(1) : text;
            if (digits.isEmpty() || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
                reason = "invalid digit found in string";
            } else {
                try {
                    n = Long.parseLong(digits);
                    if (n > type.max()) {
                        reason = "number too large to fit in target type";
                    }
                } catch (NumberFormatException e) {
                    reason = "number too large to fit in target type";
                }
            }
        }
        if (reason != null) {
            throw new ChainException(List.of(context, "invalid value '" + text + "' for '"
                    + option + "': " + reason));
        }
        return n;
    }

    private static JsonValue number(long v) {
        return new dev.nimbus.json.JsonNumber(Long.toUnsignedString(v));
    }

    /** A size with an optional K, M or G suffix, in bytes. */
    private static long size(String text, String option, String context)
            throws ChainException {
        try {
            return new OptionParser(context).add("size").parse("size=" + text).byteSize("size");
        } catch (ConfigException e) {
            throw new ChainException(List.of(context, "invalid value '" + text + "' for '"
                    + option + "': not a size in bytes with an optional K, M or G suffix"));
        }
    }

    /**
     * The chain for a failed response: the status, then the server's messages, or a note that
     * the body is not a list of messages.
     */
    static List<String> serverChain(ApiClient.Response r) {
        List<String> chain = new ArrayList<>();
        chain.add("http client error");
        chain.add("Server responded with " + statusName(r.status()));
        String body = r.body() == null ? "" : r.body();
        try {
            JsonValue v = JsonParser.parse(body);
            if (!(v instanceof JsonArray a)) {
                throw new JsonException("invalid type: " + v.describe() + ", expected a sequence");
            }
            for (JsonValue m : a.elements()) {
                if (!(m instanceof JsonString s)) {
                    throw new JsonException("invalid type: " + m.describe()
                            + ", expected a string");
                }
                chain.add(s.value());
            }
        } catch (JsonException e) {
            // The reference client then prints one line marked X instead of the server's.
            chain.subList(1, chain.size()).clear();
            chain.add(UNNUMBERED + "X: Can't get remote's error messages from JSON response: "
                    + e.getMessage() + ": body='" + body + "'");
        }
        return chain;
    }

    /** The names the reference client gives the status codes it knows. */
    static String statusName(int status) {
        return switch (status) {
            case 100 -> "Continue";
            case 200 -> "Ok";
            case 204 -> "NoContent";
            case 400 -> "BadRequest";
            case 404 -> "NotFound";
            case 429 -> "TooManyRequests";
            case 500 -> "InternalServerError";
            case 501 -> "NotImplemented";
            default -> "Unknown";
        };
    }

    /** Prints {@code chain} as the reference tools print an error chain. */
    static void printChain(PrintStream err, List<String> chain) {
        if (chain.size() == 1) {
            err.println("Error: " + PROGRAM + " exited with the following error:");
            err.println("  " + chain.get(0));
            return;
        }
        err.println("Error: " + PROGRAM + " exited with the following chain of errors:");
        for (int i = 0; i < chain.size(); i++) {
            String m = chain.get(i);
            if (m.startsWith(UNNUMBERED)) {
                err.println("  " + m.substring(UNNUMBERED.length()));
            } else {
                err.println("  " + i + ": " + m);
            }
        }
    }

    static String commandHelp(String command) {
        Spec spec = spec(command);
        StringBuilder sb = new StringBuilder();
        sb.append(COMMANDS.get(command)).append("\n\nUsage: ").append(PROGRAM).append(' ')
                .append(command);
        if (!spec.options().isEmpty()) {
            sb.append(" [OPTIONS]");
        }
        if (spec.positional() != null) {
            sb.append(spec.positionalRequired() ? " <" : " [").append(spec.positional())
                    .append(spec.positionalRequired() ? ">" : "]");
        }
        sb.append("\n\nOptions:\n");
        for (String o : spec.options()) {
            sb.append(String.format("      %-16s%s%n", optionName(o), OPTION_HELP.get(o)));
        }
        sb.append("  -h, --help          Print help\n");
        return sb.toString();
    }

    static String help() {
        StringBuilder sb = new StringBuilder();
        sb.append("Remotely control a Nimbus (Cloud Hypervisor compatible) VMM.\n\n");
        sb.append("Usage: ").append(PROGRAM).append(" [OPTIONS] <COMMAND>\n\nCommands:\n");
        for (Map.Entry<String, String> c : COMMANDS.entrySet()) {
            sb.append(String.format("  %-23s %s%n", c.getKey(), c.getValue()));
        }
        sb.append("\nOptions:\n");
        sb.append("      --api-socket <api-socket>  HTTP API socket path (UNIX domain socket).\n");
        sb.append("  -h, --help                     Print help\n");
        sb.append("  -V, --version                  Print version\n");
        return sb.toString();
    }
}
