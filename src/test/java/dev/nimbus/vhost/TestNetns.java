package dev.nimbus.vhost;

import java.util.Random;

/**
 * A network namespace of a test's own and the name its tap will have in there, both unique to
 * this run (process id and a random suffix), so concurrent runs and leftovers never collide.
 */
record TestNetns(String name, String tap) implements AutoCloseable {
    /** Creates {@code <prefix>-<unique>}, with {@code <tapPrefix><unique>} (at most 15 bytes). */
    static TestNetns create(String prefix, String tapPrefix) throws Exception {
        String unique = Long.toString(ProcessHandle.current().pid(), 36)
                + Integer.toString(new Random().nextInt(36 * 36 * 36), 36);
        TestNetns ns = new TestNetns(prefix + "-" + unique, tapPrefix + unique);
        Commands.check(30, "ip", "netns", "add", ns.name);
        return ns;
    }

    @Override
    public void close() throws Exception {
        Commands.run(30, "ip", "netns", "del", name);
    }
}
