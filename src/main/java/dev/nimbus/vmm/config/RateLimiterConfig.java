package dev.nimbus.vmm.config;

import dev.nimbus.json.JsonFields;
import dev.nimbus.json.JsonNull;
import dev.nimbus.json.JsonObject;
import dev.nimbus.json.JsonValue;
import dev.nimbus.json.UnsignedType;

/**
 * I/O limits of a disk or network device: a bandwidth bucket (bytes) and an operations bucket;
 * either may be null. On the command line these are the {@code bw_*} and {@code ops_*} keys.
 */
public record RateLimiterConfig(TokenBucket bandwidth, TokenBucket ops) {
    static final String BANDWIDTH = "bandwidth";
    static final String OPS = "ops";

    static final String BW_SIZE = "bw_size";
    static final String BW_ONE_TIME_BURST = "bw_one_time_burst";
    static final String BW_REFILL_TIME = "bw_refill_time";
    static final String OPS_SIZE = "ops_size";
    static final String OPS_ONE_TIME_BURST = "ops_one_time_burst";
    static final String OPS_REFILL_TIME = "ops_refill_time";

    /** The option keys that describe the two buckets. */
    static final String[] KEYS = {BW_SIZE, BW_ONE_TIME_BURST, BW_REFILL_TIME, OPS_SIZE,
        OPS_ONE_TIME_BURST, OPS_REFILL_TIME};

    /**
     * Reads the {@code bw_*} and {@code ops_*} keys; a bucket exists only when its size and
     * refill time are both non-zero, and the limiter only when a bucket does (null otherwise).
     */
    static RateLimiterConfig parse(OptionParser p) {
        TokenBucket bandwidth = bucket(p, BW_SIZE, BW_ONE_TIME_BURST, BW_REFILL_TIME);
        TokenBucket ops = bucket(p, OPS_SIZE, OPS_ONE_TIME_BURST, OPS_REFILL_TIME);
        return bandwidth == null && ops == null ? null : new RateLimiterConfig(bandwidth, ops);
    }

    private static TokenBucket bucket(OptionParser p, String sizeKey, String burstKey,
            String refillKey) {
        long size = orZero(p.unsigned(sizeKey, UnsignedType.U64));
        long burst = orZero(p.unsigned(burstKey, UnsignedType.U64));
        long refill = orZero(p.unsigned(refillKey, UnsignedType.U64));
        return size != 0 && refill != 0 ? new TokenBucket(size, burst, refill) : null;
    }

    private static long orZero(Long value) {
        return value == null ? 0 : value;
    }

    /** Reads a limiter; unlike most objects it allows no fields beyond its two buckets. */
    static RateLimiterConfig fromJson(JsonFields f) {
        f.rejectUnknown(BANDWIDTH, OPS);
        JsonFields bw = f.optObject(BANDWIDTH);
        JsonFields ops = f.optObject(OPS);
        return new RateLimiterConfig(
                bw == null ? null : TokenBucket.fromJson(bw),
                ops == null ? null : TokenBucket.fromJson(ops));
    }

    /** The API writes an absent bucket as {@code null}. */
    JsonObject toJson() {
        return JsonObject.builder()
                .put(BANDWIDTH, orNull(bandwidth))
                .put(OPS, orNull(ops))
                .build();
    }

    private static JsonValue orNull(TokenBucket bucket) {
        return bucket == null ? JsonNull.INSTANCE : bucket.toJson();
    }
}
