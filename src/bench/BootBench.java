import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * The boot benchmark: Nimbus and QEMU side by side on the same guest, runs alternating, each
 * timed from fork/exec by {@code bench-launch} (src/bench/launch.c). Run it through
 * {@code scripts/bench-boot.sh}, which builds the launcher and the guest; as a source-file
 * program it needs only a JDK: {@code java src/bench/BootBench.java --help}.
 *
 * <p>For each configuration it reports the median, p10 and p90 of: process start to the
 * guest's first UART byte and to its marker line, process start to exit after the guest
 * powers off, peak RSS (wait4 ru_maxrss), CPU time, and, from separate runs where the guest
 * halts instead, the RSS outside guest RAM while the guest idles. It writes the raw runs
 * ({@code runs.tsv}), a Markdown summary ({@code summary.md}) and gnuplot data
 * ({@code plot.dat}) into the output folder.
 */
public final class BootBench {
    private static final String HELLO_MARKER = "KIT-HELLO";
    private static final String LINUX_MARKER = "NIMBUS-GUEST-READY";
    private static final String LINUX_CMDLINE = "console=ttyS0 reboot=k panic=1 quiet";

    /** One way of booting a guest: a name, the command, the marker, and extra environment. */
    record Config(String name, String group, List<String> boot, List<String> idle,
            String marker, Map<String, String> env, long timeoutMs) {}

    /** One run's facts as bench-launch printed them. */
    record Run(String config, String kind, int round, Map<String, Long> facts) {
        long get(String key) {
            Long v = facts.get(key);
            return v == null ? -1 : v;
        }

        boolean ok() {
            return get("status") == 0 || kind.equals("idle") && get("idle_sampled") == 1;
        }
    }

    /** Median and spread of one metric over the good runs of one configuration. */
    record Stat(int n, double median, double p10, double p90, double min, double max) {
        static Stat of(List<Double> values) {
            if (values.isEmpty()) {
                return null;
            }
            double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            return new Stat(v.length, quantile(v, 0.5), quantile(v, 0.1), quantile(v, 0.9),
                    v[0], v[v.length - 1]);
        }

        /** Linear interpolation between closest ranks. */
        private static double quantile(double[] sorted, double q) {
            double pos = q * (sorted.length - 1);
            int lo = (int) Math.floor(pos);
            int hi = Math.min(lo + 1, sorted.length - 1);
            return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
        }
    }

    /** A column of the summary: what it shows, in which unit, from which runs. */
    record Metric(String title, String unit, String kind, ToDoubleFunction<Run> value) {}

    private static final List<Metric> METRICS = List.of(
            new Metric("start to first UART byte", "ms", "boot", r -> r.get("first_byte_us") / 1e3),
            new Metric("start to marker line", "ms", "boot", r -> r.get("marker_us") / 1e3),
            new Metric("start to exit", "ms", "boot", r -> r.get("exit_us") / 1e3),
            new Metric("peak RSS", "MiB", "boot", r -> r.get("maxrss_kib") / 1024.0),
            new Metric("CPU (user+sys)", "ms", "boot", r -> r.get("cpu_us") / 1e3),
            new Metric("idle RSS outside guest RAM", "MiB", "idle",
                    r -> r.get("idle_outside_kib") / 1024.0));

    private int rounds = 20;
    private int idleRounds = 5;
    private int idleMs = 1000;
    private int memoryMib = 512;
    private Path launcher;
    private Path nimbus;
    private Path guest;
    private String qemu = "qemu-system-x86_64";
    private List<String> machines = List.of("microvm", "q35");
    private final Map<String, String> variants = new LinkedHashMap<>();
    private final Map<String, Path> builds = new LinkedHashMap<>();
    private Path linuxKernel;
    private Path linuxInitramfs;
    private boolean forceLinux;
    private int linuxTimeoutMs = 120_000;
    private Path out = Path.of("target/bench");
    private boolean quiet;
    private int waitIdlePct = 0;
    private int waitIdleMaxMs = 10_000;

    public static void main(String[] args) throws Exception {
        BootBench b = new BootBench();
        if (!b.parse(args)) {
            return;
        }
        System.exit(b.run());
    }

