package dev.nimbus.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.vmm.config.ConsoleConfig;
import dev.nimbus.vmm.config.ConsoleMode;
import dev.nimbus.vmm.config.CpusConfig;
import dev.nimbus.vmm.config.DebugConsoleConfig;
import dev.nimbus.vmm.config.DiskConfig;
import dev.nimbus.vmm.config.MemoryConfig;
import dev.nimbus.vmm.config.NetConfig;
import dev.nimbus.vmm.config.PayloadConfig;
import dev.nimbus.vmm.config.RngConfig;
import dev.nimbus.vmm.config.VmConfig;
import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CommandLineTest {

    private static CommandLine parse(String... args) throws CommandLineException {
        return CommandLine.parse(args);
    }

    private static VmConfig vm(String... args) throws CommandLineException {
        return parse(args).vmConfig().orElseThrow();
    }

    private static String error(String... args) {
        return assertThrows(CommandLineException.class, () -> CommandLine.parse(args))
                .getMessage();
    }

    /**
     * The bug: a NUL in a path got as far as building the VM. argv cannot carry one, but the
     * parser is reached from Java too; the CLI exits 1 on this message.
     */
    @Test
    void aNulInAPathIsRefused() {
        assertEquals("Error validating configuration: Invalid value for payload.kernel: it"
                + " contains a NUL character, which no path or name can hold",
                error("--kernel", "a\0b"));
        assertEquals("Error validating configuration: Invalid value for disks[0].path: it"
                + " contains a NUL character, which no path or name can hold",
                error("--kernel", "/k", "--disk", "path=/d\0"));
        assertEquals("Error validating configuration: Invalid value for serial.file: it"
                + " contains a NUL character, which no path or name can hold",
                error("--kernel", "/k", "--serial", "file=/s\0"));
    }

    @Test
    void kernelAloneGivesTheDefaultVm() throws Exception {
        VmConfig c = vm("--kernel", "/path/to/kernel");

        assertEquals(CpusConfig.DEFAULT, c.cpus());
        assertEquals(MemoryConfig.DEFAULT, c.memory());
        assertEquals(RngConfig.DEFAULT, c.rng());
        assertEquals(ConsoleConfig.of(ConsoleMode.NULL), c.serial());
        assertEquals(ConsoleConfig.of(ConsoleMode.TTY), c.console());
        assertEquals(DebugConsoleConfig.DEFAULT, c.debugConsole());
        assertEquals(new PayloadConfig("/path/to/kernel", null, null, null), c.payload());
        assertEquals(VmConfig.fromJson("{\"payload\": {\"kernel\": \"/path/to/kernel\"}}"), c);
    }

    @Test
    void commandLineAndApiBodyGiveTheSameConfig() throws Exception {
        assertEquals(VmConfig.fromJson("{\"payload\": {\"kernel\": \"/k\", \"cmdline\": "
                        + "\"arg1=foo arg2=bar\"}, \"cpus\": {\"boot_vcpus\": 1, \"max_vcpus\": 3},"
                        + "\"memory\": {\"size\": 1073741824, \"hotplug_method\": \"VirtioMem\","
                        + "\"hotplug_size\": 1073741824, \"shared\": true}, \"disks\": ["
                        + "{\"path\": \"/d1\", \"image_type\": \"Raw\"}, {\"path\": \"/d2\"},"
                        + "{\"vhost_user\": true, \"vhost_socket\": \"/tmp/sock1\"}],"
                        + "\"net\": [{\"mac\": \"12:34:56:78:90:ab\", \"host_mac\": "
                        + "\"34:56:78:90:ab:cd\", \"tap\": \"tap0\"}]}"),
                vm("--kernel", "/k", "--cmdline", "arg1=foo arg2=bar", "--cpus", "boot=1,max=3",
                        "--memory", "size=1G,hotplug_method=virtio-mem,hotplug_size=1G,shared=on",
                        "--disk", "path=/d1,image_type=raw", "path=/d2",
                        "--disk", "vhost_user=true,socket=/tmp/sock1",
                        "--net", "mac=12:34:56:78:90:ab,host_mac=34:56:78:90:ab:cd,tap=tap0"));
    }

    @Test
    void repeatableOptionsTakeSeveralValuesAndAppend() throws Exception {
        VmConfig c = vm("--kernel", "/k", "--cpus", "boot=4", "--disk", "path=/a", "path=/b",
                "--net", "tap=t0", "--disk=path=/c", "--net", "tap=t1", "tap=t2");

        assertEquals(List.of("/a", "/b", "/c"), c.disks().stream().map(DiskConfig::path).toList());
        assertEquals(List.of("t0", "t1", "t2"), c.net().stream().map(NetConfig::tap).toList());
    }

    @Test
    void everyVmOptionIsRead() throws Exception {
        VmConfig c = vm("--firmware", "/fw", "--cpus=boot=2", "--memory", "size=1G,shared=on",
                "--rng", "src=/dev/random", "--balloon", "size=128M", "--fs",
                "tag=t,socket=/fs.sock", "--pmem", "file=/p", "--vsock", "cid=3,socket=/v",
                "--serial", "file=/s.log", "--console", "off", "--debug-console", "tty");

        assertEquals(new PayloadConfig(null, null, null, "/fw"), c.payload());
        assertEquals(2, c.cpus().bootVcpus());
        assertEquals("/dev/random", c.rng().src());
        assertEquals(128L << 20, c.balloon().size());
        assertEquals("t", c.fs().get(0).tag());
        assertEquals("/p", c.pmem().get(0).file());
        assertEquals(3, c.vsock().cid());
        assertEquals(new ConsoleConfig(ConsoleMode.FILE, "/s.log", null), c.serial());
        assertEquals(ConsoleMode.OFF, c.console().mode());
        assertEquals(ConsoleMode.TTY, c.debugConsole().mode());
    }

    @Test
    void noPayloadMeansApiOnly() throws Exception {
        CommandLine cli = parse("--api-socket", "/tmp/api.sock");

        assertEquals(Optional.empty(), cli.vmConfig());
        assertEquals(Optional.of(new CommandLine.Target.Path("/tmp/api.sock")), cli.apiSocket());
        assertEquals(Optional.empty(), parse().vmConfig());
    }

    @Test
    void vmOptionsNeedAPayload() {
        assertEquals("--disk requires a payload: --kernel or --firmware",
                error("--api-socket", "/a", "--disk", "path=/x"));
        assertEquals("--cmdline requires a payload: --kernel or --firmware",
                error("--cmdline", "quiet"));
    }

    @Test
    void apiSocketTakesPathFdOrABarePath() throws Exception {
        assertEquals(new CommandLine.Target.Path("/run/a.sock"),
                parse("--api-socket", "path=/run/a.sock").apiSocket().orElseThrow());
        assertEquals(new CommandLine.Target.Fd(3),
                parse("--api-socket", "fd=3").apiSocket().orElseThrow());
        assertEquals(new CommandLine.Target.Path("/run/b.sock"),
                parse("--api-socket=/run/b.sock").apiSocket().orElseThrow());
        assertEquals("Error parsing --api-socket: fd=x is not a file descriptor number",
                error("--api-socket", "fd=x"));
        // Keys that parsed before a bad one still count, as in the reference.
        assertEquals(new CommandLine.Target.Path("/run/c.sock"),
                parse("--api-socket", "path=/run/c.sock,mode=0600").apiSocket().orElseThrow());
        assertEquals(new CommandLine.Target.Path("odd=name"),
                parse("--api-socket", "odd=name").apiSocket().orElseThrow());
    }

    @Test
    void eventMonitorNeedsPathOrFd() throws Exception {
        assertEquals(new CommandLine.Target.Path("/tmp/ev"),
                parse("--event-monitor", "path=/tmp/ev").eventMonitor().orElseThrow());
        assertEquals(new CommandLine.Target.Fd(5),
                parse("--event-monitor", "fd=5,path=/tmp/ev").eventMonitor().orElseThrow());
        assertEquals("Error parsing --event-monitor: Unknown option: /tmp/ev",
                error("--event-monitor", "/tmp/ev"));
        assertEquals("Error parsing --event-monitor: path or fd required",
                error("--event-monitor", "path="));
    }

    @Test
    void vmmOptions() throws Exception {
        CommandLine cli = parse("-v", "--log-file", "/tmp/log", "--seccomp", "log",
                "--no-shutdown", "-vv");

        assertEquals(3, cli.verbosity());
        assertEquals(Level.TRACE, cli.logLevel());
        assertEquals(Optional.of("/tmp/log"), cli.logFile());
        assertEquals(CommandLine.Seccomp.LOG, cli.seccomp());
        assertTrue(cli.noShutdown());
        assertEquals(Level.WARNING, parse().logLevel());
        assertEquals(Level.INFO, parse("-v").logLevel());
        assertEquals(Level.DEBUG, parse("-vv").logLevel());
        assertEquals(CommandLine.Seccomp.TRAP, parse().seccomp());
        assertEquals(CommandLine.Seccomp.OFF, parse("--seccomp=false").seccomp());
        assertEquals(CommandLine.Seccomp.ERRNO, parse("--seccomp", "errno").seccomp());
        assertFalse(parse().noShutdown());
    }

    @Test
    void versionAndHelp() throws Exception {
        assertTrue(parse("--version").version());
        assertTrue(parse("-V").version());
        CommandLine verbose = parse("-vV");
        assertTrue(verbose.version());
        assertEquals(1, verbose.verbosity());
        assertTrue(parse("--help").help());
        assertTrue(parse("-h", "--bogus").help());
        assertFalse(parse("--kernel", "/k").help());
    }

    @Test
    void versionSkipsVmConfigParsing() throws Exception {
        CommandLine cli = parse("--version", "--kernel", "/k", "--disk", "bogus=1");

        assertTrue(cli.version());
        assertEquals(Optional.empty(), cli.vmConfig());
    }

    @Test
    void unknownAndUnsupportedOptions() {
        assertEquals("Unexpected argument '--bogus' found", error("--bogus"));
        assertEquals("Unexpected argument '-x' found", error("-x"));
        assertEquals("Unexpected argument '/k' found", error("/k"));
        assertEquals("--platform is not supported by Nimbus yet",
                error("--kernel", "/k", "--platform", "num_pci_segments=2"));
        for (String option : List.of("device", "memory-zone", "numa", "restore", "watchdog",
                "pvpanic", "rate-limit-group", "landlock", "tpm", "vdpa", "user-device",
                "log-format", "gdb", "rtc", "pci-segment", "generic-vhost-user")) {
            assertEquals("--" + option + " is not supported by Nimbus yet", error("--" + option));
        }
    }

    @Test
    void valueErrors() {
        assertEquals("A value is required for --kernel but none was supplied", error("--kernel"));
        assertEquals("A value is required for --disk but none was supplied",
                error("--kernel", "/k", "--disk", "--net", "tap=t"));
        assertEquals("A value is required for --disk but none was supplied",
                error("--kernel", "/k", "--disk", "path=/a", "--disk", "-v"));
        assertEquals("--kernel cannot be used multiple times",
                error("--kernel", "/a", "--kernel", "/b"));
        assertEquals("--cpus cannot be used multiple times",
                error("--kernel", "/a", "--cpus", "boot=1", "--cpus", "boot=2"));
        assertEquals("Unexpected value 'yes' for --no-shutdown, which takes none",
                error("--no-shutdown=yes"));
        assertEquals("Invalid value 'strict' for --seccomp: possible values are true, false, "
                + "log, errno", error("--seccomp", "strict"));
        assertEquals("Unexpected argument 'path=/b' found",
                error("--kernel", "/k", "--cmdline", "x", "path=/b"));
    }

    @Test
    void optionStringErrorsAreOneLine() {
        assertEquals("Error parsing --disk: Unknown option: foo",
                error("--kernel", "/k", "--disk", "path=/a,foo=bar"));
        assertEquals("Error parsing --memory: Unable to convert 1T for size",
                error("--kernel", "/k", "--memory", "size=1T"));
        assertEquals("Error parsing --cpus: Unable to convert x for boot",
                error("--kernel", "/k", "--cpus", "boot=x"));
        assertEquals("Error parsing --fs: tag missing",
                error("--kernel", "/k", "--fs", "socket=/s"));
        assertEquals("Error parsing --serial: invalid console mode given",
                error("--kernel", "/k", "--serial", ""));
    }

    @Test
    void disksAreParsedBeforeCpusAsTheReferenceDoes() {
        assertEquals("Error parsing --disk: Unknown option: x",
                error("--kernel", "/k", "--cpus", "boot=x", "--disk", "x=1"));
    }

    @Test
    void validationErrorsSayWhatFailed() {
        assertEquals("Error validating configuration: Max CPUs (1) lower than boot CPUs (2)",
                error("--kernel", "/k", "--cpus", "boot=2,max=1"));
        assertEquals("Error validating configuration: Identifier d is not unique",
                error("--kernel", "/k", "--disk", "path=/a,id=d", "path=/b,id=d"));
        assertEquals("Error validating configuration: Payload configuration is not bootable: "
                + "Specifying a kernel is not supported when a firmware is provided",
                error("--kernel", "/k", "--firmware", "/fw"));
        assertEquals("Error validating configuration: Path missing when using file console mode",
                error("--kernel", "/k", "--console", "file="));
        assertEquals("Error validating configuration: Using vhost-user requires using shared "
                + "memory or huge pages", error("--kernel", "/k", "--fs", "tag=t,socket=/s"));
    }

    @Test
    void returnedConfigIsTheValidatedOne() throws Exception {
        VmConfig c = vm("--firmware", "/fw", "--cmdline", "ignored", "--disk",
                "path=/a,iommu=on");

        assertEquals(new PayloadConfig(null, null, null, "/fw"), c.payload());
        assertTrue(c.iommu());
    }
}
