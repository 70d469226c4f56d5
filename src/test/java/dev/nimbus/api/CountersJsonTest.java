package dev.nimbus.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nimbus.devices.virtio.block.BlockCounters;
import dev.nimbus.json.JsonWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How {@code vm.counters} writes its u64 values. */
class CountersJsonTest {
    /**
     * The bug: a latency never measured (u64::MAX, kept as -1L) printed as -1. The average of
     * such a latency is u64::MAX divided by the scale the average is kept at, as the reference
     * server prints it too (1844674407370955 in its v53 responses), so that one stays.
     */
    @Test
    void countersPrintUnsigned() {
        Map<String, Map<String, Long>> counters = new LinkedHashMap<>();
        counters.put("_disk0", new BlockCounters().snapshot());
        counters.put("_net1", Map.of("rx_bytes", Long.MIN_VALUE));
        assertEquals("{\"_disk0\":{\"read_bytes\":0,\"write_bytes\":0,\"read_ops\":0,"
                + "\"write_ops\":0,\"write_latency_min\":18446744073709551615,"
                + "\"write_latency_max\":18446744073709551615,"
                + "\"write_latency_avg\":1844674407370955,"
                + "\"read_latency_min\":18446744073709551615,"
                + "\"read_latency_max\":18446744073709551615,"
                + "\"read_latency_avg\":1844674407370955},"
                + "\"_net1\":{\"rx_bytes\":9223372036854775808}}",
                JsonWriter.write(Endpoints.countersJson(counters)));
    }
}
