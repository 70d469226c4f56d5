package dev.nimbus.devices.legacy;

import dev.nimbus.devices.BusDevice;
import dev.nimbus.devices.ConsoleInput;
import dev.nimbus.devices.ConsoleOutput;
import dev.nimbus.devices.InterruptLine;
import java.util.ArrayDeque;

/**
 * A 16550A UART, as ttyS0 at I/O port 0x3F8 and IRQ 4 expects it. Transmission is immediate (the
 * transmitter is always empty); received bytes wait in a 64-byte FIFO. Register layout from the
 * 16550A data sheet (PC16550D, National Semiconductor).
 */
public final class Serial16550 implements BusDevice, ConsoleInput {
    // Register offsets from the base port.
    static final int DATA = 0; // RBR (read) / THR (write); DLL when DLAB is set
    static final int IER = 1; // interrupt enable; DLM when DLAB is set
    static final int IIR = 2; // interrupt identification (read) / FCR (write)
    static final int LCR = 3;
    static final int MCR = 4;
    static final int LSR = 5;
    static final int MSR = 6;
    static final int SCR = 7;

    static final int IER_RDA = 0x01; // received data available
    static final int IER_THRE = 0x02; // transmitter holding register empty
    static final int IER_MASK = 0x0F;

    static final int IIR_NONE = 0x01;
    static final int IIR_THRE = 0x02;
    static final int IIR_RDA = 0x04;
    static final int IIR_FIFO_ENABLED = 0xC0;

    static final int LCR_DLAB = 0x80;
    static final int MCR_LOOP = 0x10;
    static final int MCR_MASK = 0x1F;

    static final int LSR_DATA_READY = 0x01;
    static final int LSR_THR_EMPTY = 0x20;
    static final int LSR_IDLE = 0x40;

    static final int MSR_CTS = 0x10;
    static final int MSR_DSR = 0x20;
    static final int MSR_RI = 0x40;
    static final int MSR_DCD = 0x80;

    static final int FIFO_SIZE = 64;

    private final InterruptLine irq;
    private final ConsoleOutput output;
    private final ArrayDeque<Byte> rxFifo = new ArrayDeque<>();

    private int ier;
    private int lcr = 0x03; // 8 data bits, no parity, 1 stop bit
    private int mcr = 0x08; // OUT2: lets the interrupt reach the PIC on a PC
    private int scr;
    private int dll = 0x0C; // 9600 baud from the 1.8432 MHz clock
    private int dlm;
    private boolean thrEmptyPending;
    private long droppedInput;

    public Serial16550(InterruptLine irq, ConsoleOutput output) {
        this.irq = irq;
        this.output = output;
    }

    @Override
    public synchronized long read(long offset, int size) {
        boolean dlab = (lcr & LCR_DLAB) != 0;
        return switch ((int) offset) {
            case DATA -> {
                if (dlab) {
                    yield dll;
                }
                int b = rxFifo.isEmpty() ? 0 : rxFifo.poll() & 0xFF;
                updateInterrupt(false);
                yield b;
            }
            case IER -> dlab ? dlm : ier;
            case IIR -> {
                int iir = interruptIdentification();
                // Reading IIR with THRE as the source acknowledges it (16550A data sheet).
                if ((iir & 0x0F) == IIR_THRE) {
                    thrEmptyPending = false;
                }
                yield iir | IIR_FIFO_ENABLED;
            }
            case LCR -> lcr;
            case MCR -> mcr;
            case LSR -> LSR_THR_EMPTY | LSR_IDLE | (rxFifo.isEmpty() ? 0 : LSR_DATA_READY);
            case MSR -> modemStatus();
            case SCR -> scr;
            default -> 0;
        };
    }

    @Override
    public synchronized void write(long offset, int size, long value) {
        int v = (int) value & 0xFF;
        boolean dlab = (lcr & LCR_DLAB) != 0;
        switch ((int) offset) {
            case DATA -> {
                if (dlab) {
                    dll = v;
                } else if ((mcr & MCR_LOOP) != 0) {
                    enqueue((byte) v);
                    thrEmptyPending = true;
                    updateInterrupt(true);
                } else {
                    output.write((byte) v);
                    thrEmptyPending = true;
                    updateInterrupt(true);
                }
            }
            case IER -> {
                if (dlab) {
                    dlm = v;
                } else {
                    boolean threNewlyEnabled = (ier & IER_THRE) == 0 && (v & IER_THRE) != 0;
                    ier = v & IER_MASK;
                    // Enabling THRE with an empty transmitter raises the interrupt at once.
                    if (threNewlyEnabled) {
                        thrEmptyPending = true;
                    }
                    updateInterrupt(true);
                }
            }
            case IIR -> {
                // FCR: the FIFOs are always on; a receive-FIFO reset empties them.
                if ((v & 0x02) != 0) {
                    rxFifo.clear();
                }
            }
            case LCR -> lcr = v;
            case MCR -> mcr = v & MCR_MASK;
            case SCR -> scr = v;
            default -> {
                // LSR and MSR are read-only.
            }
        }
    }

    /** Input from the host side of the console. */
    @Override
    public synchronized boolean receive(byte b) {
        if ((mcr & MCR_LOOP) != 0) {
            return true; // in loopback the line is disconnected from the outside
        }
        boolean ok = enqueue(b);
        updateInterrupt(true);
        return ok;
    }

    /** Bytes from the host dropped because the guest did not drain the FIFO. */
    public synchronized long droppedInput() {
        return droppedInput;
    }

    private boolean enqueue(byte b) {
        if (rxFifo.size() >= FIFO_SIZE) {
            droppedInput++;
            return false;
        }
        rxFifo.add(b);
        return true;
    }

    private int modemStatus() {
        if ((mcr & MCR_LOOP) != 0) {
            // Loopback wires DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD.
            return ((mcr & 0x01) != 0 ? MSR_DSR : 0) | ((mcr & 0x02) != 0 ? MSR_CTS : 0)
                    | ((mcr & 0x04) != 0 ? MSR_RI : 0) | ((mcr & 0x08) != 0 ? MSR_DCD : 0);
        }
        return MSR_DCD | MSR_DSR | MSR_CTS;
    }

    private int interruptIdentification() {
        if ((ier & IER_RDA) != 0 && !rxFifo.isEmpty()) {
            return IIR_RDA;
        }
        if ((ier & IER_THRE) != 0 && thrEmptyPending) {
            return IIR_THRE;
        }
        return IIR_NONE;
    }

    /** Pulses the (edge-triggered) line when an enabled condition is pending. */
    private void updateInterrupt(boolean newEvent) {
        if (interruptIdentification() != IIR_NONE && newEvent) {
            irq.trigger();
        }
    }
}
