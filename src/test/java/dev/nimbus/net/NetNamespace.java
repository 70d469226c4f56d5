package dev.nimbus.net;

import dev.nimbus.sys.Linux;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A private network namespace for tests, without any external command: one platform thread
 * unshares its network namespace (unshare(2) with CLONE_NEWNET affects only that thread) and runs
 * whatever the test hands it there. Interfaces created and sockets opened on that thread live in
 * the namespace; their descriptors work from any thread. The namespace, and every tap in it,
 * disappears once the thread has ended and their descriptors are closed.
 */
public final class NetNamespace implements AutoCloseable {
    static final int SYS_UNSHARE = 272;
    static final int CLONE_NEWNET = 0x40000000;

    private final ExecutorService thread = Executors.newSingleThreadExecutor(
            r -> Thread.ofPlatform().name("netns-test").daemon().unstarted(r));

    public NetNamespace() throws Exception {
        call(() -> Linux.call("unshare CLONE_NEWNET", SYS_UNSHARE, CLONE_NEWNET, 0, 0));
        // Loopback is down in a new namespace; bring it up for local sockets.
        call(() -> {
            new NetInterface("lo").up();
            return null;
        });
    }

    /** Runs {@code task} inside the namespace and returns its result. */
    public <T> T call(Callable<T> task) throws Exception {
        Future<T> f = thread.submit(task);
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception ex) {
                throw ex;
            }
            throw e;
        }
    }

    /** A tap name no other test uses. */
    public static String uniqueName(String prefix) {
        return prefix + (ProcessHandle.current().pid() % 10000) + "x"
                + Long.toString(System.nanoTime() % 100000, 36);
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
