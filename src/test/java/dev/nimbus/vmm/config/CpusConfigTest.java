package dev.nimbus.vmm.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class CpusConfigTest {

    private static String error(String option) {
        return assertThrows(ConfigException.class, () -> CpusConfig.parse(option)).getMessage();
    }

    @Test
    void emptyOptionGivesTheDefaults() {
        CpusConfig c = CpusConfig.parse("");

        assertEquals(CpusConfig.DEFAULT, c);
        assertEquals(1, c.bootVcpus());
        assertEquals(1, c.maxVcpus());
        assertEquals(46, c.maxPhysBits());
        assertEquals(true, c.nested());
        assertEquals(CoreScheduling.VM, c.coreScheduling());
        assertEquals(List.of(), c.affinity());
    }

    @Test
    void maxDefaultsToBoot() {
        assertEquals(new CpusConfig(3, 3, 46), CpusConfig.parse("boot=3"));
        assertEquals(new CpusConfig(1, 2, 46), CpusConfig.parse("boot=1,max=2"));
    }

    @Test
    void readsEveryKey() {
        CpusConfig c = CpusConfig.parse("boot=2,max=8,topology=2:2:1:2,kvm_hyperv=on,"
                + "max_phys_bits=40,affinity=[0@[0,2],1@[1,3-4]],features=[amx],nested=off,"
                + "core_scheduling=VCPU,profile=Host");

        assertEquals(new CpusConfig(2, 8, new CpuTopology(2, 2, 1, 2), true, 40,
                List.of(new CpuAffinity(0, List.of(0, 2)), new CpuAffinity(1, List.of(1, 3, 4))),
                true, false, CoreScheduling.VCPU), c);
    }

    @Test
    void badValuesNameTheKey() {
        assertEquals("Error parsing --cpus: Unable to convert x for boot", error("boot=x"));
        assertEquals("Error parsing --cpus: Unable to convert 2:2:1 for topology",
                error("topology=2:2:1"));
        assertEquals("Error parsing --cpus: Unable to convert 256 for max_phys_bits",
                error("max_phys_bits=256"));
        assertEquals("Error parsing --cpus: Unable to convert 0@[1] for affinity",
                error("affinity=0@[1]"));
        assertEquals("Error parsing --cpus: Unable to convert host for profile",
                error("profile=host"));
        assertEquals("Error parsing --cpus: Unable to convert sometimes for core_scheduling",
                error("core_scheduling=sometimes"));
        assertEquals("Error parsing --cpus: Unknown option: threads", error("threads=2"));
    }

    @Test
    void onlyAmxIsAFeature() {
        assertEquals("Invalid feature in --cpus features list: avx512",
                error("features=[amx,avx512]"));
        assertEquals("Invalid feature in --cpus features list: ", error("features=[]"));
    }
}
