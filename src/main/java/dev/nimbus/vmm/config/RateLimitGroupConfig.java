package dev.nimbus.vmm.config;

import dev.nimbus.json.JsonFields;
import dev.nimbus.json.JsonObject;

/**
 * Token buckets shared by the disks that name this group in {@code rate_limit_group}:
 * {@code RateLimitGroupConfig} in the API.
 */
public record RateLimitGroupConfig(String id, RateLimiterConfig rateLimiterConfig) {
    static final String ID = "id";
    static final String RATE_LIMITER_CONFIG = "rate_limiter_config";

    static RateLimitGroupConfig fromJson(JsonFields f) {
        JsonFields limiter = f.optObject(RATE_LIMITER_CONFIG);
        String id = f.optString(ID);
        return new RateLimitGroupConfig(
                id == null ? "" : id,
                limiter == null ? new RateLimiterConfig(null, null)
                        : RateLimiterConfig.fromJson(limiter));
    }

    JsonObject toJson() {
        return JsonObject.builder()
                .put(ID, id)
                .put(RATE_LIMITER_CONFIG, rateLimiterConfig.toJson())
                .build();
    }
}
