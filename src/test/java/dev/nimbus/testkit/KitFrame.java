package dev.nimbus.testkit;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;
import java.util.zip.CRC32;

/**
 * The kit's test frame, as the guest sends and checks it ({@code kit.net.send},
 * {@code kit.net.recv}): an Ethernet frame with EtherType 0x88B5 (IEEE 802 local experimental
 * EtherType 1), then {@code NIMBUSKT}, a big-endian 32-bit sequence number, a big-endian
 * 16-bit pattern length, the pattern ({@link KitPattern} seeded with {@code seq ^ 0x4E4B5446})
 * and a big-endian CRC-32 over magic to pattern; zero padding up to the 60-byte minimum.
 */
public final class KitFrame {
    public static final int ETHERTYPE = 0x88B5;
    public static final int MIN_LENGTH = 60;
    public static final int MAX_LENGTH = 1514;
    static final byte[] MAGIC = "NIMBUSKT".getBytes(StandardCharsets.US_ASCII);
    static final int SEED = 0x4E4B_5446;
    private static final int ETH_HLEN = 14;
    private static final int HEADER = ETH_HLEN + 8 + 4 + 2;
    public static final int MAX_PATTERN = MAX_LENGTH - HEADER - 4;

    private KitFrame() {
    }

    /** What a kit frame says about itself; {@code intact} when its CRC and pattern hold. */
    public record Parsed(long seq, int patternLength, boolean intact, String dst, String src) {
    }

    /** The frame {@code seq} from {@code src} to {@code dst} (MACs as aa:bb:cc:dd:ee:ff). */
    public static byte[] build(String dst, String src, long seq, int patternLength) {
        if (patternLength < 0 || patternLength > MAX_PATTERN) {
            throw new IllegalArgumentException("pattern length out of range: " + patternLength);
        }
        int length = Math.max(MIN_LENGTH, HEADER + patternLength + 4);
        ByteBuffer b = ByteBuffer.allocate(length);
        b.put(mac(dst)).put(mac(src)).putShort((short) ETHERTYPE).put(MAGIC)
                .putInt((int) seq).putShort((short) patternLength)
                .put(KitPattern.bytes((int) seq ^ SEED, patternLength));
        CRC32 crc = new CRC32();
        crc.update(b.array(), ETH_HLEN, HEADER - ETH_HLEN + patternLength);
        b.putInt((int) crc.getValue());
        return b.array();
    }

    /**
     * The pattern length the guest uses for frame {@code seq} when {@code kit.net.size} is not
     * given: a spread of sizes from 32 to 1431 bytes.
     */
    public static int guestPatternLength(long seq) {
        return (int) (32 + (seq * 389) % 1400);
    }

    /** The frame as a kit frame, or empty when it is not one (other EtherType or magic). */
    public static Optional<Parsed> parse(byte[] frame) {
        if (frame.length < HEADER + 4) {
            return Optional.empty();
        }
        ByteBuffer b = ByteBuffer.wrap(frame);
        if (Short.toUnsignedInt(b.getShort(12)) != ETHERTYPE
                || !Arrays.equals(frame, ETH_HLEN, ETH_HLEN + MAGIC.length, MAGIC, 0,
                        MAGIC.length)) {
            return Optional.empty();
        }
        long seq = Integer.toUnsignedLong(b.getInt(ETH_HLEN + 8));
        int patternLength = Short.toUnsignedInt(b.getShort(ETH_HLEN + 12));
        boolean intact = false;
        if (patternLength <= MAX_PATTERN && HEADER + patternLength + 4 <= frame.length) {
            CRC32 crc = new CRC32();
            crc.update(frame, ETH_HLEN, HEADER - ETH_HLEN + patternLength);
            byte[] expected = KitPattern.bytes((int) seq ^ SEED, patternLength);
            intact = (int) crc.getValue() == b.getInt(HEADER + patternLength)
                    && Arrays.equals(frame, HEADER, HEADER + patternLength, expected, 0,
                            patternLength);
        }
        return Optional.of(new Parsed(seq, patternLength, intact, macString(frame, 0),
                macString(frame, 6)));
    }

    /** CRC-32 of a whole frame, as the guest reports it for each frame it sends or receives. */
    public static long crc32(byte[] frame) {
        CRC32 crc = new CRC32();
        crc.update(frame);
        return crc.getValue();
    }

    /** A MAC address from its aa:bb:cc:dd:ee:ff form. */
    public static byte[] mac(String text) {
        String[] parts = text.split(":");
        if (parts.length != 6) {
            throw new IllegalArgumentException("not a MAC address: " + text);
        }
        byte[] mac = new byte[6];
        for (int i = 0; i < 6; i++) {
            mac[i] = (byte) Integer.parseInt(parts[i], 16);
        }
        return mac;
    }

    static String macString(byte[] frame, int offset) {
        return HexFormat.ofDelimiter(":").formatHex(frame, offset, offset + 6);
    }
}
