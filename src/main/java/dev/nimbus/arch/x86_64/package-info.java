/**
 * x86-64 guest platform: the guest physical memory map ({@link dev.nimbus.arch.x86_64.Layout},
 * {@link dev.nimbus.arch.x86_64.RamLayout}), direct kernel boot through PVH or the Linux 64-bit
 * boot protocol ({@link dev.nimbus.arch.x86_64.KernelLoader}), and the initial vCPU state:
 * CPUID ({@link dev.nimbus.arch.x86_64.Cpuid}), MSRs, FPU and local APIC.
 *
 * <p>Nothing here calls KVM: every class works on {@code GuestMemory} and plain records, and
 * the hypervisor layer applies the results to vCPUs.
 */
package dev.nimbus.arch.x86_64;
