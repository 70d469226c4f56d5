package dev.nimbus.sys;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Raw mode for a terminal, so a guest console on the host's tty gets every key as typed (no line
 * editing, no echo by the host, Ctrl-C to the guest), as {@code cfmakeraw(3)} sets it.
 * Uses the kernel's {@code struct termios} (asm-generic/termbits.h: four flag words, the line
 * discipline and 19 control characters).
 */
public final class Terminal {
    private static final long TCGETS = 0x5401;
    private static final long TCSETS = 0x5402;
    private static final int SIZEOF_TERMIOS = 36;
    private static final int C_IFLAG = 0;
    private static final int C_OFLAG = 4;
    private static final int C_CFLAG = 8;
    private static final int C_LFLAG = 12;
    private static final int C_CC = 17;
    private static final int VTIME = 5;
    private static final int VMIN = 6;

    private final int fd;
    private final byte[] saved;

    private Terminal(int fd, byte[] saved) {
        this.fd = fd;
        this.saved = saved;
    }

    /** Whether {@code fd} is a terminal. */
    public static boolean isTerminal(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment t = a.allocate(SIZEOF_TERMIOS, 4);
            return Linux.raw(Linux.SYS_IOCTL, fd, TCGETS, t.address(), 0, 0, 0) == 0;
        }
    }

    /** Puts terminal {@code fd} in raw mode; {@link #restore} puts it back as it was. */
    public static Terminal makeRaw(int fd) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment t = a.allocate(SIZEOF_TERMIOS, 4);
            Linux.ioctl(fd, TCGETS, t, "ioctl TCGETS");
            byte[] saved = t.toArray(JAVA_BYTE);
            int iflag = t.get(JAVA_INT, C_IFLAG);
            iflag &= ~(0x1 | 0x2 | 0x8 | 0x20 | 0x40 | 0x80 | 0x100 | 0x400); // IGNBRK..IXON
            int oflag = t.get(JAVA_INT, C_OFLAG) & ~0x1; // OPOST
            int lflag = t.get(JAVA_INT, C_LFLAG);
            lflag &= ~(0x8 | 0x40 | 0x2 | 0x1 | 0x8000); // ECHO ECHONL ICANON ISIG IEXTEN
            int cflag = (t.get(JAVA_INT, C_CFLAG) & ~(0x30 | 0x100)) | 0x30; // CS8, no parity
            t.set(JAVA_INT, C_IFLAG, iflag);
            t.set(JAVA_INT, C_OFLAG, oflag);
            t.set(JAVA_INT, C_LFLAG, lflag);
            t.set(JAVA_INT, C_CFLAG, cflag);
            t.set(JAVA_BYTE, C_CC + VMIN, (byte) 1);
            t.set(JAVA_BYTE, C_CC + VTIME, (byte) 0);
            Linux.ioctl(fd, TCSETS, t, "ioctl TCSETS");
            return new Terminal(fd, saved);
        }
    }

    /** Restores the settings saved by {@link #makeRaw}. */
    public void restore() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment t = a.allocate(SIZEOF_TERMIOS, 4);
            MemorySegment.copy(saved, 0, t, JAVA_BYTE, 0, saved.length);
            Linux.raw(Linux.SYS_IOCTL, fd, TCSETS, t.address(), 0, 0, 0);
        }
    }
}
