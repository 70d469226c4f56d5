package dev.nimbus.vmm.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class ConsoleConfigTest {

    private static ConfigException failure(Executable e) {
        return assertThrows(ConfigException.class, e);
    }

    @Test
    void serialTakesEveryMode() {
        assertEquals(ConsoleConfig.of(ConsoleMode.OFF), ConsoleConfig.parseSerial("off"));
        assertEquals(ConsoleConfig.of(ConsoleMode.NULL), ConsoleConfig.parseSerial("null"));
        assertEquals(ConsoleConfig.of(ConsoleMode.PTY), ConsoleConfig.parseSerial("pty"));
        assertEquals(ConsoleConfig.of(ConsoleMode.TTY), ConsoleConfig.parseSerial("tty"));
        assertEquals(new ConsoleConfig(ConsoleMode.FILE, "/tmp/s.log", null),
                ConsoleConfig.parseSerial("file=/tmp/s.log"));
        assertEquals(new ConsoleConfig(ConsoleMode.SOCKET, null, "/tmp/s.sock"),
                ConsoleConfig.parseSerial("socket=/tmp/s.sock"));
    }

    @Test
    void firstModeInTheFixedOrderWins() {
        assertEquals(ConsoleMode.TTY, ConsoleConfig.parseSerial("file=/x,tty").mode());
        assertEquals(ConsoleMode.OFF, ConsoleConfig.parseSerial("pty,off").mode());
    }

    @Test
    void serialHasNoPciKeys() {
        assertEquals("Error parsing --serial: Unknown option: id",
                failure(() -> ConsoleConfig.parseSerial("tty,id=s0")).getMessage());
    }

    @Test
    void consoleTakesPciKeys() {
        assertEquals(new ConsoleConfig(ConsoleMode.PTY, null, null,
                        new PciCommon("con0", true, 0, 3)),
                ConsoleConfig.parseConsole("pty,id=con0,iommu=on,pci_device_id=3"));
    }

    @Test
    void missingModeOrPathIsAnError() {
        assertEquals("Error parsing --serial: invalid console mode given",
                failure(() -> ConsoleConfig.parseSerial("")).getMessage());
        assertEquals("Error parsing --console: invalid console mode given",
                failure(() -> ConsoleConfig.parseConsole("id=c")).getMessage());
        ConfigException file = failure(() -> ConsoleConfig.parseSerial("file="));
        assertEquals("Path missing when using file console mode", file.getMessage());
        assertEquals(ConfigException.Kind.VALIDATION, file.kind());
        assertEquals("Path missing when using socket console mode",
                failure(() -> ConsoleConfig.parseSerial("socket=")).getMessage());
        assertEquals("Error parsing --console: Unknown option: tty2",
                failure(() -> ConsoleConfig.parseConsole("tty2")).getMessage());
    }

    @Test
    void debugConsoleReadsModeAndHexPort() {
        assertEquals(DebugConsoleConfig.DEFAULT, DebugConsoleConfig.parse("off,iobase=0xe9"));
        assertEquals(new DebugConsoleConfig(ConsoleMode.TTY, null, null),
                DebugConsoleConfig.parse("tty"));
        assertEquals(new DebugConsoleConfig(ConsoleMode.FILE, "/tmp/d", 0x402),
                DebugConsoleConfig.parse("file=/tmp/d,iobase=0x402"));
    }

    @Test
    void debugConsolePortMustBeHex() {
        assertEquals(
                "The IO port was not properly provided in hex or a `0x` prefix is missing: 233",
                failure(() -> DebugConsoleConfig.parse("tty,iobase=233")).getMessage());
        assertEquals("The IO port was not properly provided in hex or a `0x` prefix is missing: "
                + "0x10000", failure(() -> DebugConsoleConfig.parse("tty,iobase=0x10000"))
                        .getMessage());
        assertEquals("Error parsing --debug-console: Unknown option: socket",
                failure(() -> DebugConsoleConfig.parse("socket=/s")).getMessage());
        assertEquals("Error parsing --debug-console: invalid console mode given",
                failure(() -> DebugConsoleConfig.parse("iobase=0xe9")).getMessage());
    }
}
