package dev.nimbus.vhost;

import dev.nimbus.devices.virtio.VirtioDevice;
import dev.nimbus.log.Logging;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.function.Function;

/**
 * The command line shared by the back-end programs ({@code nimbus-vhost-user-blk},
 * {@code nimbus-vhost-user-net}): one required option carrying the back-end's parameters,
 * {@code -v} for more log output, {@code --help} and {@code --version}. Runs the back-end until
 * SIGTERM or SIGINT, serving front-end after front-end.
 */
final class BackendDaemon {
    private static final Logger LOG = System.getLogger(BackendDaemon.class.getName());

    /** A back-end's parsed option: how to make its engine and how to meet the front-end. */
    interface Options {
        VirtioDevice open() throws IOException;

        String socket();

        /** Whether to connect to a listening front-end rather than listen. */
        default boolean client() {
            return false;
        }
    }

    private BackendDaemon() {}

    /**
     * Runs the program; returns its exit status: 0 after a signal, 1 on a start-up error, 2 on a
     * usage error.
     */
    static int run(String program, String optionName, String syntax,
            Function<String, ? extends Options> parser, String[] args, PrintStream out,
            PrintStream err) {
        String value = null;
        int verbosity = 0;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                out.println("Launch a " + program + " back-end.\n\nUsage: " + program + " "
                        + optionName + " <" + optionName.substring(2) + ">\n\nOptions:\n  "
                        + optionName + " <" + optionName.substring(2) + ">  " + syntax
                        + "\n  -v                 more log output (repeat for more)"
                        + "\n  -h, --help         print help\n  -V, --version      print"
                        + " version");
                return 0;
            } else if (a.equals("-V") || a.equals("--version")) {
                out.println(program + " " + version());
                return 0;
            } else if (a.matches("-v+")) {
                verbosity += a.length() - 1;
            } else if (a.equals(optionName) && i + 1 < args.length) {
                value = args[++i];
            } else if (a.startsWith(optionName + "=")) {
                value = a.substring(optionName.length() + 1);
            } else {
                err.println(program + ": unexpected argument '" + a + "' (try --help)");
                return 2;
            }
        }
        if (value == null) {
            err.println(program + ": the required option " + optionName + " is missing (try"
                    + " --help)");
            return 2;
        }
        Logging.setVerbosity(verbosity);
        Options options;
        try {
            options = parser.apply(value);
        } catch (RuntimeException e) {
            err.println(program + ": Failed parsing parameters: " + e.getMessage());
            return 1;
        }
        VirtioDevice engine;
        try {
            engine = options.open();
        } catch (IOException | RuntimeException e) {
            err.println(program + ": " + e.getMessage());
            return 1;
        }
        VhostUserServer server;
        try {
            server = options.client()
                    ? VhostUserServer.connectTo(engine, options.socket())
                    : VhostUserServer.listen(engine, options.socket());
        } catch (IOException | RuntimeException e) {
            engine.close();
            err.println(program + ": cannot listen on " + options.socket() + ": "
                    + e.getMessage());
            return 1;
        }
        Thread hook = new Thread(server::close, program + "-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        LOG.log(Level.INFO, () -> program + ": serving " + engine.id() + " on "
                + options.socket());
        try {
            server.run();
        } catch (IOException e) {
            err.println(program + ": " + e.getMessage());
            return 1;
        } finally {
            // Stops the device threads and flushes nothing: every write the guest completed
            // is already in the image, flushed or not as the guest asked.
            engine.close();
        }
        return 0;
    }

    private static String version() {
        String v = BackendDaemon.class.getPackage().getImplementationVersion();
        return v != null ? v : "dev";
    }
}
