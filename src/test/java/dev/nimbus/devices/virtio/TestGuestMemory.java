package dev.nimbus.devices.virtio;

import dev.nimbus.memory.GuestMemory;
import dev.nimbus.memory.GuestRegion;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

/**
 * Fake guest RAM for device tests: arena segments wrapped with {@link GuestMemory#of}. Confined
 * memory is for tests that drive a queue on their own thread; a device thread needs shared
 * memory, as real guest RAM is.
 */
public final class TestGuestMemory implements AutoCloseable {
    private final Arena arena;
    private final GuestMemory memory;

    private TestGuestMemory(Arena arena, long[][] regions) {
        this.arena = arena;
        List<GuestRegion> list = new ArrayList<>();
        for (long[] r : regions) {
            list.add(new GuestRegion(r[0], arena.allocate(r[1], 4096), -1, 0));
        }
        this.memory = GuestMemory.of(list);
    }

    /** {@code size} bytes of RAM at guest address 0, usable from this thread only. */
    public static TestGuestMemory confined(long size) {
        return new TestGuestMemory(Arena.ofConfined(), new long[][] {{0, size}});
    }

    /** Regions given as {gpa, size} pairs, usable from this thread only. */
    public static TestGuestMemory confined(long[]... regions) {
        return new TestGuestMemory(Arena.ofConfined(), regions);
    }

    /** {@code size} bytes of RAM at guest address 0, usable from any thread. */
    public static TestGuestMemory shared(long size) {
        return new TestGuestMemory(Arena.ofShared(), new long[][] {{0, size}});
    }

    public GuestMemory memory() {
        return memory;
    }

    @Override
    public void close() {
        arena.close();
    }
}
