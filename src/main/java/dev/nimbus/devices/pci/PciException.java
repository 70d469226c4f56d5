package dev.nimbus.devices.pci;

/** A device cannot be added to a PCI segment: its slot is taken, or its BARs find no room. */
public final class PciException extends Exception {
    private static final long serialVersionUID = 1L;

    public PciException(String message) {
        super(message);
    }
}
