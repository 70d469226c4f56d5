package dev.nimbus.arch.x86_64;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nimbus.hypervisor.MsrEntry;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class BootMsrsTest {
    @Test
    void syscallAndSysenterMsrsStartCleared() {
        Map<Integer, Long> m = BootMsrs.entries().stream()
                .collect(Collectors.toMap(MsrEntry::index, MsrEntry::value));
        for (int msr : new int[] {0x174, 0x175, 0x176, 0xC000_0081, 0xC000_0082, 0xC000_0083,
                0xC000_0084, 0xC000_0102, 0x10}) {
            assertEquals(0L, m.get(msr), String.format("MSR 0x%x", msr));
        }
        assertEquals(11, m.size());
    }

    @Test
    void fastStringsAndWriteBackMtrrDefault() {
        Map<Integer, Long> m = BootMsrs.entries().stream()
                .collect(Collectors.toMap(MsrEntry::index, MsrEntry::value));
        assertEquals(1L, m.get(0x1A0)); // IA32_MISC_ENABLE.FAST_STRING
        // IA32_MTRR_DEF_TYPE: E (bit 11) set, FE clear, type 6 (WB).
        assertEquals(0x806L, m.get(0x2FF));
    }

    @Test
    void fpuDefaultsAreTheResetValues() {
        assertEquals(0x37F, FpuDefaults.FCW);
        assertEquals(0x1F80, FpuDefaults.MXCSR);
    }
}
