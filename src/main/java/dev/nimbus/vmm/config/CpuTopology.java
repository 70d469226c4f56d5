package dev.nimbus.vmm.config;

import dev.nimbus.json.JsonFields;
import dev.nimbus.json.JsonObject;
import dev.nimbus.json.UnsignedType;

/**
 * How the vCPUs are grouped: threads per core, cores per die, dies per package, packages. On the
 * command line it is written {@code threads:cores:dies:packages}.
 */
public record CpuTopology(int threadsPerCore, int coresPerDie, int diesPerPackage, int packages) {
    static final String THREADS_PER_CORE = "threads_per_core";
    static final String CORES_PER_DIE = "cores_per_die";
    static final String DIES_PER_PACKAGE = "dies_per_package";
    static final String PACKAGES = "packages";

    /** The number of vCPUs this topology holds. */
    public long product() {
        return (long) threadsPerCore * coresPerDie * diesPerPackage * packages;
    }

    /** Parses {@code t:c:d:p}; null when it is not four u16 numbers. */
    static CpuTopology parse(String s) {
        String[] parts = s.split(":", -1);
        if (parts.length != 4) {
            return null;
        }
        int[] v = new int[4];
        for (int i = 0; i < 4; i++) {
            Long part = OptionParser.parseUnsigned(parts[i], UnsignedType.U16);
            if (part == null) {
                return null;
            }
            v[i] = part.intValue();
        }
        return new CpuTopology(v[0], v[1], v[2], v[3]);
    }

    static CpuTopology fromJson(JsonFields f) {
        return new CpuTopology(
                (int) f.unsigned(THREADS_PER_CORE, UnsignedType.U16),
                (int) f.unsigned(CORES_PER_DIE, UnsignedType.U16),
                (int) f.unsigned(DIES_PER_PACKAGE, UnsignedType.U16),
                (int) f.unsigned(PACKAGES, UnsignedType.U16));
    }

    JsonObject toJson() {
        return JsonObject.builder()
                .put(THREADS_PER_CORE, threadsPerCore)
                .put(CORES_PER_DIE, coresPerDie)
                .put(DIES_PER_PACKAGE, diesPerPackage)
                .put(PACKAGES, packages)
                .build();
    }
}
