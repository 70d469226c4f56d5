package dev.nimbus.vmm.config;

import dev.nimbus.json.JsonFields;
import dev.nimbus.json.JsonObject;

/**
 * What to boot: {@code PayloadConfig} in the API. Unset fields are null. A bootable payload has a
 * kernel or a firmware, not both; see {@link Validator}.
 */
public record PayloadConfig(String kernel, String initramfs, String cmdline, String firmware) {
    static final String FIRMWARE = "firmware";
    static final String KERNEL = "kernel";
    static final String CMDLINE = "cmdline";
    static final String INITRAMFS = "initramfs";

    static PayloadConfig fromJson(JsonFields f) {
        return new PayloadConfig(
                f.optString(KERNEL), f.optString(INITRAMFS), f.optString(CMDLINE),
                f.optString(FIRMWARE));
    }

    /** This payload as the API writes it, unset fields left out. */
    public JsonObject toJson() {
        return JsonObject.builder()
                .putIfPresent(FIRMWARE, firmware)
                .putIfPresent(KERNEL, kernel)
                .putIfPresent(CMDLINE, cmdline)
                .putIfPresent(INITRAMFS, initramfs)
                .build();
    }
}
