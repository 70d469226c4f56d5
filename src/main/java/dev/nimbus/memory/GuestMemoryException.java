package dev.nimbus.memory;

/** An access to guest physical memory that does not fall inside guest RAM. */
public final class GuestMemoryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public GuestMemoryException(String message) {
        super(message);
    }
}
