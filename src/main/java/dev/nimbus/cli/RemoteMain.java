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

    /** The request for {@code command} with its arguments. */
    static Call call(String command, List<String> args) throws UsageException, ChainException {
        return switch (command) {
            case "boot", "delete", "resume", "power-button", "reboot", "pause", "shutdown",
                    "nmi" -> vm("PUT", command, null);
            case "info", "counters" -> vm("GET", command, null);
            case "ping" -> new Call("GET", "vmm.ping", null, new int[0]);
            case "shutdown-vmm" -> new Call("PUT", "vmm.shutdown", null, new int[0]);
            case "create" -> vm("PUT", command, createBody(optional(args, 0, "-")));
            case "add-disk" -> vm("PUT", command, json(command, "Error parsing disk syntax",
                    required(args, "disk_config")));
            case "add-fs" -> vm("PUT", command, json(command,
                    "Error parsing filesystem syntax", required(args, "fs_config")));
            case "add-pmem" -> vm("PUT", command, json(command,
                    "Error parsing persistent memory syntax", required(args, "pmem_config")));
            case "add-vsock" -> vm("PUT", command, json(command, "Error parsing vsock syntax",
                    required(args, "vsock_config")));
            case "add-net" -> addNet(required(args, "net_config"));
            case "add-device" -> vm("PUT", command, generic(
                    required(args, "device_config"), "Error parsing device syntax", "path",
                    "id", "iommu", "pci_segment"));
            case "add-user-device" -> vm("PUT", command, generic(
                    required(args, "device_config"), "Error parsing user device syntax",
                    "socket", "id", "pci_segment"));
            case "add-vdpa" -> vm("PUT", command, generic(required(args, "vdpa_config"),
                    "Error parsing vDPA device syntax", "path", "num_queues", "id", "iommu",
                    "pci_segment"));
            case "add-generic-vhost-user" -> vm("PUT", command, generic(
                    required(args, "generic_vhost_user_config"),
                    "Error parsing generic vhost-user syntax", "socket", "device_type",
                    "queue_sizes", "id", "pci_segment"));
            case "remove-device" -> vm("PUT", command, JsonWriter.write(JsonObject.builder()
                    .put("id", required(args, "id")).build()));
            case "resize" -> vm("PUT", command, resize(args));
            case "resize-disk" -> vm("PUT", command, JsonWriter.write(JsonObject.builder()
                    .put("id", flag(args, "--disk"))
                    .put("desired_size", size(flag(args, "--size"), "Invalid disk size"))
                    .build()));
            case "resize-zone" -> vm("PUT", command, JsonWriter.write(JsonObject.builder()
                    .put("id", flag(args, "--id"))
                    .put("desired_ram", size(flag(args, "--size"),
                            "Error parsing memory size"))
                    .build()));
            case "snapshot" -> vm("PUT", command, JsonWriter.write(JsonObject.builder()
                    .put("destination_url", required(args, "snapshot_config")).build()));
            case "coredump" -> vm("PUT", command, JsonWriter.write(JsonObject.builder()
                    .put("destination_url", required(args, "coredump_config")).build()));
            case "restore" -> vm("PUT", command, generic(required(args, "restore_config"),
                    "Error parsing restore syntax", "source_url", "prefault"));
            case "receive-migration" -> vm("PUT", command, urlBody(
                    required(args, "receive_migration_config"), "receiver_url"));
            default -> vm("PUT", command, urlBody(required(args, "send_migration_config"),
                    "destination_url")); // send-migration
        };
    }

    private static Call vm(String method, String command, String body) {
        return new Call(method, "vm." + command, body, new int[0]);
    }

    private static String required(List<String> args, String name) throws UsageException {
        if (args.isEmpty() || args.get(0).startsWith("--")) {
            throw new UsageException("the following required arguments were not provided: <"
                    + name + ">");
        }
        return args.get(0);
    }

    private static String optional(List<String> args, int i, String otherwise) {
        return args.size() > i ? args.get(i) : otherwise;
    }

    /** The value of {@code --name value} or {@code --name=value}, or null. */
    private static String flag(List<String> args, String name) {
        for (int i = 0; i < args.size(); i++) {
            if (args.get(i).equals(name) && i + 1 < args.size()) {
                return args.get(i + 1);
            }
            if (args.get(i).startsWith(name + "=")) {
                return args.get(i).substring(name.length() + 1);
            }
        }
        return null;
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

    private static String resize(List<String> args) throws ChainException {
        String cpus = flag(args, "--cpus");
        String memory = flag(args, "--memory");
        String balloon = flag(args, "--balloon");
        JsonValue vcpus = JsonNull.INSTANCE;
        if (cpus != null) {
            try {
                long n = Long.parseLong(cpus);
                if (n < 0 || n > UnsignedType.U32.max()) {
                    throw new NumberFormatException("number too large to fit in target type");
                }
                vcpus = new dev.nimbus.json.JsonNumber(Long.toString(n));
            } catch (NumberFormatException e) {
                throw new ChainException(List.of("Error parsing CPU count",
                        String.valueOf(e.getMessage())));
            }
        }
        return JsonWriter.write(JsonObject.builder()
                .put("desired_vcpus", vcpus)
                .put("desired_ram", memory == null ? JsonNull.INSTANCE
                        : number(size(memory, "Error parsing memory size")))
                .put("desired_balloon", balloon == null ? JsonNull.INSTANCE
                        : number(size(balloon, "Error parsing balloon size")))
                .build());
    }

    private static JsonValue number(long v) {
        return new dev.nimbus.json.JsonNumber(Long.toUnsignedString(v));
    }

    /** A size with an optional K, M or G suffix, in bytes. */
    private static long size(String text, String context) throws ChainException {
        if (text == null) {
            throw new ChainException(List.of(context, "Missing size"));
        }
        try {
            return new OptionParser(context).add("size").parse("size=" + text).byteSize("size");
        } catch (ConfigException e) {
            List<String> chain = new ArrayList<>();
            chain.add(context);
            chain.addAll(e.chain());
            throw new ChainException(chain);
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
