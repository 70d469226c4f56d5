package dev.nimbus.testkit;

/**
 * The byte pattern the kit guest writes to disks ({@code kit.blk.write}) and puts in its test
 * frames: xorshift32 (shifts 13, 17, 5) from a seed, each new state giving four bytes, low byte
 * first. The same function as {@code kit_pattern} in {@code src/test/kit/core/virtio.c}.
 */
public final class KitPattern {
    /** The state a zero seed is replaced with: xorshift32 never leaves zero. */
    static final int ZERO_SEED = 0x9E37_79B9;

    private KitPattern() {
    }

    /** {@code length} pattern bytes from {@code seed}. */
    public static byte[] bytes(int seed, int length) {
        byte[] out = new byte[length];
        int x = seed != 0 ? seed : ZERO_SEED;
        for (int i = 0; i < length; i++) {
            if (i % 4 == 0) {
                x ^= x << 13;
                x ^= x >>> 17;
                x ^= x << 5;
            }
            out[i] = (byte) (x >>> (8 * (i % 4)));
        }
        return out;
    }
}
