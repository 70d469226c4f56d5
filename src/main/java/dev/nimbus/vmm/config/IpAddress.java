package dev.nimbus.vmm.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * An IPv4 or IPv6 address, parsed strictly from its text form and printed canonically, without
 * any name lookup. It is its own small type rather than {@link InetAddress} because initialising
 * that class costs milliseconds on the first API request, and the tap set-up needs the raw
 * octets anyway.
 *
 * <p>IPv4 takes exactly four decimal octets without leading zeros. IPv6 takes the text forms of
 * RFC 4291 section 2.2 (with {@code ::} and a trailing dotted IPv4 part), no zone index, and
 * prints in the RFC 5952 form: lower case, the longest run of two or more zero groups shortened
 * to {@code ::}.
 */
public final class IpAddress {
    private final byte[] octets;

    private IpAddress(byte[] octets) {
        this.octets = octets;
    }

    /** The address {@code text} names, or null when it is not an address literal. */
    public static IpAddress parse(String text) {
        byte[] octets = text.indexOf(':') >= 0 ? parseIpv6(text) : parseIpv4(text);
        return octets == null ? null : new IpAddress(octets);
    }

    /** Whether this is an IPv6 address. */
    public boolean isIpv6() {
        return octets.length == 16;
    }

    /** The address in network byte order: 4 octets for IPv4, 16 for IPv6. */
    public byte[] octets() {
        return octets.clone();
    }

    /** The same address as an {@link InetAddress}. */
    public InetAddress toInetAddress() {
        try {
            return InetAddress.getByAddress(octets);
        } catch (UnknownHostException e) {
            throw new AssertionError("4 or 16 octets are always an address", e);
        }
    }

    private static byte[] parseIpv4(String s) {
        byte[] out = new byte[4];
        int part = 0;
        int start = 0;
        for (int i = 0; i <= s.length(); i++) {
            if (i < s.length() && s.charAt(i) != '.') {
                continue;
            }
            int value = decimalOctet(s, start, i);
            if (value < 0 || part == 4) {
                return null;
            }
            out[part++] = (byte) value;
            start = i + 1;
        }
        return part == 4 ? out : null;
    }

    /** The octet {@code s[start, end)} spells, or -1; no leading zeros. */
    private static int decimalOctet(String s, int start, int end) {
        int length = end - start;
        if (length < 1 || length > 3 || (length > 1 && s.charAt(start) == '0')) {
            return -1;
        }
        int value = 0;
        for (int i = start; i < end; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value <= 255 ? value : -1;
    }

    private static byte[] parseIpv6(String s) {
        int[] groups = new int[8];
        int count = 0;
        int gap = -1;
        int i = 0;
        if (s.startsWith("::")) {
            gap = 0;
            i = 2;
        } else if (s.startsWith(":")) {
            return null;
        }
        while (i < s.length()) {
            int end = i;
            while (end < s.length() && s.charAt(end) != ':') {
                end++;
            }
            if (end == s.length() && s.indexOf('.', i) >= 0) {
                // A trailing dotted IPv4 part fills the last two groups.
                byte[] v4 = parseIpv4(s.substring(i));
                if (v4 == null || count > 6) {
                    return null;
                }
                groups[count++] = (v4[0] & 0xff) << 8 | (v4[1] & 0xff);
                groups[count++] = (v4[2] & 0xff) << 8 | (v4[3] & 0xff);
                i = end;
                break;
            }
            int group = hexGroup(s, i, end);
            if (group < 0 || count == 8) {
                return null;
            }
            groups[count++] = group;
            if (end == s.length()) {
                i = end;
                break;
            }
            if (end + 1 < s.length() && s.charAt(end + 1) == ':') {
                if (gap >= 0) {
                    return null;
                }
                gap = count;
                i = end + 2;
            } else if (end + 1 == s.length()) {
                return null;
            } else {
                i = end + 1;
            }
        }
        if (gap < 0 ? count != 8 : count > 7) {
            return null;
        }
        byte[] out = new byte[16];
        int tail = count - Math.max(gap, 0);
        for (int g = 0; g < count; g++) {
            int slot = gap >= 0 && g >= gap ? 8 - tail + (g - gap) : g;
            out[2 * slot] = (byte) (groups[g] >> 8);
            out[2 * slot + 1] = (byte) groups[g];
        }
        return out;
    }

    /** The 16-bit group {@code s[start, end)} spells in 1 to 4 hex digits, or -1. */
    private static int hexGroup(String s, int start, int end) {
        if (end - start < 1 || end - start > 4) {
            return -1;
        }
        int value = 0;
        for (int i = start; i < end; i++) {
            char c = s.charAt(i);
            int digit = c > 0x7f ? -1 : Character.digit(c, 16);
            if (digit < 0) {
                return -1;
            }
            value = value << 4 | digit;
        }
        return value;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IpAddress other && Arrays.equals(octets, other.octets);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(octets);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(39);
        if (!isIpv6()) {
            for (int i = 0; i < 4; i++) {
                if (i > 0) {
                    s.append('.');
                }
                s.append(octets[i] & 0xff);
            }
            return s.toString();
        }
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = (octets[2 * i] & 0xff) << 8 | (octets[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8; ) {
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = j == i ? i + 1 : j;
        }
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                s.append("::");
                i += bestLength - 1;
                continue;
            }
            if (s.length() > 0 && s.charAt(s.length() - 1) != ':') {
                s.append(':');
            }
            s.append(Integer.toHexString(groups[i]));
        }
        return s.toString();
    }
}
