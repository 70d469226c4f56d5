package dev.nimbus.acpi;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A growable little-endian byte array: the sink that AML encoders and table builders write to.
 *
 * <p>Values are appended at the end; fixed-layout tables also patch fields in place with the
 * {@code set*} methods. Every value is truncated to its width, so callers pass unsigned
 * quantities in the next wider Java type.
 */
public final class ByteBuilder {
    private byte[] bytes;
    private int size;

    /** An empty builder. */
    public ByteBuilder() {
        bytes = new byte[64];
    }

    /** Number of bytes written so far. */
    public int size() {
        return size;
    }

    /** Appends one byte (the low 8 bits of {@code v}). */
    public ByteBuilder u8(int v) {
        ensure(1);
        bytes[size++] = (byte) v;
        return this;
    }

    /** Appends a 16-bit little-endian value. */
    public ByteBuilder u16(int v) {
        return u8(v).u8(v >>> 8);
    }

    /** Appends a 32-bit little-endian value. */
    public ByteBuilder u32(long v) {
        return u16((int) v).u16((int) (v >>> 16));
    }

    /** Appends a 64-bit little-endian value. */
    public ByteBuilder u64(long v) {
        return u32(v).u32(v >>> 32);
    }

    /** Appends all of {@code b}. */
    public ByteBuilder bytes(byte[] b) {
        ensure(b.length);
        System.arraycopy(b, 0, bytes, size, b.length);
        size += b.length;
        return this;
    }

    /** Appends {@code count} zero bytes. */
    public ByteBuilder zeros(int count) {
        ensure(count);
        size += count;
        return this;
    }

    /**
     * Appends {@code s} as ASCII, padded with spaces or cut to exactly {@code width} bytes, the
     * way fixed-width table fields such as the OEM ID are filled.
     */
    public ByteBuilder ascii(String s, int width) {
        byte[] b = Arrays.copyOf(asciiBytes(s), width);
        for (int i = s.length(); i < width; i++) {
            b[i] = ' ';
        }
        return bytes(b);
    }

    /** Overwrites the byte at {@code offset}. */
    public void set8(int offset, int v) {
        check(offset, 1);
        bytes[offset] = (byte) v;
    }

    /** Overwrites the 16-bit value at {@code offset}. */
    public void set16(int offset, int v) {
        set8(offset, v);
        set8(offset + 1, v >>> 8);
    }

    /** Overwrites the 32-bit value at {@code offset}. */
    public void set32(int offset, long v) {
        set16(offset, (int) v);
        set16(offset + 2, (int) (v >>> 16));
    }

    /** Overwrites the 64-bit value at {@code offset}. */
    public void set64(int offset, long v) {
        set32(offset, v);
        set32(offset + 4, v >>> 32);
    }

    /** Overwrites {@code b.length} bytes at {@code offset}. */
    public void setBytes(int offset, byte[] b) {
        check(offset, b.length);
        System.arraycopy(b, 0, bytes, offset, b.length);
    }

    /** A copy of the bytes written so far. */
    public byte[] toByteArray() {
        return Arrays.copyOf(bytes, size);
    }

    /** The ASCII bytes of {@code s}; rejects anything outside 7-bit ASCII. */
    static byte[] asciiBytes(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) > 0x7F) {
                throw new IllegalArgumentException("Not an ASCII string: " + s);
            }
        }
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private void check(int offset, int len) {
        if (offset < 0 || len < 0 || offset > size - len) {
            throw new IndexOutOfBoundsException(
                    "Write outside the table: offset=" + offset + " len=" + len + " size=" + size);
        }
    }

    private void ensure(int more) {
        if (more > bytes.length - size) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
        }
    }
}
