package dev.nimbus.devices.legacy;

import static dev.nimbus.devices.legacy.Serial16550.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nimbus.devices.ConsoleOutput;
import dev.nimbus.devices.InterruptLine;
import java.io.ByteArrayOutputStream;
import org.junit.jupiter.api.Test;

class Serial16550Test {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private int interrupts;
    private final Serial16550 uart = new Serial16550(new InterruptLine() {
        @Override
        public void trigger() {
            interrupts++;
        }

        @Override
        public void setLevel(boolean asserted) {}
    }, new ConsoleOutput() {
        @Override
        public void write(byte b) {
            out.write(b);
        }

        @Override
        public void close() {}
    });

    @Test
    void bytesWrittenToThrReachTheConsole() {
        for (byte b : "hi\n".getBytes()) {
            uart.write(DATA, 1, b);
        }
        assertEquals("hi\n", out.toString());
        assertEquals(LSR_THR_EMPTY | LSR_IDLE, uart.read(LSR, 1));
    }

    @Test
    void writeWithDlabSetUpdatesDivisorNotOutput() {
        uart.write(LCR, 1, LCR_DLAB | 0x03);
        uart.write(DATA, 1, 0x01);
        uart.write(IER, 1, 0x00);
        assertEquals(0x01, uart.read(DATA, 1));
        assertEquals(0x00, uart.read(IER, 1));
        uart.write(LCR, 1, 0x03);
        assertEquals(0, out.size());
    }

    @Test
    void enablingThreInterruptRaisesItAndReadingIirAcknowledges() {
        assertEquals(IIR_NONE | IIR_FIFO_ENABLED, uart.read(IIR, 1));
        uart.write(IER, 1, IER_THRE);
        assertEquals(1, interrupts);
        assertEquals(IIR_THRE | IIR_FIFO_ENABLED, uart.read(IIR, 1));
        assertEquals(IIR_NONE | IIR_FIFO_ENABLED, uart.read(IIR, 1));
        uart.write(DATA, 1, 'x');
        assertEquals(2, interrupts);
    }

    @Test
    void receivedBytesAreReadInOrderWithDataReadyAndInterrupt() {
        uart.write(IER, 1, IER_RDA);
        assertTrue(uart.receive((byte) 'a'));
        assertTrue(uart.receive((byte) 'b'));
        assertEquals(2, interrupts);
        assertEquals(IIR_RDA | IIR_FIFO_ENABLED, uart.read(IIR, 1));
        assertEquals(LSR_DATA_READY, uart.read(LSR, 1) & LSR_DATA_READY);
        assertEquals('a', uart.read(DATA, 1));
        assertEquals('b', uart.read(DATA, 1));
        assertEquals(0, uart.read(LSR, 1) & LSR_DATA_READY);
    }

    @Test
    void inputBeyondTheFifoIsDroppedAndCounted() {
        for (int i = 0; i < FIFO_SIZE; i++) {
            assertTrue(uart.receive((byte) i));
        }
        assertFalse(uart.receive((byte) 1));
        assertEquals(1, uart.droppedInput());
    }

    @Test
    void loopbackModeEchoesTransmitAndWiresModemLines() {
        uart.write(MCR, 1, MCR_LOOP | 0x0F);
        uart.write(DATA, 1, 0x5A);
        assertEquals(0, out.size());
        assertEquals(0x5A, uart.read(DATA, 1));
        assertEquals(MSR_CTS | MSR_DSR | MSR_RI | MSR_DCD, uart.read(MSR, 1));
    }

    @Test
    void scratchRegisterHoldsAValue() {
        uart.write(SCR, 1, 0xA5);
        assertEquals(0xA5, uart.read(SCR, 1));
    }
}
