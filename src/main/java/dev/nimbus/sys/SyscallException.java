package dev.nimbus.sys;

import java.io.IOException;

/**
 * A failed system call: carries the call's name (for an ioctl, the request name), the errno and
 * its symbolic name, e.g. {@code ioctl KVM_CREATE_VCPU failed: EEXIST (File exists)}.
 */
public final class SyscallException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    public SyscallException(String call, int errno) {
        super(call + " failed: " + Errno.name(errno) + " (" + Errno.description(errno) + ")");
        this.call = call;
        this.errno = errno;
    }

    /** The call that failed, e.g. {@code "ioctl KVM_RUN"}. */
    public String call() {
        return call;
    }

    public int errno() {
        return errno;
    }
}
