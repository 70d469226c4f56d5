#!/usr/bin/env bash
# The boot and footprint benchmark: Nimbus and QEMU (microvm and q35, KVM) side by side on
# the kit's hello guest (src/test/kit/hello: prints KIT-HELLO and powers off), and on the
# Linux guest assets where /dev/kvm has VMX/SVM. Builds what it needs into target/bench:
#   bench-launch   src/bench/launch.c: times one run from fork/exec, reads wait4 and smaps
#   kit/           the test kit's guests (src/test/kit/build.sh), kit-hello.elf among them
# then runs src/bench/BootBench.java and draws target/bench/boot.png with gnuplot.
#
# Usage: scripts/bench-boot.sh [BootBench options]   (e.g. --rounds 30, --variant
#        noaot=-XX:AOTMode=off; see `java src/bench/BootBench.java --help`)
# Needs: a built target/nimbus.jar (scripts/setup.sh), gcc, binutils, qemu-system-x86,
# gnuplot (optional: without it there is no plot), and read-write /dev/kvm.
set -euo pipefail

readonly ME=bench-boot
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_DIR=$(dirname "$SCRIPT_DIR")
readonly SCRIPT_DIR REPO_DIR
# Results go to target/bench unless the options name another folder (--out DIR).
OUT=$REPO_DIR/target/bench
prev=
for a in "$@"; do
    [ "$prev" = --out ] && OUT=$a
    prev=$a
done
readonly OUT

die() { echo "$ME: error: $*" >&2; exit 1; }

# shellcheck source=scripts/lib/jdk.sh
. "$SCRIPT_DIR/lib/jdk.sh"
java_home=$(nimbus_find_jdk 25) || die "no JDK 25 found (set JAVA_HOME)"
[ -f "$REPO_DIR/target/nimbus.jar" ] || die "target/nimbus.jar is missing: run scripts/setup.sh"
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
    die "/dev/kvm is not usable by this user"
fi

mkdir -p "$OUT"
gcc -O2 -Wall -Wextra -o "$OUT/bench-launch" "$REPO_DIR/src/bench/launch.c"
sh "$REPO_DIR/src/test/kit/build.sh" "$OUT/kit" > /dev/null

args=(--launcher "$OUT/bench-launch" --nimbus "$REPO_DIR/bin/nimbus"
      --guest "$OUT/kit/kit-hello.elf" --out "$OUT")
command -v qemu-system-x86_64 > /dev/null || args+=(--qemu none)
# The Linux guest: the project's assets, when scripts/guest-assets.sh has made them.
if assets=$("$SCRIPT_DIR/guest-assets.sh" --print 2> /dev/null); then
    kernel=$(sed -n 's/^bzImage=//p' <<< "$assets")
    initramfs=$(sed -n 's/^initramfs=//p' <<< "$assets")
    [ -n "$kernel" ] && args+=(--linux "$kernel,$initramfs")
fi

status=0
"$java_home/bin/java" "$REPO_DIR/src/bench/BootBench.java" "${args[@]}" "$@" || status=$?

if command -v gnuplot > /dev/null && [ -s "$OUT/plot.dat" ]; then
    gnuplot -e "data='$OUT/plot.dat'; out='$OUT/boot.png'" "$REPO_DIR/src/bench/boot.gp"
    echo "$ME: plot: $OUT/boot.png"
else
    echo "$ME: no gnuplot (apt-get install gnuplot-nox): no plot"
fi
echo "$ME: results: $OUT/summary.md, raw runs: $OUT/runs.tsv"
exit "$status"
