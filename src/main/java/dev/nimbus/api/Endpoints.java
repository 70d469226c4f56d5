package dev.nimbus.api;

import dev.nimbus.json.JsonArray;
import dev.nimbus.json.JsonException;
import dev.nimbus.json.JsonFields;
import dev.nimbus.json.JsonNumber;
import dev.nimbus.json.JsonObject;
import dev.nimbus.json.JsonParser;
import dev.nimbus.json.JsonString;
import dev.nimbus.json.JsonValue;
import dev.nimbus.json.JsonWriter;
import dev.nimbus.json.UnsignedType;
import dev.nimbus.sys.Linux;
import dev.nimbus.vmm.VmRequestException;
import dev.nimbus.vmm.Vmm;
import dev.nimbus.vmm.config.ConfigException;
import dev.nimbus.vmm.config.DiskConfig;
import dev.nimbus.vmm.config.FsConfig;
import dev.nimbus.vmm.config.NetConfig;
import dev.nimbus.vmm.config.PmemConfig;
import dev.nimbus.vmm.config.Validator;
import dev.nimbus.vmm.config.VmConfig;
import dev.nimbus.vmm.config.VsockConfig;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The API's endpoints under {@code /api/v1/}: each request checked the way the reference server
 * checks it (method, body present or not, body shape), turned into a {@link Vmm} request, and
 * its outcome turned into a response.
 *
 * <p>Status codes: 200 with a body or 204 without on success ({@code vmm.shutdown}: 200 without
 * a body); 404 {@code ["Not Found"]} for an unknown path; 400 {@code ["Bad Request"]} for a
 * method or body the endpoint does not take, or for no body where one is needed (400 with no
 * body at all for methods other than GET and PUT); 400
 * {@code ["Failed to deserialize JSON", detail]} for a body that does not fit. A request the VMM
 * refuses answers with its error chain, outermost first: {@code ["Error from API", what the
 * endpoint could not do, ...the VMM's reasons]}, with 404 when the VM, its configuration or the
 * device does not exist, 400 (409 for an identifier used twice) when the configuration would be
 * invalid, and 500 for everything else, a call in the wrong state included.
 *
 * <p>Descriptors sent with a request ({@code SCM_RIGHTS}) go to {@code vm.add-net}'s taps and
 * to nothing else: they are closed once any other request is answered.
 */
public final class Endpoints {
    private static final Logger LOG = System.getLogger(Endpoints.class.getName());

    /** Where every endpoint lives. */
    public static final String BASE = "/api/v1/";

    static final String ERROR_FROM_API = "Error from API";
    static final String BAD_REQUEST = "Bad Request";
    static final String NOT_FOUND = "Not Found";

    private static final String GET = "GET";
    private static final String PUT = "PUT";

    private final Vmm vmm;

    public Endpoints(Vmm vmm) {
        this.vmm = vmm;
    }

    /** Answers {@code request}; closes its descriptors unless a device took them. */
    public HttpResponse handle(HttpRequest request) {
        boolean fdsTaken = false;
        try {
            String path = request.path();
            if (!path.startsWith(BASE)) {
                return notFound();
            }
            String name = path.substring(BASE.length());
            switch (name) {
                case "vmm.ping":
                    return isGet(request) ? ping() : badRequest();
                case "vmm.shutdown":
                    return isPut(request) ? vmmShutdown() : badRequest();
                case "vm.info":
                    return isGet(request) ? info() : badRequest();
                case "vm.create":
                    if (!isPut(request)) {
                        return badRequest();
                    }
                    // The reference server answers a bodiless vm.create with no body at all,
                    // which its own client cannot show; every other endpoint that needs a body
                    // says "Bad Request", so this one does too.
                    return request.body() == null ? badRequest() : create(request.body());
                case "vm.counters":
                    if (!isGet(request)) {
                        return isPut(request) ? badRequest()
                                : HttpResponse.of(HttpResponse.BAD_REQUEST);
                    }
                    return counters();
                case "vm.boot", "vm.delete", "vm.shutdown", "vm.reboot", "vm.pause",
                        "vm.resume", "vm.power-button", "vm.nmi":
                    if (!isGet(request) && !isPut(request)) {
                        return HttpResponse.of(HttpResponse.BAD_REQUEST);
                    }
                    if (isGet(request) || request.body() != null) {
                        return badRequest();
                    }
                    return action(name);
                case "vm.add-net":
                    if (!isPut(request) || request.body() == null) {
                        return wrongMethodOrNoBody(request);
                    }
                    fdsTaken = true;
                    return addNet(request.body(), request.fds());
                case "vm.add-device":
                    if (!isPut(request) || request.body() == null) {
                        return wrongMethodOrNoBody(request);
                    }
                    if (request.fds().length > 1) {
                        return badRequest();
                    }
                    return withBody(name, request.body());
                case "vm.add-disk", "vm.add-fs", "vm.add-pmem", "vm.add-vsock", "vm.add-vdpa",
                        "vm.add-user-device", "vm.add-generic-vhost-user", "vm.remove-device",
                        "vm.resize", "vm.resize-disk", "vm.resize-zone", "vm.snapshot",
                        "vm.restore", "vm.receive-migration", "vm.send-migration":
                    if (!isPut(request) || request.body() == null) {
                        return wrongMethodOrNoBody(request);
                    }
                    return withBody(name, request.body());
                default:
                    // Includes vm.coredump, which only guest-debug builds of the reference
                    // server route.
                    return notFound();
            }
        } finally {
            if (!fdsTaken) {
                for (int fd : request.fds()) {
                    Linux.close(fd);
                }
            }
        }
    }

    private static boolean isGet(HttpRequest r) {
        return r.method().equals(GET);
    }

    private static boolean isPut(HttpRequest r) {
        return r.method().equals(PUT);
    }

    private static HttpResponse wrongMethodOrNoBody(HttpRequest r) {
        return isGet(r) || isPut(r) ? badRequest() : HttpResponse.of(HttpResponse.BAD_REQUEST);
    }

    // ---- The endpoints ----

    private HttpResponse ping() {
        try {
            Vmm.Ping p = vmm.ping();
            List<JsonValue> features = new ArrayList<>();
            for (String f : p.features()) {
                features.add(new JsonString(f));
            }
            return ok(JsonObject.builder()
                    .put("build_version", p.buildVersion())
                    .put("version", p.version())
                    .put("pid", p.pid())
                    .put("features", new JsonArray(features))
                    .build());
        } catch (VmRequestException e) {
            return failed("The VMM is not available", e);
        }
    }

    private HttpResponse vmmShutdown() {
        try {
            vmm.shutdownVmm();
            return HttpResponse.of(HttpResponse.OK);
        } catch (VmRequestException e) {
            return failed("The VMM could not shutdown", e);
        }
    }

    private HttpResponse info() {
        try {
            return ok(vmm.vmInfo().toJson());
        } catch (VmRequestException e) {
            return failed("The VM info is not available", e);
        }
    }

    private HttpResponse counters() {
        try {
            return ok(countersJson(vmm.counters()));
        } catch (VmRequestException e) {
            // The reference server words a counters failure as an info failure.
            return failed("The VM info is not available", e);
        }
    }

    /**
     * The counters by device. They are u64 in the reference server, kept in a {@code long}:
     * one with the top bit set (a latency never measured is all ones) must print unsigned.
     */
    static JsonObject countersJson(Map<String, Map<String, Long>> counters) {
        JsonObject.Builder all = JsonObject.builder();
        for (Map.Entry<String, Map<String, Long>> device : counters.entrySet()) {
            JsonObject.Builder values = JsonObject.builder();
            for (Map.Entry<String, Long> c : device.getValue().entrySet()) {
                values.put(c.getKey(), new JsonNumber(Long.toUnsignedString(c.getValue())));
            }
            all.put(device.getKey(), values.build());
        }
        return all.build();
    }

    private HttpResponse create(byte[] body) {
        VmConfig config;
        try {
            config = VmConfig.fromJson(body);
        } catch (ConfigException e) {
            return error(HttpResponse.BAD_REQUEST, e.chain());
        }
        try {
            // The rest of the configuration is checked at vm.boot, as the reference server
            // does; a NUL would only show there as a failure to open a file.
            Validator.noNul(config.toJson(), "");
        } catch (ConfigException e) {
            List<String> chain = new ArrayList<>(List.of(ERROR_FROM_API,
                    "The VM could not be created"));
            chain.addAll(e.chain());
            return error(HttpResponse.BAD_REQUEST, chain);
        }
        try {
            vmm.createVm(config);
            return HttpResponse.of(HttpResponse.NO_CONTENT);
        } catch (VmRequestException e) {
            return failed("The VM could not be created", e);
        }
    }

    /** The lifecycle calls without a body. */
    private HttpResponse action(String name) {
        String context = null;
        try {
            switch (name) {
                case "vm.boot" -> {
                    context = "The VM could not boot";
                    vmm.bootVm();
                }
                case "vm.delete" -> {
                    context = "The VM could not be deleted";
                    vmm.deleteVm();
                }
                case "vm.shutdown" -> {
                    context = "The VM could not shutdown";
                    vmm.shutdownVm();
                }
                case "vm.reboot" -> {
                    context = "The VM could not reboot";
                    vmm.rebootVm();
                }
                case "vm.pause" -> {
                    context = "The VM could not be paused";
                    vmm.pauseVm();
                }
                case "vm.resume" -> {
                    context = "The VM could not resume";
                    vmm.resumeVm();
                }
                case "vm.power-button" -> {
                    context = "Error triggering power button";
                    vmm.powerButton();
                }
                default -> {
                    context = "Error triggering NMI";
                    vmm.nmi();
                }
            }
            return HttpResponse.of(HttpResponse.NO_CONTENT);
        } catch (VmRequestException e) {
            return failed(context, e);
        }
    }

    private HttpResponse addNet(byte[] body, int[] fds) {
        NetConfig net;
        try {
            JsonFields f = fields(body);
            if (f.has("fds")) {
                LOG.log(Level.WARNING, "FD numbers were present in HTTP request body for device "
                        + f.optString("id") + " but will be ignored");
            }
            net = NetConfig.fromJson(f);
        } catch (JsonException e) {
            closeAll(fds);
            return deserializeError(e);
        }
        if (fds.length > 0) {
            List<Integer> list = new ArrayList<>(fds.length);
            for (int fd : fds) {
                list.add(fd);
            }
            net = net.withFds(list);
        }
        try {
            return added(vmm.addNet(net));
        } catch (VmRequestException e) {
            return failed("The network device could not be added to the VM", e);
        }
    }

    /** The endpoints that take a body, but not descriptors. */
    private HttpResponse withBody(String name, byte[] body) {
        String context = context(name);
        try {
            JsonFields f = fields(body);
            switch (name) {
                case "vm.add-disk":
                    return added(vmm.addDisk(DiskConfig.fromJson(f)));
                case "vm.add-fs":
                    return added(vmm.addFs(FsConfig.fromJson(f)));
                case "vm.add-pmem":
                    return added(vmm.addPmem(PmemConfig.fromJson(f)));
                case "vm.add-vsock":
                    return added(vmm.addVsock(VsockConfig.fromJson(f)));
                case "vm.remove-device":
                    vmm.removeDevice(f.string("id"));
                    return HttpResponse.of(HttpResponse.NO_CONTENT);
                case "vm.resize":
                    Long vcpus = f.optUnsigned("desired_vcpus", UnsignedType.U32_INT);
                    vmm.resize(vcpus == null ? null : vcpus.intValue(),
                            f.optUnsigned("desired_ram", UnsignedType.U64),
                            f.optUnsigned("desired_balloon", UnsignedType.U64));
                    return HttpResponse.of(HttpResponse.NO_CONTENT);
                case "vm.add-device":
                    f.string("path");
                    vmm.unsupported("VFIO device passthrough", true, false);
                    break;
                case "vm.add-vdpa":
                    f.string("path");
                    f.unsigned("num_queues", UnsignedType.USIZE_INT);
                    vmm.unsupported("vDPA", true, false);
                    break;
                case "vm.add-user-device":
                    f.string("socket");
                    vmm.unsupported("vfio-user", true, false);
                    break;
                case "vm.add-generic-vhost-user":
                    f.string("socket");
                    f.unsigned("device_type", UnsignedType.U32);
                    vmm.unsupported("Generic vhost-user", true, false);
                    break;
                case "vm.resize-disk":
                    f.string("id");
                    f.unsigned("desired_size", UnsignedType.U64);
                    vmm.unsupported("Resizing a disk", true, true);
                    break;
                case "vm.resize-zone":
                    f.string("id");
                    f.unsigned("desired_ram", UnsignedType.U64);
                    vmm.unsupported("Resizing a memory zone", true, false);
                    break;
                case "vm.snapshot":
                    f.string("destination_url");
                    vmm.unsupportedLifecycle("Snapshot");
                    break;
                case "vm.restore":
                    f.string("source_url");
                    vmm.unsupported("Restore", false, false);
                    break;
                case "vm.receive-migration":
                    f.string("receiver_url");
                    vmm.unsupported("Live migration", false, false);
                    break;
                default: // vm.send-migration
                    f.string("destination_url");
                    vmm.unsupported("Live migration", false, true);
                    break;
            }
            throw new AssertionError("unsupported() always throws");
        } catch (JsonException e) {
            return deserializeError(e);
        } catch (VmRequestException e) {
            return failed(context, e);
        }
    }

    /** What the reference server says it could not do, for the endpoints with a body. */
    private static String context(String name) {
        return switch (name) {
            case "vm.add-disk" -> "The disk could not be added to the VM";
            case "vm.add-fs" -> "The fs could not be added to the VM";
            case "vm.add-pmem" -> "The pmem device could not be added to the VM";
            case "vm.add-vsock" -> "The vsock device could not be added to the VM";
            case "vm.add-device" -> "The device could not be added to the VM";
            case "vm.add-vdpa" -> "The vDPA device could not be added to the VM";
            case "vm.add-user-device" -> "The user device could not be added to the VM";
            case "vm.add-generic-vhost-user" ->
                    "The generic vhost-user device could not be added to the VM";
            case "vm.remove-device" -> "The device could not be removed from the VM";
            case "vm.resize" -> "The VM could not be resized";
            case "vm.resize-disk" -> "The disk could not be resized";
            case "vm.resize-zone" -> "The memory zone could not be resized";
            case "vm.snapshot" -> "The VM could not be snapshotted";
            case "vm.restore" -> "The VM could not be restored";
            case "vm.receive-migration" -> "Error receiving migration";
            default -> "Error dispatching the migration worker";
        };
    }

    // ---- Responses ----

    private static JsonFields fields(byte[] body) {
        return JsonFields.of(JsonParser.parse(body), "");
    }

    private static HttpResponse added(Vmm.PciDeviceInfo info) {
        if (info == null) {
            return HttpResponse.of(HttpResponse.NO_CONTENT);
        }
        return ok(JsonObject.builder().put("id", info.id()).put("bdf", info.bdf()).build());
    }

    private static HttpResponse ok(JsonValue body) {
        return HttpResponse.json(HttpResponse.OK, JsonWriter.write(body));
    }

    private static HttpResponse deserializeError(JsonException e) {
        return error(HttpResponse.BAD_REQUEST,
                List.of(ConfigException.JSON_CONTEXT, String.valueOf(e.getMessage())));
    }

    static HttpResponse badRequest() {
        return error(HttpResponse.BAD_REQUEST, List.of(BAD_REQUEST));
    }

    static HttpResponse notFound() {
        return error(HttpResponse.NOT_FOUND, List.of(NOT_FOUND));
    }

    /** The response to a request the VMM refused: its chain under the endpoint's context. */
    static HttpResponse failed(String context, VmRequestException e) {
        int status = switch (e.kind()) {
            case NOT_FOUND -> HttpResponse.NOT_FOUND;
            case INVALID_CONFIG -> HttpResponse.BAD_REQUEST;
            case CONFLICT -> HttpResponse.CONFLICT;
            case NOT_ALLOWED -> HttpResponse.METHOD_NOT_ALLOWED;
            case FAILED -> HttpResponse.INTERNAL_SERVER_ERROR;
        };
        List<String> chain = new ArrayList<>(e.chain().size() + 2);
        chain.add(ERROR_FROM_API);
        chain.add(context);
        chain.addAll(e.chain());
        LOG.log(Level.INFO, "HTTP API error response: " + String.join(": ", chain));
        return error(status, chain);
    }

    /** A response whose body is the error chain as a JSON array of strings. */
    static HttpResponse error(int status, List<String> chain) {
        List<JsonValue> messages = new ArrayList<>(chain.size());
        for (String m : chain) {
            messages.add(new JsonString(m));
        }
        return HttpResponse.json(status, JsonWriter.write(new JsonArray(messages)));
    }

    private static void closeAll(int[] fds) {
        for (int fd : fds) {
            Linux.close(fd);
        }
    }
}
