package dev.nimbus.hypervisor;

/** Segment, descriptor-table and control registers of a vCPU (struct kvm_sregs). */
public final class SpecialRegisters {
    public Segment cs, ds, es, fs, gs, ss, tr, ldt;
    public long gdtBase;
    public int gdtLimit;
    public long idtBase;
    public int idtLimit;
    public long cr0, cr2, cr3, cr4, cr8, efer, apicBase;
    /** Pending external interrupt bitmap (256 bits); kept as read, written back unchanged. */
    public long[] interruptBitmap = new long[4];
}
