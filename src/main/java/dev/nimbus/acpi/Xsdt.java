package dev.nimbus.acpi;

import java.util.List;

/**
 * The Extended System Description Table (ACPI 6.5, section 5.2.8): the 64-bit addresses of
 * every other table except the DSDT, which the FADT points to.
 */
public final class Xsdt {
    public static final int REVISION = 1;

    private Xsdt() {
    }

    /** The XSDT listing tables at {@code tableGpas}, in that order. */
    public static Sdt build(List<Long> tableGpas) {
        Sdt xsdt = new Sdt("XSDT", REVISION);
        for (long gpa : tableGpas) {
            xsdt.bytes().u64(gpa);
        }
        return xsdt;
    }
}