    private boolean parse(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                System.out.print("""
                    usage: java BootBench.java --launcher PATH --nimbus PATH --guest PATH [options]
                      --rounds N          boot runs per configuration (default 20)
                      --idle-rounds N     idle RSS runs per configuration (default 5)
                      --idle-ms N         how long the guest idles before sampling (default 1000)
                      --memory MIB        guest RAM (default 512)
                      --qemu PATH         qemu-system-x86_64 ("none" to skip QEMU)
                      --machines LIST     QEMU machines, comma separated (default microvm,q35)
                      --variant NAME=OPTS an extra Nimbus configuration, NIMBUS_JAVA_OPTS=OPTS
                      --build NAME=PATH   an extra Nimbus configuration: another build's bin/nimbus
                      --linux KERNEL,INITRAMFS  also boot Linux to its init (needs VMX/SVM)
                      --force-linux       boot Linux even without VMX/SVM (it fails there:
                                          for checking the command lines)
                      --linux-timeout MS  per Linux run (default 120000)
                      --out DIR           where runs.tsv, summary.md, plot.dat go (target/bench)
                      --wait-idle PCT     before each run, wait (10 s at most) until the host's
                                          CPUs were PCT% idle over 300 ms (default 0: no wait)
                      -q                  no per-run lines
                    """);
                return false;
            }
            if (a.equals("-q")) {
                quiet = true;
                continue;
            }
            if (a.equals("--force-linux")) {
                forceLinux = true;
                continue;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("Missing value after " + a);
            }
            String v = args[++i];
            switch (a) {
                case "--rounds" -> rounds = Integer.parseInt(v);
                case "--idle-rounds" -> idleRounds = Integer.parseInt(v);
                case "--idle-ms" -> idleMs = Integer.parseInt(v);
                case "--memory" -> memoryMib = Integer.parseInt(v);
                case "--launcher" -> launcher = Path.of(v);
                case "--nimbus" -> nimbus = Path.of(v);
                case "--guest" -> guest = Path.of(v);
                case "--qemu" -> qemu = v;
                case "--machines" -> machines = List.of(v.split(","));
                case "--variant" -> {
                    int eq = v.indexOf('=');
                    if (eq <= 0) {
                        throw new IllegalArgumentException("--variant wants NAME=OPTS: " + v);
                    }
                    variants.put(v.substring(0, eq), v.substring(eq + 1));
                }
                case "--build" -> {
                    int eq = v.indexOf('=');
                    if (eq <= 0) {
                        throw new IllegalArgumentException("--build wants NAME=PATH: " + v);
                    }
                    builds.put(v.substring(0, eq), Path.of(v.substring(eq + 1)));
                }
                case "--linux" -> {
                    String[] p = v.split(",", 2);
                    linuxKernel = Path.of(p[0]);
                    linuxInitramfs = p.length > 1 ? Path.of(p[1]) : null;
                }
                case "--out" -> out = Path.of(v);
                case "--linux-timeout" -> linuxTimeoutMs = Integer.parseInt(v);
                case "--wait-idle" -> waitIdlePct = Integer.parseInt(v);
                default -> throw new IllegalArgumentException("Unknown option " + a);
            }
        }
        if (launcher == null || nimbus == null || guest == null) {
            throw new IllegalArgumentException("--launcher, --nimbus and --guest are required");
        }
        return true;
    }

    private int run() throws IOException, InterruptedException {
        Files.createDirectories(out);
        List<String> notes = new ArrayList<>();
        List<Config> configs = new ArrayList<>(helloConfigs());
        String linuxSkip = linuxSkipReason();
        if (linuxSkip == null) {
            configs.addAll(linuxConfigs());
        } else {
            notes.add("Linux guests skipped: " + linuxSkip);
            System.out.println("bench: Linux guests skipped: " + linuxSkip);
        }
        String load0 = loadAverage();

        List<Run> runs = new ArrayList<>();
        try (PrintStream tsv = new PrintStream(Files.newOutputStream(out.resolve("runs.tsv")),
                true, StandardCharsets.UTF_8)) {
            tsv.println("config\tkind\tround\tfacts");
            int total = Math.max(rounds, idleRounds);
            for (int round = 0; round < total; round++) {
                // Alternate, and rotate the order so no configuration always runs first.
                for (int k = 0; k < configs.size(); k++) {
                    Config c = configs.get((k + round) % configs.size());
                    if (round < rounds) {
                        runs.add(record(tsv, launch(c, "boot", round)));
                    }
                    if (round < idleRounds) {
                        runs.add(record(tsv, launch(c, "idle", round)));
                    }
                }
            }
        }
        notes.add("Load average before: " + load0 + "; after: " + loadAverage());
        Stat idle = Stat.of(runs.stream().map(r -> (double) r.get("host_idle_pct")).toList());
        if (idle != null) {
            notes.add(String.format(Locale.ROOT, "Host CPUs idle in the 300 ms before each run:"
                    + " median %.0f%%, p10 %.0f%% (--wait-idle %d)", idle.median(), idle.p10(),
                    waitIdlePct));
        }

        String summary = summary(configs, runs, notes);
        Files.writeString(out.resolve("summary.md"), summary);
        Files.writeString(out.resolve("plot.dat"), plotData(configs, runs));
        System.out.print(summary);
        long failed = runs.stream().filter(r -> !r.ok()).count();
        return failed == 0 ? 0 : 1;
    }

    private Run record(PrintStream tsv, Run r) {
        StringBuilder sb = new StringBuilder();
        r.facts().forEach((k, v) -> sb.append(sb.isEmpty() ? "" : " ").append(k).append('=')
                .append(v));
        tsv.println(r.config() + "\t" + r.kind() + "\t" + r.round() + "\t" + sb);
        if (!quiet) {
            System.out.printf("bench: %-22s %-4s %3d  %s%n", r.config(), r.kind(), r.round(),
                    sb);
        }
        if (!r.ok()) {
            System.out.println("bench: FAILED run of " + r.config() + " (" + r.kind()
                    + "); its output is in " + out.resolve("last-failure.out") + " and .err");
        }
        return r;
    }

    private List<Config> helloConfigs() {
        List<Config> list = new ArrayList<>();
        for (Map.Entry<String, Path> b : builds.entrySet()) {
            List<String> base = nimbusHello(b.getValue());
            list.add(new Config("nimbus-" + b.getKey(), "hello",
                    append(base, "kit.action=poweroff"), append(base, "kit.action=halt"),
                    HELLO_MARKER, Map.of(), 30_000));
        }
        List<String> nimbusBase = nimbusHello(nimbus);
        list.add(new Config("nimbus", "hello", append(nimbusBase, "kit.action=poweroff"),
                append(nimbusBase, "kit.action=halt"), HELLO_MARKER, Map.of(), 30_000));
        variants.forEach((name, opts) -> list.add(new Config("nimbus-" + name, "hello",
                append(nimbusBase, "kit.action=poweroff"), append(nimbusBase, "kit.action=halt"),
                HELLO_MARKER, Map.of("NIMBUS_JAVA_OPTS", opts), 30_000)));
        if (!qemu.equals("none")) {
            for (String m : machines) {
                List<String> base = qemuBase(m, guest, null);
                list.add(new Config("qemu-" + m, "hello",
                        append(base, "-append", "kit.action=poweroff"),
                        append(base, "-append", "kit.action=halt"), HELLO_MARKER, Map.of(),
                        30_000));
            }
        }
        return list;
    }

    /** bin/nimbus booting the hello guest; the command line ({@code kit.action}) comes last. */
    private List<String> nimbusHello(Path launcherScript) {
        return List.of(launcherScript.toString(), "--kernel", guest.toString(),
                "--memory", "size=" + memoryMib + "M", "--cpus", "boot=1", "--serial", "tty",
                "--console", "off", "--cmdline");
    }

    private List<Config> linuxConfigs() {
        List<Config> list = new ArrayList<>();
        List<String> n = new ArrayList<>(List.of(nimbus.toString(), "--kernel",
                linuxKernel.toString(), "--memory", "size=" + memoryMib + "M", "--cpus", "boot=1",
                "--serial", "tty", "--console", "off", "--cmdline", LINUX_CMDLINE));
        if (linuxInitramfs != null) {
            n.addAll(List.of("--initramfs", linuxInitramfs.toString()));
        }
        // Linux idles in init's sleep when told to: nimbus.sleep keeps it up long enough.
        List<String> nIdle = replaceLast(n, LINUX_CMDLINE, LINUX_CMDLINE + " nimbus.sleep=600");
        list.add(new Config("nimbus-linux", "linux", n, nIdle, LINUX_MARKER, Map.of(),
                linuxTimeoutMs));
        if (!qemu.equals("none")) {
            for (String m : machines) {
                List<String> base = qemuBase(m, linuxKernel, linuxInitramfs);
                list.add(new Config("qemu-" + m + "-linux", "linux",
                        append(base, "-append", LINUX_CMDLINE),
                        append(base, "-append", LINUX_CMDLINE + " nimbus.sleep=600"),
                        LINUX_MARKER, Map.of(), linuxTimeoutMs));
            }
        }
        return list;
    }

    private List<String> qemuBase(String machine, Path kernel, Path initrd) {
        List<String> q = new ArrayList<>(List.of(qemu, "-M", machine, "-accel", "kvm",
                "-cpu", "host,-arch-capabilities", "-smp", "1", "-m", memoryMib + "M",
                "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio",
                "-kernel", kernel.toString()));
        if (initrd != null) {
            q.addAll(List.of("-initrd", initrd.toString()));
        }
        return q;
    }

    /** Why Linux guests cannot be benchmarked here, or null when they can. */
    private String linuxSkipReason() {
        if (linuxKernel == null) {
            return "no kernel given (--linux; scripts/bench-boot.sh passes the guest assets"
                    + " when scripts/guest-assets.sh has made them)";
        }
        if (forceLinux || Files.exists(Path.of("/sys/module/kvm_intel"))
                || Files.exists(Path.of("/sys/module/kvm_amd"))) {
            return null;
        }
        if (Files.exists(Path.of("/sys/module/kvm_pvm"))) {
            return "/dev/kvm here is KVM-PVM without VMX/SVM: Linux stops early on an"
                    + " instruction KVM cannot emulate, under Nimbus and QEMU alike";
        }
        return "/dev/kvm here has no VMX/SVM module (kvm_intel, kvm_amd) loaded";
    }

    private Run launch(Config c, String kind, int round)
            throws IOException, InterruptedException {
        int idlePct = waitForIdleHost();
        List<String> cmd = new ArrayList<>(List.of(launcher.toString(),
                "-m", c.marker(), "-t", Long.toString(c.timeoutMs()),
                "-o", out.resolve("last.out").toString(),
                "-e", out.resolve("last.err").toString()));
        if (kind.equals("idle")) {
            cmd.addAll(List.of("-i", Integer.toString(idleMs), "-r", Integer.toString(memoryMib)));
        }
        cmd.add("--");
        cmd.addAll(kind.equals("idle") ? c.idle() : c.boot());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(c.env());
        Process p = pb.start();
        String line = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!p.waitFor(c.timeoutMs() + 30_000, TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
        }
        Map<String, Long> facts = new LinkedHashMap<>();
        for (String kv : line.split("\\s+")) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                try {
                    facts.put(kv.substring(0, eq), Long.parseLong(kv.substring(eq + 1)));
                } catch (NumberFormatException e) {
                    // Not one of the launcher's facts: the line is kept in runs.tsv anyway.
                }
            }
        }
        facts.put("host_idle_pct", (long) idlePct);
        Run r = new Run(c.name(), kind, round, facts);
        if (!r.ok()) {
            Files.copy(out.resolve("last.out"), out.resolve("last-failure.out"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.copy(out.resolve("last.err"), out.resolve("last-failure.err"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        return r;
    }

    /**
     * Waits until the host's CPUs were at least {@code waitIdlePct}% idle over 300 ms, or
     * {@code waitIdleMaxMs} passed; returns the last idle percentage seen. On a shared machine
     * this keeps other people's work out of most runs.
     */
    private int waitForIdleHost() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + waitIdleMaxMs * 1_000_000L;
        while (true) {
            long[] a = cpuTimes();
            Thread.sleep(300);
            long[] b = cpuTimes();
            long total = b[0] - a[0];
            int idle = total <= 0 ? 100 : (int) (100 * (b[1] - a[1]) / total);
            if (idle >= waitIdlePct || System.nanoTime() > deadline) {
                return idle;
            }
        }
    }

    /** Total and idle (idle + iowait) jiffies over all CPUs, from /proc/stat. */
    private static long[] cpuTimes() throws IOException {
        String line = Files.readAllLines(Path.of("/proc/stat")).get(0);
        String[] f = line.trim().split("\\s+");
        long total = 0;
        for (int i = 1; i < f.length; i++) {
            total += Long.parseLong(f[i]);
        }
        return new long[] {total, Long.parseLong(f[4]) + Long.parseLong(f[5])};
    }

    private static Stat stat(List<Run> runs, String config, Metric m) {
        List<Double> v = new ArrayList<>();
        for (Run r : runs) {
            if (r.config().equals(config) && r.kind().equals(m.kind()) && r.ok()) {
                double x = m.value().applyAsDouble(r);
                if (x >= 0) {
                    v.add(x);
                }
            }
        }
        return Stat.of(v);
    }

    private String summary(List<Config> configs, List<Run> runs, List<String> notes) {
        StringBuilder sb = new StringBuilder();
        sb.append("Medians (bold), with p10..p90 in brackets; ").append(rounds)
                .append(" boot runs and ").append(idleRounds).append(" idle runs (").append(idleMs)
                .append(" ms after the marker) per configuration, alternating. Guest RAM ")
                .append(memoryMib).append(" MiB, 1 vCPU.\n\n");
        sb.append("| configuration |");
        for (Metric m : METRICS) {
            sb.append(' ').append(m.title()).append(" (").append(m.unit()).append(") |");
        }
        sb.append(" failed runs |\n|---|");
        sb.append("---:|".repeat(METRICS.size())).append("---:|\n");
        for (Config c : configs) {
            sb.append("| ").append(c.name()).append(" |");
            for (Metric m : METRICS) {
                Stat s = stat(runs, c.name(), m);
                sb.append(' ').append(s == null ? "–" : String.format(Locale.ROOT,
                        "**%s** (%s..%s)", fmt(s.median()), fmt(s.p10()), fmt(s.p90())))
                        .append(" |");
            }
            long failed = runs.stream().filter(r -> r.config().equals(c.name()) && !r.ok())
                    .count();
            sb.append(' ').append(failed).append(" |\n");
        }
        sb.append('\n');
        for (Config c : configs) {
            if (!c.name().startsWith("nimbus")) {
                continue;
            }
            for (Config q : configs) {
                if (!q.name().startsWith("qemu") || !q.group().equals(c.group())) {
                    continue;
                }
                sb.append("- ").append(c.name()).append(" / ").append(q.name()).append(": ");
                List<String> parts = new ArrayList<>();
                for (Metric m : METRICS) {
                    Stat a = stat(runs, c.name(), m);
                    Stat b = stat(runs, q.name(), m);
                    if (a != null && b != null && b.median() > 0) {
                        parts.add(String.format(Locale.ROOT, "%s %.2fx", m.title(),
                                a.median() / b.median()));
                    }
                }
                sb.append(String.join(", ", parts)).append('\n');
            }
        }
        sb.append('\n');
        for (String n : notes) {
            sb.append("- ").append(n).append('\n');
        }
        return sb.toString();
    }

    /** One row per configuration: name, then median, p10, p90 of every metric. */
    private String plotData(List<Config> configs, List<Run> runs) {
        StringBuilder sb = new StringBuilder("# config");
        for (Metric m : METRICS) {
            String key = m.title().replace(' ', '_');
            sb.append(' ').append(key).append("_median ").append(key).append("_p10 ")
                    .append(key).append("_p90");
        }
        sb.append('\n');
        for (Config c : configs) {
            sb.append('"').append(c.name()).append('"');
            for (Metric m : METRICS) {
                Stat s = stat(runs, c.name(), m);
                if (s == null) {
                    sb.append(" NaN NaN NaN");
                } else {
                    sb.append(String.format(Locale.ROOT, " %.3f %.3f %.3f", s.median(), s.p10(),
                            s.p90()));
                }
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static String fmt(double v) {
        return v >= 100 ? String.format(Locale.ROOT, "%.0f", v)
                : String.format(Locale.ROOT, "%.1f", v);
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> append(List<String> base, String... more) {
        List<String> l = new ArrayList<>(base);
        l.addAll(List.of(more));
        return l;
    }

    private static List<String> replaceLast(List<String> list, String from, String to) {
        List<String> l = new ArrayList<>(list);
        int i = l.lastIndexOf(from);
        l.set(i, to);
        return l;
    }
}
