#!/usr/bin/env bash
# Makes an ext4 root file system image for test guests from Debian packages,
# into a cache:
#
#   ${NIMBUS_CACHE:-$HOME/.cache/nimbus}/rootfs/
#     rootfs.ext4   Debian bookworm (debootstrap --variant=minbase) with fio,
#                   iperf3 and socat, for I/O and network tests inside a guest
#     MANIFEST      inputs, package list with versions, size and sha256
#
# The guests boot the project's kernel and initramfs (scripts/guest-assets.sh)
# and mount this image, typically read-only, to run its tools (chroot). A
# second run with the same inputs does nothing. Needs root (debootstrap) and
# Debian's archive the first time; the .debs are kept in the cache, so later
# builds (--force, or a changed package list) work offline from them.
#
# Usage: scripts/guest-rootfs.sh [-q] [--force] [--print]
#   -q       print only the image path (stdout), no progress (stderr)
#   --force  rebuild even if the cache is up to date
#   --print  print the image path of the cache and fail if there is none
# Output on stdout: rootfs=PATH manifest=PATH
#
# Environment:
#   NIMBUS_CACHE            cache root (default $HOME/.cache/nimbus)
#   NIMBUS_DEBIAN_MIRROR    archive to debootstrap from (default http://deb.debian.org/debian)
set -euo pipefail

readonly ME=guest-rootfs
PATH=$PATH:/usr/sbin:/sbin
readonly SUITE=bookworm
readonly PACKAGES=fio,iperf3,socat,e2fsprogs,iproute2
readonly MIRROR=${NIMBUS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
readonly CACHE_ROOT=${NIMBUS_CACHE:-${HOME:?HOME is not set; set NIMBUS_CACHE}/.cache/nimbus}
readonly OUT=$CACHE_ROOT/rootfs
readonly DEBS=$CACHE_ROOT/rootfs-debs
SCRIPT_PATH=$(readlink -f "${BASH_SOURCE[0]}")
readonly SCRIPT_PATH

QUIET=0
FORCE=0
PRINT_ONLY=0
for arg in "$@"; do
    case "$arg" in
        -q | --quiet) QUIET=1 ;;
        --force) FORCE=1 ;;
        --print) PRINT_ONLY=1 ;;
        -h | --help) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
        *) echo "$ME: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
    esac
done

log() { [ "$QUIET" = 1 ] || echo "$ME: $*" >&2; }
die() { echo "$ME: error: $*" >&2; exit 1; }
need() {
    command -v "$1" > /dev/null 2>&1 || die "missing tool '$1' (install the Debian package $2: apt-get install $2)"
}

print_paths() {
    echo "rootfs=$OUT/rootfs.ext4"
    echo "manifest=$OUT/MANIFEST"
}

inputs() {
    # What the image is made from; a change rebuilds it.
    echo "$SUITE $PACKAGES $MIRROR"
    sha256sum < "$SCRIPT_PATH" | cut -d' ' -f1
}

cache_complete() {
    [ -f "$OUT/MANIFEST" ] && [ -f "$OUT/rootfs.ext4" ] || return 1
    local size
    size=$(awk '$1 == "file" && $2 == "rootfs.ext4" { print $3 }' "$OUT/MANIFEST")
    [ -n "$size" ] && [ "$(stat -c %s "$OUT/rootfs.ext4")" = "$size" ]
}

main() {
    if [ "$PRINT_ONLY" = 1 ]; then
        cache_complete || die "no root file system image in $OUT (run scripts/guest-rootfs.sh)"
        print_paths
        return 0
    fi
    mkdir -p "$OUT" "$DEBS"
    if command -v flock > /dev/null 2>&1; then
        exec 9> "$OUT/.lock"
        flock 9
    fi
    local stamp
    stamp=$(inputs | sha256sum | cut -d' ' -f1)
    if [ "$FORCE" = 0 ] && cache_complete \
        && [ "$(awk '$1 == "inputs_sha256" { print $2 }' "$OUT/MANIFEST")" = "$stamp" ]; then
        log "up to date: $OUT"
        print_paths
        return 0
    fi
    [ "$(id -u)" = 0 ] || die "debootstrap needs root"
    need debootstrap debootstrap
    need mkfs.ext4 e2fsprogs
    need sha256sum coreutils

    local work
    work=$(mktemp -d "$CACHE_ROOT/.rootfs.XXXXXX")
    # shellcheck disable=SC2064 # expand now: $work is local
    trap "rm -rf '$work'" EXIT
    log "debootstrap $SUITE (minbase + $PACKAGES) from $MIRROR; the first run downloads ~150 MB"
    local quiet_out=/dev/stderr
    [ "$QUIET" = 1 ] && quiet_out=$work/debootstrap.log
    if ! debootstrap --variant=minbase --include="$PACKAGES" --cache-dir="$DEBS" \
        "$SUITE" "$work/root" "$MIRROR" > "$quiet_out" 2>&1; then
        [ -f "$work/debootstrap.log" ] && tail -20 "$work/debootstrap.log" >&2
        [ -f "$work/root/debootstrap/debootstrap.log" ] && tail -20 "$work/root/debootstrap/debootstrap.log" >&2
        die "debootstrap failed"
    fi
    local root=$work/root
    # Nothing here runs services; keep the image small and free of host identity.
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/tmp/*
    echo nimbus-guest > "$root/etc/hostname"
    : > "$root/etc/machine-id"
    # shellcheck disable=SC2016 # dpkg-query's own format, not the shell's
    chroot "$root" dpkg-query -W -f '${Package} ${Version}\n' > "$work/packages"

    local used_kb size_mb
    used_kb=$(du -sk "$root" | cut -f1)
    # Room for ext4's own metadata and a little slack.
    size_mb=$((used_kb * 13 / 10 / 1024 + 64))
    log "making a ${size_mb} MiB ext4 image"
    mkfs.ext4 -q -F -L nimbus-root -d "$root" "$work/rootfs.ext4" "${size_mb}M" >&2
    {
        echo "# Nimbus guest root file system, made by scripts/guest-rootfs.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "suite $SUITE"
        echo "include $PACKAGES"
        echo "inputs_sha256 $stamp"
        sed 's/^/package /' "$work/packages"
        echo "file rootfs.ext4 $(stat -c %s "$work/rootfs.ext4") $(sha256sum "$work/rootfs.ext4" | cut -d' ' -f1)"
    } > "$work/MANIFEST"
    rm -f "$OUT/MANIFEST"
    mv -f "$work/rootfs.ext4" "$OUT/rootfs.ext4"
    mv -f "$work/MANIFEST" "$OUT/MANIFEST"
    rm -rf "$work"
    trap - EXIT
    log "image ready: $OUT/rootfs.ext4"
    print_paths
}

main
