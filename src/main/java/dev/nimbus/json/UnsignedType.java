package dev.nimbus.json;

import java.math.BigInteger;

/**
 * The unsigned integer types of the Cloud Hypervisor API, with the range each allows on the wire
 * and the largest value Nimbus keeps ({@link #max()}): a Java {@code int} or {@code long} holds
 * it, so u32 counts that land in an {@code int} stop at {@link Integer#MAX_VALUE} and u64 sizes
 * at {@link Long#MAX_VALUE}.
 */
public enum UnsignedType {
    U8("u8", 0xffL, 0xffL),
    U16("u16", 0xffffL, 0xffffL),
    /** A u32 kept in a Java {@code long}: the whole range. */
    U32("u32", 0xffff_ffffL, 0xffff_ffffL),
    /** A u32 kept in a Java {@code int}. */
    U32_INT("u32", 0xffff_ffffL, Integer.MAX_VALUE),
    /** A usize kept in a Java {@code int} (queue counts). */
    USIZE_INT("usize", -1L, Integer.MAX_VALUE),
    U64("u64", -1L, Long.MAX_VALUE);

    private final String rustName;
    private final BigInteger rustMax;
    private final long max;

    UnsignedType(String rustName, long rustMaxBits, long max) {
        this.rustName = rustName;
        this.rustMax = new BigInteger(Long.toUnsignedString(rustMaxBits));
        this.max = max;
    }

    /** The type's name in the API, e.g. {@code u16}. */
    public String rustName() {
        return rustName;
    }

    /** The largest value the API type allows. */
    public BigInteger rustMax() {
        return rustMax;
    }

    /** The largest value Nimbus keeps. */
    public long max() {
        return max;
    }
}
