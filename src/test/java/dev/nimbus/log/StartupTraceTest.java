package dev.nimbus.log;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class StartupTraceTest {
    @Test
    void microsecondsPrintAsMillisecondsWithOneDecimal() {
        assertEquals("0.0", StartupTrace.millis(0));
        assertEquals("0.1", StartupTrace.millis(50));
        assertEquals("1.2", StartupTrace.millis(1249));
        assertEquals("1.3", StartupTrace.millis(1250));
        assertEquals("123.4", StartupTrace.millis(123_400));
        assertEquals("10.0", StartupTrace.millis(9_999));
        // A launcher clock that went back shows as such rather than as garbage.
        assertEquals("-2.5", StartupTrace.millis(-2_500));
    }
}
