package dev.nimbus.vmm;

/** How a running VM ended. */
public sealed interface VmExitEvent {
    /** The guest powered off (ACPI S5). */
    record PowerOff() implements VmExitEvent {}

    /** The guest asked for a reset; the VMM rebuilds and boots the VM again. */
    record Reset() implements VmExitEvent {}

    /** The guest cannot go on: triple fault, KVM internal error, failed entry. */
    record Fatal(String message) implements VmExitEvent {}
}
