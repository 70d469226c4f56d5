#!/usr/bin/env bash
# Makes target/nimbus.aot, the JDK 25 AOT cache bin/nimbus starts with (JEP 483, 514, 515): the
# classes a boot loads, already parsed and linked, with their early profiles. It comes from one
# training run of bin/nimbus itself (so the JVM options match exactly) that boots the test
# kit's hello guest to power-off. The cache must match the jar: run this again after every
# `mvn package` (scripts/setup.sh does). bin/nimbus ignores a cache older than the jar, and a
# missing one: Nimbus then only starts slower.
#
# Usage: scripts/aot-cache.sh [-q]
# Needs: target/nimbus.jar, gcc (with -m32) and binutils for the guest, and a usable /dev/kvm.
# Exit status: 0 when the cache was made, 1 on failure (the old cache is removed).
set -euo pipefail

readonly ME=aot-cache
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_DIR=$(dirname "$SCRIPT_DIR")
readonly SCRIPT_DIR REPO_DIR
readonly JAR=$REPO_DIR/target/nimbus.jar
readonly CACHE=$REPO_DIR/target/nimbus.aot
readonly WORK=$REPO_DIR/target/aot-training

QUIET=0
[ "${1:-}" = -q ] && QUIET=1
log() { [ "$QUIET" = 1 ] || echo "$ME: $*"; }
fail() {
    echo "$ME: no AOT cache: $*" >&2
    rm -f "$CACHE"
    exit 1
}

[ -f "$JAR" ] || fail "$JAR is missing (mvn -B -DskipTests package)"
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
    fail "the training run needs a usable /dev/kvm"
fi

# An old cache must not be in use while the new one is made: bin/nimbus would pass both.
rm -f "$CACHE"
rm -rf "$WORK"
mkdir -p "$WORK"
sh "$REPO_DIR/src/test/kit/build.sh" "$WORK/kit" > "$WORK/kit-build.log" 2>&1 \
    || fail "building the hello guest failed: see $WORK/kit-build.log"

log "training run: bin/nimbus boots the kit's hello guest"
started=$SECONDS
# The user's extra JVM options must not end up in the cache's configuration.
if ! env -u NIMBUS_JAVA_OPTS -u NIMBUS_TRACE_STARTUP NIMBUS_AOT_OUTPUT="$WORK/nimbus.aot" \
        "$REPO_DIR/bin/nimbus" \
        --kernel "$WORK/kit/kit-hello.elf" --memory size=512M --cpus boot=1 \
        --serial tty --console off > "$WORK/training.out" 2> "$WORK/training.err"; then
    fail "the training run failed: see $WORK/training.err"
fi
grep -q KIT-HELLO "$WORK/training.out" || fail "the guest did not boot: see $WORK/training.out"
[ -s "$WORK/nimbus.aot" ] || fail "the JVM wrote no cache: see $WORK/training.err"
mv "$WORK/nimbus.aot" "$CACHE"
log "made $CACHE ($(($(stat -c %s "$CACHE") / 1048576)) MiB) in $((SECONDS - started)) s"
