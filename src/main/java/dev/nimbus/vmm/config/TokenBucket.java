package dev.nimbus.vmm.config;

import dev.nimbus.json.JsonFields;
import dev.nimbus.json.JsonNull;
import dev.nimbus.json.JsonNumber;
import dev.nimbus.json.JsonObject;
import dev.nimbus.json.UnsignedType;

/**
 * A token bucket: {@code size} tokens refilled over {@code refillTime} milliseconds, plus an
 * initial {@code oneTimeBurst} (null when none) spent before refilling starts.
 */
public record TokenBucket(long size, Long oneTimeBurst, long refillTime) {
    static final String SIZE = "size";
    static final String ONE_TIME_BURST = "one_time_burst";
    static final String REFILL_TIME = "refill_time";

    static TokenBucket fromJson(JsonFields f) {
        return new TokenBucket(
                f.unsigned(SIZE, UnsignedType.U64),
                f.optUnsigned(ONE_TIME_BURST, UnsignedType.U64),
                f.unsigned(REFILL_TIME, UnsignedType.U64));
    }

    /** The API writes an unset burst as {@code null}, not by leaving it out. */
    JsonObject toJson() {
        return JsonObject.builder()
                .put(SIZE, size)
                .put(ONE_TIME_BURST,
                        oneTimeBurst == null ? JsonNull.INSTANCE : JsonNumber.of(oneTimeBurst))
                .put(REFILL_TIME, refillTime)
                .build();
    }
}
