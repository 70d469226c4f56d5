package dev.nimbus.block;

import java.io.IOException;

/** A disk image cannot be opened or used: wrong format, locked, not a file or block device. */
public final class DiskImageException extends IOException {
    private static final long serialVersionUID = 1L;

    public DiskImageException(String message) {
        super(message);
    }

    public DiskImageException(String message, Throwable cause) {
        super(message, cause);
    }
}
