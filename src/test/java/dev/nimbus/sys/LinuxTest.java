package dev.nimbus.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LinuxTest {
    @Test
    void aFailedCallNamesTheCallAndErrno() {
        SyscallException e = assertThrows(SyscallException.class,
                () -> Linux.ioctl(-1, 0xAE01L, 0, "ioctl KVM_CREATE_VM"));
        assertEquals(Errno.EBADF, e.errno());
        assertEquals("ioctl KVM_CREATE_VM failed: EBADF (Bad file descriptor)", e.getMessage());
    }

    @Test
    void openOfAMissingFileReportsEnoent() {
        SyscallException e = assertThrows(SyscallException.class,
                () -> Linux.open("/nonexistent/nimbus", Linux.O_RDONLY, 0));
        assertEquals(Errno.ENOENT, e.errno());
        assertTrue(e.getMessage().startsWith("open /nonexistent/nimbus failed: ENOENT"));
    }

    @Test
    void rawCallsReturnNegativeErrno() {
        assertEquals(-Errno.EBADF, Linux.raw(Linux.SYS_CLOSE, -5, 0, 0, 0, 0, 0));
        assertEquals(Linux.getpid(), ProcessHandle.current().pid());
    }

    @Test
    void ioctlEncodingFollowsTheKernelMacro() {
        assertEquals(0x4020AE46L, Ioctl.iow(0xAE, 0x46, 32));
        assertEquals(32, Ioctl.size(0x4020AE46L));
        assertThrows(IllegalArgumentException.class, () -> Ioctl.ior(0xAE, 1, 0x4000));
    }
}
