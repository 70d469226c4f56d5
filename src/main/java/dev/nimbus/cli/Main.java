package dev.nimbus.cli;

import dev.nimbus.hypervisor.Hypervisor;
import dev.nimbus.hypervisor.HypervisorException;
import dev.nimbus.log.Logging;
import dev.nimbus.log.StartupTrace;
import dev.nimbus.vmm.Vmm;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;

/**
 * {@code nimbus}: the launcher, taking {@code cloud-hypervisor}'s command line. Exit codes as
 * Cloud Hypervisor's: 0 when the guest powers off, 1 on any error, which is reported as one
 * line on standard error.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        StartupTrace.mark("jvm");
        System.exit(run(args));
    }

    static int run(String[] args) {
        // Opening KVM (and linking the first downcall) does not need the command line: it runs
        // on another thread while the command line is parsed.
        EarlyKvm early = EarlyKvm.start();
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
            System.out.println(Usage.versionText(cl.verbosity()));
            return 0;
        }
        StartupTrace.mark("command-line");
        Logging.setVerbosity(cl.verbosity());
        if (cl.logFile().isPresent()) {
            try {
                Logging.setLogFile(Path.of(cl.logFile().get()));
            } catch (IOException e) {
                return fail("Cannot open log file " + cl.logFile().get() + ": " + e.getMessage());
            }
        }
        if (cl.vmConfig().isEmpty()) {
            // TODO: with --api-socket and no payload the VMM serves the API and waits; the API
            // server is not built yet.
            return fail("No kernel or firmware given (--kernel or --firmware is required)");
        }

        // The first System.getLogger loads the logger service from the jar (milliseconds): here
        // it overlaps the opening of KVM, where a static field would have delayed its start.
        Logger log = System.getLogger(Main.class.getName());
        Hypervisor kvm;
        try {
            kvm = early.await();
        } catch (HypervisorException e) {
            return fail(e.getMessage());
        }
        StartupTrace.mark("kvm-ready");
        Vmm.Outcome outcome = new Vmm(kvm).run(cl.vmConfig().get());
        if (outcome.error() != null) {
            if (cl.logFile().isPresent()) {
                log.log(Level.ERROR, outcome.error());
            }
            return fail(outcome.error());
        }
        return outcome.exitCode();
    }

    private static int fail(String message) {
        System.err.println("nimbus: " + message);
        return 1;
    }
}
