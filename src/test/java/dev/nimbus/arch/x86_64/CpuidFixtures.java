package dev.nimbus.arch.x86_64;

import dev.nimbus.hypervisor.CpuidEntry;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** KVM_GET_SUPPORTED_CPUID sets kept as text under src/test/resources. */
final class CpuidFixtures {
    private CpuidFixtures() {}

    /** AMD EPYC (family 0x19), dumped from KVM on a project machine. */
    static List<CpuidEntry> amdEpyc() {
        return load("cpuid-amd-epyc.txt");
    }

    /** Intel Sapphire Rapids, composed after what KVM reports there. */
    static List<CpuidEntry> intelSapphireRapids() {
        return load("cpuid-intel-sapphire-rapids.txt");
    }

    private static List<CpuidEntry> load(String name) {
        List<CpuidEntry> entries = new ArrayList<>();
        try (InputStream in = CpuidFixtures.class.getResourceAsStream(name);
                BufferedReader r = new BufferedReader(
                        new InputStreamReader(in, StandardCharsets.US_ASCII))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.trim().split("\\s+");
                int[] v = new int[7];
                for (int i = 0; i < 7; i++) {
                    v[i] = Integer.parseUnsignedInt(f[i].substring(2), 16);
                }
                entries.add(new CpuidEntry(v[0], v[1], v[2], v[3], v[4], v[5], v[6]));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return List.copyOf(entries);
    }
}
