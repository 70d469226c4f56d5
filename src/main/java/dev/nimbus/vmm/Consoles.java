package dev.nimbus.vmm;

import dev.nimbus.devices.ConsoleInput;
import dev.nimbus.devices.ConsoleOutput;
import dev.nimbus.sys.FileControl;
import dev.nimbus.sys.SyscallException;
import dev.nimbus.sys.Terminal;
import dev.nimbus.vmm.config.ConsoleConfig;
import java.io.Closeable;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Opens the host side of the serial port and the virtio console, as their config says. */
final class Consoles {
    private static final Logger LOG = System.getLogger(Consoles.class.getName());
    private static Terminal rawTerminal;
    private static Thread stdinReader;

    /**
     * Console sinks live as long as the VMM, not one boot: a guest reset must neither truncate
     * a console file nor leave the previous boot's descriptor and writer thread behind. Keyed
     * by destination ("tty", or the file's absolute path).
     */
    private static final Map<String, BufferedConsoleOutput> SINKS = new HashMap<>();

    private Consoles() {}

    /** The sink for a console's output; never blocks the device. */
    static synchronized ConsoleOutput output(ConsoleConfig cfg, String name) throws IOException {
        return switch (cfg.mode()) {
            case OFF, NULL -> ConsoleOutput.DISCARD;
            case TTY -> shared("tty", name,
                    () -> new BufferedConsoleOutput(new FileOutputStream(FileDescriptor.out), "tty"));
            case FILE -> {
                Path file = Path.of(cfg.file()).toAbsolutePath();
                yield shared(file.toString(), name, () -> {
                    try (Closeable probe = FileControl.probeOutput(file.toString())) {
                        return new BufferedConsoleOutput(new FileOutputStream(file.toFile()),
                                name, true);
                    }
                });
            }
            // TODO: pty and socket consoles are not built: they need a pty pair or a listening
            // Unix socket per console, and vm.info must report the pty's path.
            case PTY, SOCKET -> throw new IOException(
                    "Console mode " + cfg.mode().jsonName() + " is not supported by Nimbus yet");
        };
    }

    private interface SinkFactory {
        BufferedConsoleOutput open() throws IOException;
    }

    /** The sink for {@code key}, opened on first use; closing a VM leaves it open. */
    private static ConsoleOutput shared(String key, String name, SinkFactory factory)
            throws IOException {
        BufferedConsoleOutput sink = SINKS.get(key);
        if (sink == null) {
            sink = factory.open();
            SINKS.put(key, sink);
        }
        BufferedConsoleOutput s = sink;
        // The VM closes what it opened: give it a view whose close does nothing.
        return new ConsoleOutput() {
            @Override
            public void write(byte b) {
                s.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                s.write(b, off, len);
            }

            @Override
            public void close() {}
        };
    }

    /** Flushes and closes every console sink; for the VMM's exit. */
    static synchronized void closeAll() {
        for (BufferedConsoleOutput sink : SINKS.values()) {
            sink.close();
        }
        SINKS.clear();
    }

    /**
     * Feeds the host's stdin to {@code input} when {@code cfg} is a tty console, putting the
     * terminal in raw mode (restored at exit). Only one console can own stdin.
     */
    static synchronized void attachStdin(ConsoleConfig cfg, ConsoleInput input) {
        if (cfg.mode() != dev.nimbus.vmm.config.ConsoleMode.TTY) {
            return;
        }
        StdinPump.target = input;
        if (stdinReader != null) {
            return;
        }
        if (Terminal.isTerminal(0)) {
            try {
                rawTerminal = Terminal.makeRaw(0);
                Runtime.getRuntime().addShutdownHook(new Thread(Consoles::restoreTerminal));
            } catch (SyscallException e) {
                LOG.log(Level.WARNING, "Cannot put the terminal in raw mode", e);
            }
        }
        stdinReader = Thread.ofPlatform().name("stdin").daemon().unstarted(StdinPump::run);
        stdinReader.start();
    }

    static synchronized void restoreTerminal() {
        if (rawTerminal != null) {
            rawTerminal.restore();
            rawTerminal = null;
        }
    }

    /** Reads stdin for whichever console device is current (it changes across guest resets). */
    private static final class StdinPump {
        static volatile ConsoleInput target;

        static void run() {
            InputStream in = new FileInputStream(FileDescriptor.in);
            byte[] buf = new byte[256];
            try {
                int n;
                while ((n = in.read(buf)) > 0) {
                    for (int i = 0; i < n; i++) {
                        // Hold back (rather than drop) typed input while the guest's FIFO is full.
                        ConsoleInput t;
                        while ((t = target) != null && !t.receive(buf[i])) {
                            Thread.sleep(1);
                        }
                    }
                }
            } catch (IOException e) {
                LOG.log(Level.DEBUG, "stdin closed", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
