package dev.nimbus.acpi;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What the ACPI tables describe: the vCPUs, whether COM1 exists, the PCI segments, the Generic
 * Event Device, and anything other code adds to the DSDT or as whole tables.
 *
 * <p>Build one with {@link #builder(int, int)}.
 *
 * @param bootVcpus vCPUs running at boot, numbered from 0
 * @param maxVcpus vCPUs the guest may ever have; the rest can be hot-added later
 * @param apicIds APIC id of each vCPU, indexed by vCPU number; the vCPU number is also its ACPI
 *     processor UID
 * @param serialPort whether the COM1 16550 UART exists
 * @param pciSegments PCI segments; empty means no PCI, so neither MCFG nor host bridges
 * @param ged the Generic Event Device, if the VMM created one
 * @param dsdtContent more objects for the DSDT, at its root scope (use absolute paths)
 * @param extraTables more tables, listed in the XSDT after the standard ones
 */
public record AcpiConfig(int bootVcpus, int maxVcpus, List<Integer> apicIds, boolean serialPort,
        List<PciSegment> pciSegments, Optional<Ged> ged, List<Aml> dsdtContent,
        List<Sdt> extraTables) {
    /** Most vCPUs the DSDT can name: devices C000 to CFFF. */
    public static final int MAX_VCPUS = 4096;

    public AcpiConfig {
        if (bootVcpus < 1 || bootVcpus > maxVcpus || maxVcpus > MAX_VCPUS) {
            throw new IllegalArgumentException("Invalid vCPU counts: bootVcpus=" + bootVcpus
                    + " maxVcpus=" + maxVcpus + " limit=" + MAX_VCPUS);
        }
        apicIds = List.copyOf(apicIds);
        if (apicIds.size() != maxVcpus) {
            throw new IllegalArgumentException("Need one APIC id per vCPU: apicIds="
                    + apicIds.size() + " maxVcpus=" + maxVcpus);
        }
        if (new HashSet<>(apicIds).size() != apicIds.size()) {
            throw new IllegalArgumentException("APIC ids repeat: apicIds=" + apicIds);
        }
        pciSegments = List.copyOf(pciSegments);
        Set<Integer> ids = new HashSet<>();
        for (PciSegment s : pciSegments) {
            if (!ids.add(s.id())) {
                throw new IllegalArgumentException("PCI segment listed twice: id=" + s.id());
            }
        }
        dsdtContent = List.copyOf(dsdtContent);
        extraTables = List.copyOf(extraTables);
    }

    /** A builder with APIC id {@code i} for vCPU {@code i}, COM1 present, and nothing else. */
    public static Builder builder(int bootVcpus, int maxVcpus) {
        return new Builder(bootVcpus, maxVcpus);
    }

    /** Builds an {@link AcpiConfig}. */
    public static final class Builder {
        private final int bootVcpus;
        private final int maxVcpus;
        private List<Integer> apicIds;
        private boolean serialPort = true;
        private final List<PciSegment> pciSegments = new ArrayList<>();
        private Ged ged;
        private final List<Aml> dsdtContent = new ArrayList<>();
        private final List<Sdt> extraTables = new ArrayList<>();

        private Builder(int bootVcpus, int maxVcpus) {
            this.bootVcpus = bootVcpus;
            this.maxVcpus = maxVcpus;
        }

        /** APIC ids by vCPU number, e.g. as the CPU topology composes them. */
        public Builder apicIds(List<Integer> ids) {
            this.apicIds = List.copyOf(ids);
            return this;
        }

        /** Whether COM1 exists (it does unless the serial port is off). */
        public Builder serialPort(boolean present) {
            this.serialPort = present;
            return this;
        }

        /** Adds a PCI segment; the first one turns PCI on. */
        public Builder pciSegment(PciSegment segment) {
            pciSegments.add(segment);
            return this;
        }

        /** The Generic Event Device. */
        public Builder ged(Ged device) {
            this.ged = device;
            return this;
        }

        /** Adds objects to the DSDT's root scope. */
        public Builder dsdt(Aml... content) {
            dsdtContent.addAll(List.of(content));
            return this;
        }

        /** Adds a table to the XSDT. */
        public Builder table(Sdt table) {
            extraTables.add(table);
            return this;
        }

        /** The configuration. */
        public AcpiConfig build() {
            List<Integer> ids = apicIds;
            if (ids == null) {
                // Identity ids; an out-of-range count is left for the record to reject.
                ids = new ArrayList<>();
                for (int i = 0; i < maxVcpus && maxVcpus <= MAX_VCPUS; i++) {
                    ids.add(i);
                }
            }
            return new AcpiConfig(bootVcpus, maxVcpus, ids, serialPort, pciSegments,
                    Optional.ofNullable(ged), dsdtContent, extraTables);
        }
    }
}
