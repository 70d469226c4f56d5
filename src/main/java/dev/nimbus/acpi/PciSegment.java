package dev.nimbus.acpi;

import static dev.nimbus.acpi.AmlData.ONE;
import static dev.nimbus.acpi.AmlData.eisaId;
import static dev.nimbus.acpi.AmlData.integer;
import static dev.nimbus.acpi.AmlObjects.device;
import static dev.nimbus.acpi.AmlObjects.name;

import dev.nimbus.acpi.ResourceTemplate.Cacheability;
import java.util.ArrayList;
import java.util.List;

/**
 * One PCI segment as the ACPI tables describe it: its ECAM area (an MCFG entry) and its host
 * bridge device {@code \_SB_.PCxx} in the DSDT, with the bus numbers and MMIO windows the bridge
 * forwards.
 *
 * @param id segment number, also the bridge's _SEG and _UID
 * @param ecamBase address of the ECAM area of bus 0 of this segment
 * @param busStart first bus number
 * @param busEnd last bus number
 * @param mmio32Base start of the window below 4 GiB
 * @param mmio32Size size of the window below 4 GiB; 0 for none
 * @param mmio64Base start of the window above 4 GiB
 * @param mmio64Size size of the window above 4 GiB; 0 for none
 * @param hostBridgeContent more objects for the bridge device, such as _PRT, slot devices or
 *     _OSC, which the PCI code supplies
 */
public record PciSegment(int id, long ecamBase, int busStart, int busEnd, long mmio32Base,
        long mmio32Size, long mmio64Base, long mmio64Size, List<Aml> hostBridgeContent) {
    /** ECAM area of segment 0; segment {@code n} follows at {@code n} MiB above it. */
    public static final long ECAM_BASE = 0xE800_0000L;

    /** ECAM bytes per bus: 32 devices × 8 functions × 4 KiB. */
    public static final long ECAM_SIZE_PER_BUS = 1L << 20;

    /** The configuration address and data ports of PCI configuration mechanism #1. */
    public static final int PCI_CONFIG_PORT = 0xCF8;
    public static final int PCI_CONFIG_PORT_LENGTH = 8;

    public PciSegment {
        if (id < 0 || id > 0xFF) {
            throw new IllegalArgumentException("PCI segment id out of range: id=" + id);
        }
        if (busStart < 0 || busEnd > 0xFF || busStart > busEnd) {
            throw new IllegalArgumentException(
                    "PCI bus range invalid: busStart=" + busStart + " busEnd=" + busEnd);
        }
        if (mmio32Size < 0 || mmio64Size < 0
                || (mmio32Size > 0 && mmio32Base + mmio32Size - 1 > 0xFFFF_FFFFL)) {
            throw new IllegalArgumentException(String.format(
                    "PCI MMIO windows invalid: mmio32=0x%x+0x%x mmio64=0x%x+0x%x",
                    mmio32Base, mmio32Size, mmio64Base, mmio64Size));
        }
        hostBridgeContent = List.copyOf(hostBridgeContent);
    }

    /**
     * Segment {@code id} with bus 0 only and its ECAM area at {@link #ECAM_BASE} plus {@code id}
     * MiB, as Cloud Hypervisor lays segments out.
     */
    public static PciSegment of(int id, long mmio32Base, long mmio32Size, long mmio64Base,
            long mmio64Size) {
        return new PciSegment(id, ECAM_BASE + id * ECAM_SIZE_PER_BUS, 0, 0, mmio32Base,
                mmio32Size, mmio64Base, mmio64Size, List.of());
    }

    /** This segment with {@code content} added to its host bridge device. */
    public PciSegment withHostBridgeContent(Aml... content) {
        List<Aml> all = new ArrayList<>(hostBridgeContent);
        all.addAll(List.of(content));
        return new PciSegment(id, ecamBase, busStart, busEnd, mmio32Base, mmio32Size,
                mmio64Base, mmio64Size, all);
    }

    /** Address of the ECAM area of {@link #busStart}. */
    public long ecamStart() {
        return ecamBase + busStart * ECAM_SIZE_PER_BUS;
    }

    /** Size of the ECAM area of the segment's buses. */
    public long ecamSize() {
        return (busEnd - busStart + 1) * ECAM_SIZE_PER_BUS;
    }

    /** Namespace path of the host bridge device. */
    public String hostBridgePath() {
        return String.format("\\_SB_.PC%02X", id);
    }

    /**
     * The host bridge device: a PCI Express root bridge (PNP0A08, compatible with PNP0A03)
     * whose _CRS lists what it forwards. Segment 0 also owns the legacy configuration ports and
     * the I/O port windows around them. It has no _ADR: a device is named by _HID or by _ADR,
     * never both.
     */
    public Aml hostBridge() {
        ResourceTemplate crs = new ResourceTemplate().wordBusNumber(busStart, busEnd);
        if (id == 0) {
            crs.io(PCI_CONFIG_PORT, PCI_CONFIG_PORT, 1, PCI_CONFIG_PORT_LENGTH);
        }
        crs.memory32Fixed(true, ecamStart(), ecamSize());
        if (mmio32Size > 0) {
            crs.memory(false, Cacheability.NON_CACHEABLE, true, mmio32Base,
                    mmio32Base + mmio32Size - 1);
        }
        if (mmio64Size > 0) {
            crs.memory(false, Cacheability.NON_CACHEABLE, true, mmio64Base,
                    mmio64Base + mmio64Size - 1);
        }
        if (id == 0) {
            crs.wordIo(0x0000, PCI_CONFIG_PORT - 1);
            crs.wordIo(PCI_CONFIG_PORT + PCI_CONFIG_PORT_LENGTH, 0xFFFF);
        }

        List<Aml> body = new ArrayList<>(List.of(
                name("_HID", eisaId("PNP0A08")),
                name("_CID", eisaId("PNP0A03")),
                name("_SEG", integer(id)),
                name("_UID", integer(id)),
                name("_BBN", integer(busStart)),
                // Every DMA a device does is coherent with the CPU caches.
                name("_CCA", ONE),
                name("_CRS", crs)));
        body.addAll(hostBridgeContent);
        return device(hostBridgePath(), body);
    }
}
