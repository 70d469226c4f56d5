package dev.nimbus.cli;

import dev.nimbus.api.ApiServer;
import dev.nimbus.api.Endpoints;
import dev.nimbus.hypervisor.Hypervisor;
import dev.nimbus.hypervisor.HypervisorException;
import dev.nimbus.log.Logging;
import dev.nimbus.log.StartupTrace;
import dev.nimbus.sys.FileControl;
import dev.nimbus.sys.SyscallException;
import dev.nimbus.vmm.EventMonitor;
import dev.nimbus.vmm.Vmm;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code nimbus}: the launcher, taking {@code cloud-hypervisor}'s command line. With a payload
 * it creates and boots that VM; with {@code --api-socket} it serves the API, and without a
 * payload it only serves the API and waits to be told what to run.
 *
 * <p>Exit codes as Cloud Hypervisor's: 0 when the VMM shuts down cleanly (guest power-off,
 * {@code vmm.shutdown}, SIGTERM or SIGINT), 1 on any error, which is reported as one line on
 * standard error. Files the VMM creates (the API socket, the event monitor file) are
 * owner-only.
 */
public final class Main {
    /** Owner-only files and sockets. */
    static final int UMASK = 0077;

    /** How long a signal waits for the VMM to shut down cleanly before the process ends. */
    static final long SIGNAL_SHUTDOWN_MILLIS = 10_000;

    private Main() {}

    public static void main(String[] args) {
        StartupTrace.mark("jvm");
        System.exit(run(args));
    }

    static int run(String[] args) {
        // Opening KVM (and linking the first downcall) does not need the command line: it runs
        // on another thread while the command line is parsed.
        EarlyKvm early = EarlyKvm.start();
        FileControl.umask(UMASK);
        CommandLine cl;
        try {
            cl = CommandLine.parse(args);
        } catch (CommandLineException e) {
            return fail(e.getMessage());
        }
        if (cl.help()) {
            System.out.print(Usage.helpText());
            return 0;
        }
        if (cl.version()) {
            System.out.print(Usage.versionText(cl.verbosity()));
            return 0;
        }
        StartupTrace.mark("command-line");
        Logging.setVerbosity(cl.verbosity());
        if (cl.logFile().isPresent()) {
            if (cl.logFile().get().isEmpty()) {
                return fail("Cannot open log file: the path is empty");
            }
            try {
                Logging.setLogFile(Path.of(cl.logFile().get()));
            } catch (IOException e) {
                return fail("Cannot open log file " + cl.logFile().get() + ": " + e.getMessage());
            }
        }

        EventMonitor events;
        try {
            events = openEventMonitor(cl);
        } catch (IOException e) {
            return fail("Error opening event monitor: " + e.getMessage());
        }
        // The first System.getLogger loads the logger service from the jar (milliseconds): here
        // it overlaps the opening of KVM, where a static field would have delayed its start.
        Logger log = System.getLogger(Main.class.getName());
        Hypervisor kvm;
        try {
            kvm = early.await();
        } catch (HypervisorException e) {
            events.close();
            return fail(e.getMessage());
        }
        StartupTrace.mark("kvm-ready");
        events.event("vmm", "starting");
        Vmm vmm = new Vmm(kvm, events, cl.noShutdown(), Usage.VERSION);

        ApiServer api = null;
        if (cl.apiSocket().isPresent()) {
            try {
                api = switch (cl.apiSocket().get()) {
                    case CommandLine.Target.Path p -> ApiServer.bind(p.path(), new Endpoints(vmm));
                    case CommandLine.Target.Fd f -> ApiServer.onFd(f.fd(), new Endpoints(vmm));
                };
            } catch (ApiServer.ApiServerException e) {
                events.close();
                return fail(e.getMessage() + (e.getCause() != null
                        ? ": " + e.getCause().getMessage() : ""));
            }
            api.start();
        }

        SignalShutdown hook = new SignalShutdown(vmm);
        Runtime.getRuntime().addShutdownHook(hook);
        Thread.currentThread().setName("vmm");
        Vmm.Outcome outcome = vmm.run(cl.vmConfig());
        if (api != null) {
            api.close();
        }
        events.close();
        int code = outcome.error() != null ? 1 : outcome.exitCode();
        if (outcome.error() != null) {
            if (cl.logFile().isPresent()) {
                log.log(Level.ERROR, outcome.error());
            }
            fail(outcome.error());
        }
        hook.cleanedUp(code);
        return code;
    }

    private static EventMonitor openEventMonitor(CommandLine cl) throws IOException {
        if (cl.eventMonitor().isEmpty()) {
            return EventMonitor.NONE;
        }
        return switch (cl.eventMonitor().get()) {
            case CommandLine.Target.Path p -> EventMonitor.toPath(p.path());
            case CommandLine.Target.Fd f -> EventMonitor.toFd(f.fd());
        };
    }

    private static int fail(String message) {
        System.err.println("nimbus: " + message);
        return 1;
    }

    /**
     * Shuts the VMM down cleanly when the JVM starts shutting down behind its back, i.e. on
     * SIGTERM, SIGINT or SIGHUP (the JVM runs shutdown hooks on those): the VM is deleted, the
     * events are written and the API socket removed, as {@code vmm.shutdown} would, and the
     * process then ends with the VMM's exit code (0), not the JVM's 128 + signal. On an exit the
     * VMM itself chose the hook has nothing to do.
     */
    private static final class SignalShutdown extends Thread {
        private final Vmm vmm;
        private final CountDownLatch done = new CountDownLatch(1);
        private volatile int exitCode;

        SignalShutdown(Vmm vmm) {
            super("signal-shutdown");
            this.vmm = vmm;
        }

        void cleanedUp(int code) {
            exitCode = code;
            done.countDown();
        }

        @Override
        public void run() {
            if (done.getCount() == 0) {
                return;
            }
            vmm.requestExit();
            try {
                if (!done.await(SIGNAL_SHUTDOWN_MILLIS, TimeUnit.MILLISECONDS)) {
                    return; // leave it to the JVM; the socket may be left for the next VMM
                }
            } catch (InterruptedException e) {
                return;
            }
            Vmm.restoreTerminal();
            Runtime.getRuntime().halt(exitCode);
        }
    }
}
