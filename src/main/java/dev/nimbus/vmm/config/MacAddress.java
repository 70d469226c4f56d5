package dev.nimbus.vmm.config;

import java.util.random.RandomGenerator;

/** A 48-bit Ethernet MAC address, written {@code aa:bb:cc:dd:ee:ff}. */
public record MacAddress(long bits) {
    private static final long MASK = 0xffff_ffff_ffffL;

    public MacAddress {
        if ((bits & ~MASK) != 0) {
            throw new IllegalArgumentException("MAC address wider than 48 bits: " + bits);
        }
    }

    /**
     * Parses six colon-separated pairs of hex digits; null when {@code s} is anything else.
     */
    public static MacAddress parse(String s) {
        String[] parts = s.split(":", -1);
        if (parts.length != 6) {
            return null;
        }
        long bits = 0;
        for (String part : parts) {
            if (part.length() != 2) {
                return null;
            }
            int hi = Character.digit(part.charAt(0), 16);
            int lo = Character.digit(part.charAt(1), 16);
            if (hi < 0 || lo < 0 || part.charAt(0) > 0x7f || part.charAt(1) > 0x7f) {
                return null;
            }
            bits = bits << 8 | hi << 4 | lo;
        }
        return new MacAddress(bits);
    }

    /**
     * A random address whose first byte is 0x2e: the locally administered bit set and the
     * multicast bit clear (IEEE 802, section 8.2), so it cannot clash with a vendor's address.
     */
    public static MacAddress localRandom(RandomGenerator random) {
        long bits = random.nextLong() & 0xff_ffff_ffffL;
        return new MacAddress(0x2eL << 40 | bits);
    }

    /** The six bytes, first byte first. */
    public byte[] bytes() {
        byte[] out = new byte[6];
        for (int i = 0; i < 6; i++) {
            out[i] = (byte) (bits >>> (40 - 8 * i));
        }
        return out;
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(17);
        for (int i = 0; i < 6; i++) {
            if (i > 0) {
                s.append(':');
            }
            int b = (int) (bits >>> (40 - 8 * i)) & 0xff;
            s.append(Character.forDigit(b >> 4, 16)).append(Character.forDigit(b & 0xf, 16));
        }
        return s.toString();
    }
}
