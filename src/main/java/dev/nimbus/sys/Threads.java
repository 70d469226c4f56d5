package dev.nimbus.sys;

/** Waiting for the VMM's own threads. */
public final class Threads {
    private Threads() {}

    /**
     * Waits until {@code thread} has ended, even if interrupted meanwhile, and then restores the
     * interrupt. Used where a thread owns a resource (a vCPU fd, a queue's eventfds, a memory
     * mapping) that may be released only after it has stopped: giving up early would free it
     * under the thread's feet.
     */
    public static void joinUninterruptibly(Thread thread) {
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
