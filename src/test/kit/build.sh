#!/bin/sh
# Builds the kit guests with gcc and binutils: sh build.sh <output directory>
# Writes <out>/kit-pvh.elf (PVH ELF64 with 32-bit code), <out>/kit-hello.elf (the same entry
# and core, printing one line: for boot benchmarks) and <out>/kit-bzImage.
set -eu

src=$(cd "$(dirname "$0")" && pwd)
out=$1
CC=${CC:-gcc}
LD=${LD:-ld}
OBJCOPY=${OBJCOPY:-objcopy}
READELF=${READELF:-readelf}

mkdir -p "$out/obj32" "$out/obj64"

# Freestanding code with general registers only: no SSE/x87 state, which the instruction
# emulator of a software-only KVM may not handle, and no libgcc.
CFLAGS="-std=gnu11 -O2 -Wall -Wextra -ffreestanding -nostdlib -fno-stack-protector
 -fno-stack-clash-protection -fcf-protection=none -fno-asynchronous-unwind-tables
 -fno-unwind-tables -mgeneral-regs-only -fno-jump-tables -fno-tree-switch-conversion
 -fno-common -fno-strict-aliasing -fno-delete-null-pointer-checks -U_FORTIFY_SOURCE"
CFLAGS32="$CFLAGS -m32 -march=i686 -fno-pic -fno-pie"
CFLAGS64="$CFLAGS -m64 -mno-red-zone -mcmodel=small -fpie -fvisibility=hidden"
LDFLAGS="-nostdlib -static --build-id=none -z noexecstack -z max-page-size=4096"

CORE="out lib cmdline report cpu rtc acpi action pci irq virtio virtio_dev"
CORE_ASM="irq"

# PVH guest: 32-bit, linked at 1 MiB, converted to ELF64.
objs=""
for f in pvh/head.S pvh/main.c; do
    o="$out/obj32/$(basename "$f" | tr . _).o"
    $CC $CFLAGS32 -c "$src/$f" -o "$o"
    objs="$objs $o"
done
for f in $CORE; do
    $CC $CFLAGS32 -c "$src/core/$f.c" -o "$out/obj32/$f.o"
    objs="$objs $out/obj32/$f.o"
done
for f in $CORE_ASM; do
    $CC $CFLAGS32 -c "$src/core/$f.S" -o "$out/obj32/${f}_S.o"
    objs="$objs $out/obj32/${f}_S.o"
done
$LD -m elf_i386 $LDFLAGS -T "$src/pvh/pvh.ld" -o "$out/obj32/pvh32.elf" $objs
$OBJCOPY -I elf32-i386 -O elf64-x86-64 "$out/obj32/pvh32.elf" "$out/kit-pvh.elf.tmp"
$READELF -nW "$out/kit-pvh.elf.tmp" | grep -q 'Xen.*0x00000012\|Xen.*PHYS32_ENTRY' || {
    echo "build.sh: kit-pvh.elf has no Xen PHYS32_ENTRY note" >&2
    exit 1
}
mv "$out/kit-pvh.elf.tmp" "$out/kit-pvh.elf"

# Hello guest: the PVH entry and the core, with its own main.
$CC $CFLAGS32 -c "$src/hello/main.c" -o "$out/obj32/hello_main_c.o"
core32=""
for f in $CORE; do
    core32="$core32 $out/obj32/$f.o"
done
for f in $CORE_ASM; do
    core32="$core32 $out/obj32/${f}_S.o"
done
$LD -m elf_i386 $LDFLAGS -T "$src/pvh/pvh.ld" -o "$out/obj32/hello32.elf" \
    "$out/obj32/head_S.o" "$out/obj32/hello_main_c.o" $core32
$OBJCOPY -I elf32-i386 -O elf64-x86-64 "$out/obj32/hello32.elf" "$out/kit-hello.elf.tmp"
mv "$out/kit-hello.elf.tmp" "$out/kit-hello.elf"

# bzImage guest: 16-bit setup plus position independent 64-bit code.
objs=""
for f in bzimage/setup.S bzimage/head.S; do
    o="$out/obj64/$(basename "$f" | tr . _).o"
    $CC $CFLAGS64 -c "$src/$f" -o "$o"
    objs="$objs $o"
done
for f in bzimage/main.c; do
    o="$out/obj64/$(basename "$f" | tr . _).o"
    $CC $CFLAGS64 -c "$src/$f" -o "$o"
    objs="$objs $o"
    cobjs="$o"
done
for f in $CORE; do
    $CC $CFLAGS64 -c "$src/core/$f.c" -o "$out/obj64/$f.o"
    objs="$objs $out/obj64/$f.o"
    cobjs="$cobjs $out/obj64/$f.o"
done
for f in $CORE_ASM; do
    $CC $CFLAGS64 -c "$src/core/$f.S" -o "$out/obj64/${f}_S.o"
    objs="$objs $out/obj64/${f}_S.o"
done
# The image may run anywhere, so compiled code must address memory relative to RIP only.
for o in $cobjs; do
    if $READELF -rW "$o" | grep -E 'R_X86_64_(64|32|32S|16|8|GOTPCREL[A-Z]*) ' >&2; then
        echo "build.sh: $o has absolute or GOT relocations" >&2
        exit 1
    fi
done
$LD -m elf_x86_64 $LDFLAGS -T "$src/bzimage/bzimage.ld" -o "$out/obj64/bzimage.elf" $objs
if $READELF -SW "$out/obj64/bzimage.elf" | grep -E ' \.(got|got\.plt|rela\.dyn|dynamic) ' >&2; then
    echo "build.sh: bzimage.elf needs dynamic relocations" >&2
    exit 1
fi
$OBJCOPY -O binary "$out/obj64/bzimage.elf" "$out/kit-bzImage.tmp"
mv "$out/kit-bzImage.tmp" "$out/kit-bzImage"
