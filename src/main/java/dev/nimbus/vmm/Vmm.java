package dev.nimbus.vmm;

import dev.nimbus.hypervisor.Hypervisor;
import dev.nimbus.vmm.config.VmConfig;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * The VMM's lifecycle for a VM given on the command line: boot it, and when the guest resets,
 * tear it down and boot it again from the same config in this process; end when the guest
 * powers off or cannot go on.
 */
public final class Vmm {
    private static final Logger LOG = System.getLogger(Vmm.class.getName());

    private final Hypervisor hypervisor;

    public Vmm(Hypervisor hypervisor) {
        this.hypervisor = hypervisor;
    }

    /** The outcome of running a VM to its end. */
    public record Outcome(int exitCode, String error) {}

    /** Runs {@code config} until power-off (exit code 0) or a fatal error (exit code 1). */
    public Outcome run(VmConfig config) {
        int boots = 0;
        while (true) {
            // One future per boot, so a late event from a torn-down boot cannot end the next.
            CompletableFuture<VmExitEvent> exit = new CompletableFuture<>();
            VmExitEvent event;
            try (VirtualMachine vm = VirtualMachine.create(hypervisor, config, exit::complete)) {
                boots++;
                if (boots == 1) {
                    // Said once the VM is built, so that bad input gets its error alone.
                    String warning = hypervisor.emulationWarning();
                    if (warning != null) {
                        LOG.log(Level.WARNING, warning);
                    }
                }
                vm.start();
                if (boots == 1) {
                    LOG.log(Level.INFO, "VM booted");
                }
                event = exit.get();
            } catch (VmmException e) {
                LOG.log(Level.DEBUG, "VM set-up failed", e);
                return new Outcome(1, message(e));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Outcome(1, "Interrupted");
            } catch (ExecutionException e) {
                return new Outcome(1, message(e.getCause()));
            }
            switch (event) {
                case VmExitEvent.PowerOff p -> {
                    LOG.log(Level.INFO, "Guest powered off");
                    return new Outcome(0, null);
                }
                case VmExitEvent.Reset r -> LOG.log(Level.INFO, "Guest reset: rebooting the VM");
                case VmExitEvent.Fatal f -> {
                    return new Outcome(1, f.message());
                }
            }
        }
    }

    /** The message with its causes, outermost first, as one line. */
    static String message(Throwable e) {
        StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage()));
        for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
            if (c.getMessage() != null && !sb.toString().contains(c.getMessage())) {
                sb.append(": ").append(c.getMessage());
            }
        }
        return sb.toString();
    }
}
