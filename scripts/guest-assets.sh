#!/usr/bin/env bash
# Makes Nimbus's Linux guest assets from Debian packages, into a cache:
#
#   ${NIMBUS_CACHE:-$HOME/.cache/nimbus}/guest/
#     bzImage             the kernel from the package linux-image-cloud-amd64 depends on
#     vmlinux             the same kernel as an uncompressed ELF, for PVH boot
#     initramfs.cpio.gz   busybox (busybox-static) + virtio/vsock/nvdimm/fuse modules + /init
#     config              the kernel's .config
#     MANIFEST            package versions, sizes and sha256 of the files above
#
# Packages are fetched with `apt-get download` (nothing is installed), so this
# runs on Debian 12 as root or as any user apt lets download. A second run with
# the same packages and inputs does nothing. Without apt (offline, or not
# Debian) a complete cache is used as it is.
#
# Usage: scripts/guest-assets.sh [-q] [--force] [--print]
#   -q       print only the asset paths (stdout), no progress (stderr)
#   --force  rebuild even if the cache is up to date
#   --print  print the asset paths of the cache and fail if it is incomplete
# Output on stdout, one per line: bzImage=PATH vmlinux=PATH initramfs=PATH config=PATH manifest=PATH
#
# Environment:
#   NIMBUS_CACHE               cache root (default $HOME/.cache/nimbus)
#   NIMBUS_OFFLINE=1           never call apt; build from cached .debs or use the cache
#   NIMBUS_GUEST_KERNEL_META   kernel meta package (default linux-image-cloud-amd64)
set -euo pipefail

readonly ME=guest-assets
# depmod lives in /usr/sbin, which a normal user's PATH lacks.
PATH=$PATH:/usr/sbin:/sbin
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_DIR=$(dirname "$SCRIPT_DIR")
readonly SCRIPT_DIR REPO_DIR
readonly GUEST_SRC=$REPO_DIR/guest
readonly KERNEL_META=${NIMBUS_GUEST_KERNEL_META:-linux-image-cloud-amd64}
readonly BUSYBOX_PKG=busybox-static
readonly CACHE_ROOT=${NIMBUS_CACHE:-${HOME:?HOME is not set; set NIMBUS_CACHE}/.cache/nimbus}
readonly OUT=$CACHE_ROOT/guest
readonly DEBS=$CACHE_ROOT/debs
readonly ASSETS=(bzImage vmlinux initramfs.cpio.gz config)
# Every file in the image gets this time stamp, so equal inputs give equal bytes.
readonly EPOCH=${SOURCE_DATE_EPOCH:-0}

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
warn() { echo "$ME: warning: $*" >&2; }
die() { echo "$ME: error: $*" >&2; exit 1; }

# need TOOL PACKAGE: fail with the Debian package to install when TOOL is missing.
need() {
    command -v "$1" > /dev/null 2>&1 || die "missing tool '$1' (install the Debian package $2: apt-get install $2)"
}

print_paths() {
    echo "bzImage=$OUT/bzImage"
    echo "vmlinux=$OUT/vmlinux"
    echo "initramfs=$OUT/initramfs.cpio.gz"
    echo "config=$OUT/config"
    echo "manifest=$OUT/MANIFEST"
}

# manifest_get KEY: the value of a "KEY VALUE..." line of the cached MANIFEST.
manifest_get() {
    [ -f "$OUT/MANIFEST" ] || return 0
    awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "$OUT/MANIFEST"
}

# cache_complete: every asset is there with the size the MANIFEST recorded.
cache_complete() {
    [ -f "$OUT/MANIFEST" ] || return 1
    local f size
    for f in "${ASSETS[@]}"; do
        [ -f "$OUT/$f" ] || return 1
        size=$(awk -v f="$f" '$1 == "file" && $2 == f { print $3 }' "$OUT/MANIFEST")
        [ -n "$size" ] && [ "$(stat -c %s "$OUT/$f")" = "$size" ] || return 1
    done
}

# The inputs besides the packages: this script, /init and the module list.
inputs_sha256() {
    cat "$SCRIPT_DIR/guest-assets.sh" "$GUEST_SRC/init" "$GUEST_SRC/modules" | sha256sum | cut -d' ' -f1
}

# A cheap fingerprint of apt's package lists: when they have not changed since
# the last run, neither have the versions apt would pick.
apt_lists_stamp() {
    local lists=/var/lib/apt/lists
    {
        stat -c '%n %s %Y' "$lists"/*_Packages* 2> /dev/null || true
        stat -c '%n %s %Y' /etc/apt/preferences /etc/apt/preferences.d/* 2> /dev/null || true
    } | sha256sum | cut -d' ' -f1
}

# candidate_version PACKAGE: the version apt would install, empty if none.
candidate_version() {
    apt-cache policy "$1" 2> /dev/null | awk '$1 == "Candidate:" && $2 != "(none)" { print $2 }'
}

# kernel_of_meta VERSION: the linux-image-* package (name=version) the meta package depends on.
kernel_of_meta() {
    apt-cache show "$KERNEL_META=$1" 2> /dev/null \
        | awk '/^Depends:/ && !done { sub(/^Depends: */, ""); print; done = 1 }' \
        | tr ',' '\n' \
        | sed -n 's/^ *\(linux-image-[^ ]*\) *(= *\([^)]*\)).*/\1=\2/p' \
        | awk 'NR == 1'
}

# deb_in_cache NAME VERSION: the path of a cached .deb of that package version.
deb_in_cache() {
    local f
    for f in "$DEBS"/*.deb; do
        [ -f "$f" ] || continue
        if [ "$(dpkg-deb -f "$f" Package Version 2> /dev/null | tr '\n' ' ')" = "Package: $1 Version: $2 " ]; then
            echo "$f"
            return 0
        fi
    done
    return 1
}

# cached_deb PATTERN: a cached .deb whose package name matches PATTERN (a glob).
# Each build keeps only the packages it used, so there is at most one.
cached_deb() {
    local f
    for f in "$DEBS"/*.deb; do
        [ -f "$f" ] || continue
        # shellcheck disable=SC2254 # PATTERN is meant as a glob
        case "$(dpkg-deb -f "$f" Package 2> /dev/null)" in $1) echo "$f"; return 0 ;; esac
    done
    return 1
}

# download NAME VERSION: fetch one package into $DEBS with apt-get download.
download() {
    local tmp
    tmp=$(mktemp -d "$DEBS/.download.XXXXXX")
    # apt drops root privileges to _apt while downloading; let it write here.
    if [ "$(id -u)" = 0 ] && id _apt > /dev/null 2>&1; then
        chown _apt "$tmp"
    fi
    log "downloading $1 $2"
    if ! (cd "$tmp" && apt-get download -q=2 "$1=$2") >&2; then
        rm -rf "$tmp"
        return 1
    fi
    mv "$tmp"/*.deb "$DEBS"/
    rm -rf "$tmp"
}

# payload FILE OFFSET LENGTH: bytes of a file, to stdout.
payload() {
    dd if="$1" iflag=skip_bytes,count_bytes skip="$2" count="$3" bs=1M status=none
}

le_u32() { # le_u32 FILE OFFSET: a little-endian 32-bit number from a file
    od -An -t u4 --endian=little -j "$2" -N 4 "$1" | tr -d ' '
}

le_u64() {
    od -An -t u8 --endian=little -j "$2" -N 8 "$1" | tr -d ' '
}

le_u16() {
    od -An -t u2 --endian=little -j "$2" -N 2 "$1" | tr -d ' '
}

# extract_vmlinux BZIMAGE OUT: the ELF vmlinux inside a bzImage.
# Linux boot protocol (Documentation/x86/boot.rst): the protected-mode code
# starts after (setup_sects + 1) * 512 bytes; payload_offset (0x248) and
# payload_length (0x24c) locate the compressed vmlinux in it. Kbuild appends the
# uncompressed size (4 bytes) to every format but gzip, and the decompressed
# image is the stripped vmlinux ELF followed by the relocation table that
# KASLR uses; the ELF ends with its section header table.
extract_vmlinux() {
    local bz=$1 out=$2 setup_sects start len magic raw
    [ "$(od -An -c -j 514 -N 4 "$bz" | tr -d ' ')" = HdrS ] || die "$bz is not a bzImage (no HdrS signature)"
    setup_sects=$(od -An -t u1 -j 497 -N 1 "$bz" | tr -d ' ')
    [ "$setup_sects" = 0 ] && setup_sects=4
    start=$(((setup_sects + 1) * 512 + $(le_u32 "$bz" 584)))
    len=$(le_u32 "$bz" 588)
    raw=$out.raw
    magic=$(od -An -t x1 -j "$start" -N 6 "$bz" | tr -d ' ')
    case "$magic" in
        02214c18*) need lz4 lz4
            payload "$bz" "$start" $((len - 4)) | lz4 -d -q -c > "$raw" ;;
        1f8b*) need gzip gzip
            payload "$bz" "$start" "$len" | gzip -d -c > "$raw" ;;
        fd377a585a00) need xz xz-utils
            payload "$bz" "$start" $((len - 4)) | xz -d -c > "$raw" ;;
        28b52ffd*) need zstd zstd
            payload "$bz" "$start" $((len - 4)) | zstd -d -q -c > "$raw" ;;
        *) die "$bz: unsupported kernel compression (payload magic $magic)" ;;
    esac
    [ "$(od -An -t x1 -N 4 "$raw" | tr -d ' ')" = 7f454c46 ] || die "$bz: decompressed payload is not ELF"
    local shoff shentsize shnum end
    shoff=$(le_u64 "$raw" 40)
    shentsize=$(le_u16 "$raw" 58)
    shnum=$(le_u16 "$raw" 60)
    end=$((shoff + shentsize * shnum))
    [ "$end" -le "$(stat -c %s "$raw")" ] || die "$bz: ELF section headers lie past the payload end"
    head -c "$end" "$raw" > "$out"
    rm -f "$raw"
}

# pvh_entry ELF: the XEN_ELFNOTE_PHYS32_ENTRY (type 18) address, empty if absent.
pvh_entry() {
    # awk reads to the end: an early exit would kill readelf with SIGPIPE (pipefail).
    readelf -n "$1" | awk '
        $1 == "Xen" && /\(0x00000012\)/ { want = 1; next }
        want && !done && /description data:/ {
            sub(/.*description data: */, "")
            split($0, b, " ")
            printf "0x%s%s%s%s\n", b[4], b[3], b[2], b[1]
            done = 1
        }
        { want = 0 }'
}

# module_closure MODROOT DEP_FILE: the modules of guest/modules plus their
# dependencies, dependencies first, one "name path" per line. depmod lists a
# module's dependencies (all of them, transitively) so that loading them from
# last to first works.
module_closure() {
    local moddir=$1 dep=$2 want line path deps d i
    local -A seen=()
    local -a list
    while read -r want _; do
        case "$want" in '' | '#'*) continue ;; esac
        line=$(grep -E "(^|/)${want}\.ko(\.[a-z]+)?:" "$dep" || true)
        if [ -z "$line" ]; then
            if grep -qE "(^|/)${want}\.ko\$" "$moddir/modules.builtin"; then
                log "module $want is built into the kernel"
                continue
            fi
            die "module $want is not in the kernel package (guest/modules)"
        fi
        path=${line%%:*}
        deps=${line#*:}
        read -r -a list <<< "$deps"
        for ((i = ${#list[@]} - 1; i >= 0; i--)); do
            d=${list[i]}
            [ -n "${seen[$d]:-}" ] && continue
            seen[$d]=1
            echo "$d"
        done
        [ -n "${seen[$path]:-}" ] && continue
        seen[$path]=1
        echo "$path"
    done < "$GUEST_SRC/modules"
}

# newc_node NAME MODE MAJOR MINOR: a cpio "newc" archive holding one device
# node, then the trailer. Device nodes need root to create on disk, so the
# image gets /dev/console this way; the kernel unpacks concatenated archives.
newc_entry() {
    local name=$1 mode=$2 major=$3 minor=$4 nlink=$5 size=$(( ${#1} + 1 ))
    printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%s\0' \
        0 "$mode" 0 0 "$nlink" "$EPOCH" 0 0 0 "$major" "$minor" "$size" 0 "$name"
    # The header (110 bytes) and name are padded to a multiple of 4.
    head -c $(((4 - (110 + size) % 4) % 4)) /dev/zero
}

newc_node() {
    newc_entry "$1" "$2" "$3" "$4" 1
    newc_entry TRAILER!!! 0 0 0 1
}

build() {
    local kdeb=$1 bdeb=$2 work=$3
    local kroot=$work/kernel broot=$work/busybox img=$work/initramfs stage=$work/out
    mkdir -p "$kroot" "$broot" "$img" "$stage"

    log "unpacking $(basename "$kdeb")"
    dpkg-deb -x "$kdeb" "$kroot"
    dpkg-deb -x "$bdeb" "$broot"
    local vmlinuz config krel
    vmlinuz=$(find "$kroot/boot" -name 'vmlinuz-*' | head -n 1)
    config=$(find "$kroot/boot" -name 'config-*' | head -n 1)
    if [ -z "$vmlinuz" ] || [ -z "$config" ]; then
        die "$(basename "$kdeb") has no boot/vmlinuz-* or boot/config-*"
    fi
    krel=${vmlinuz##*/vmlinuz-}
    [ -d "$kroot/lib/modules/$krel" ] || die "$(basename "$kdeb") has no lib/modules/$krel"
    cp "$vmlinuz" "$stage/bzImage"
    cp "$config" "$stage/config"

    log "extracting vmlinux"
    extract_vmlinux "$stage/bzImage" "$stage/vmlinux"
    local entry
    entry=$(pvh_entry "$stage/vmlinux")
    [ -n "$entry" ] || die "vmlinux has no Xen PHYS32_ENTRY note: the kernel cannot boot through PVH (CONFIG_PVH)"

    log "resolving module dependencies"
    depmod -b "$kroot" "$krel"
    local moddir=$kroot/lib/modules/$krel
    local -a modules
    mapfile -t modules < <(module_closure "$moddir" "$moddir/modules.dep")

    log "assembling initramfs (${#modules[@]} modules)"
    local m name
    mkdir -p "$img"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,tmp,root,newroot,etc/nimbus}
    mkdir -p "$img/lib/modules/$krel"
    cp "$broot/bin/busybox" "$img/bin/busybox"
    # One link per applet, at the path busybox itself names (bin/sh, sbin/insmod, ...).
    while read -r m; do
        case "$m" in bin/busybox | linuxrc) continue ;; esac
        [ -e "$img/$m" ] || ln -s /bin/busybox "$img/$m"
    done < <("$img/bin/busybox" --list-full)
    : > "$img/etc/nimbus/modules"
    : > "$img/lib/modules/$krel/modules.dep"
    for m in "${modules[@]}"; do
        mkdir -p "$img/lib/modules/$krel/$(dirname "$m")"
        cp "$moddir/$m" "$img/lib/modules/$krel/$m"
        name=${m##*/}
        echo "${name%%.ko*}" >> "$img/etc/nimbus/modules"
        # Keep modules.dep to what the image holds, so modprobe works in the shell.
        awk -F: -v m="$m" '$1 == m' "$moddir/modules.dep" >> "$img/lib/modules/$krel/modules.dep"
    done
    : > "$img/etc/nimbus/initramfs"
    install -m 0755 "$GUEST_SRC/init" "$img/init"
    chmod -R u+w,go-w "$img"
    chmod 1777 "$img/tmp"
    find "$img" -exec touch -h -d "@$EPOCH" {} +
    (
        cd "$img"
        find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet
        newc_node dev/console $((8#020600)) 5 1
    ) | gzip -9 -n > "$stage/initramfs.cpio.gz"

    local kpkg kver bver
    kpkg=$(dpkg-deb -f "$kdeb" Package)
    kver=$(dpkg-deb -f "$kdeb" Version)
    bver=$(dpkg-deb -f "$bdeb" Version)
    {
        echo "# Nimbus guest assets, made by scripts/guest-assets.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "# host: $(sed -n 's/^PRETTY_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' /etc/os-release 2> /dev/null)"
        echo "kernel_meta $KERNEL_META $META_VERSION"
        echo "kernel_package $kpkg $kver"
        echo "kernel_deb $(basename "$kdeb") $(stat -c %s "$kdeb") $(sha256sum "$kdeb" | cut -d' ' -f1)"
        echo "kernel_release $krel"
        echo "busybox_package $BUSYBOX_PKG $bver"
        echo "busybox_deb $(basename "$bdeb") $(stat -c %s "$bdeb") $(sha256sum "$bdeb" | cut -d' ' -f1)"
        echo "pvh_entry $entry"
        echo "modules $(tr '\n' ' ' < "$img/etc/nimbus/modules" | sed 's/ $//')"
        echo "inputs_sha256 $INPUTS"
        echo "# file name size_bytes sha256"
        for m in "${ASSETS[@]}"; do
            echo "file $m $(stat -c %s "$stage/$m") $(sha256sum "$stage/$m" | cut -d' ' -f1)"
        done
    } > "$stage/MANIFEST"

    # Replace the cache: assets first, the MANIFEST (which marks it complete) last.
    rm -f "$OUT/MANIFEST"
    for m in "${ASSETS[@]}"; do
        mv -f "$stage/$m" "$OUT/$m"
    done
    mv -f "$stage/MANIFEST" "$OUT/MANIFEST"
    log "kernel $kpkg $kver ($krel), PVH entry $entry, busybox $bver"
}

main() {
    if [ "$PRINT_ONLY" = 1 ]; then
        cache_complete || die "no complete guest assets in $OUT (run scripts/guest-assets.sh)"
        print_paths
        return 0
    fi
    for t in sha256sum:coreutils awk:gawk stat:coreutils; do
        need "${t%%:*}" "${t#*:}"
    done
    if [ ! -f "$GUEST_SRC/init" ] || [ ! -f "$GUEST_SRC/modules" ]; then
        die "guest/init or guest/modules is missing in $REPO_DIR"
    fi
    mkdir -p "$OUT" "$DEBS"

    # One run at a time per cache.
    if command -v flock > /dev/null 2>&1; then
        exec 9> "$OUT/.lock"
        flock 9
    fi

    INPUTS=$(inputs_sha256)
    local stamp
    stamp="$INPUTS $KERNEL_META $(apt_lists_stamp)"
    # Fast path: same inputs and same apt lists as the last complete build.
    if [ "$FORCE" = 0 ] && cache_complete && [ "$(cat "$OUT/.stamp" 2> /dev/null)" = "$stamp" ]; then
        log "up to date: $OUT"
        print_paths
        return 0
    fi

    need dpkg-deb dpkg
    # Which packages: what apt would pick now, or the cached .debs without apt.
    local kname='' kver='' bver='' kdeb='' bdeb='' reason=''

    META_VERSION=
    if [ "${NIMBUS_OFFLINE:-0}" = 1 ]; then
        reason="NIMBUS_OFFLINE=1"
    elif ! command -v apt-cache > /dev/null 2>&1; then
        reason="apt-cache not found (not Debian?)"
    else
        META_VERSION=$(candidate_version "$KERNEL_META")
        bver=$(candidate_version "$BUSYBOX_PKG")
        if [ -n "$META_VERSION" ] && [ -n "$bver" ]; then
            local k
            k=$(kernel_of_meta "$META_VERSION")
            kname=${k%%=*}
            kver=${k#*=}
            [ -n "$k" ] || reason="cannot tell which kernel $KERNEL_META $META_VERSION depends on"
        else
            reason="apt knows no $KERNEL_META or $BUSYBOX_PKG (run apt-get update)"
        fi
    fi

    if [ -z "$reason" ] && [ "$FORCE" = 0 ] && cache_complete \
        && [ "$(manifest_get kernel_package)" = "$kname $kver" ] \
        && [ "$(manifest_get busybox_package)" = "$BUSYBOX_PKG $bver" ] \
        && [ "$(manifest_get inputs_sha256)" = "$INPUTS" ]; then
        echo "$stamp" > "$OUT/.stamp"
        log "up to date: $OUT"
        print_paths
        return 0
    fi

    if [ -z "$reason" ]; then
        kdeb=$(deb_in_cache "$kname" "$kver") || { download "$kname" "$kver" && kdeb=$(deb_in_cache "$kname" "$kver"); } || reason="apt-get download $kname=$kver failed"
    fi
    if [ -z "$reason" ]; then
        bdeb=$(deb_in_cache "$BUSYBOX_PKG" "$bver") || { download "$BUSYBOX_PKG" "$bver" && bdeb=$(deb_in_cache "$BUSYBOX_PKG" "$bver"); } || reason="apt-get download $BUSYBOX_PKG=$bver failed"
    fi
    if [ -n "$reason" ]; then
        # Offline: build from the newest cached packages, or keep the cache as it is.
        kdeb=$(cached_deb 'linux-image-[0-9]*') || kdeb=
        bdeb=$(cached_deb "$BUSYBOX_PKG") || bdeb=
        if [ -n "$kdeb" ] && [ -n "$bdeb" ]; then
            warn "$reason; using cached packages $(basename "$kdeb") and $(basename "$bdeb")"
            kname=$(dpkg-deb -f "$kdeb" Package)
            kver=$(dpkg-deb -f "$kdeb" Version)
            bver=$(dpkg-deb -f "$bdeb" Version)
            META_VERSION=$(manifest_get kernel_meta | awk '{ print $2 }')
            if [ "$FORCE" = 0 ] && cache_complete \
                && [ "$(manifest_get kernel_package)" = "$kname $kver" ] \
                && [ "$(manifest_get busybox_package)" = "$BUSYBOX_PKG $bver" ] \
                && [ "$(manifest_get inputs_sha256)" = "$INPUTS" ]; then
                log "up to date: $OUT"
                print_paths
                return 0
            fi
        elif cache_complete; then
            local stale=''
            [ "$(manifest_get inputs_sha256)" = "$INPUTS" ] || stale=', made from an older guest/init, guest/modules or this script'
            warn "$reason; using the cached assets as they are ($(manifest_get kernel_package)$stale)"
            print_paths
            return 0
        else
            die "$reason, and there are no cached assets in $OUT"
        fi
    fi

    need depmod kmod
    need cpio cpio
    need gzip gzip
    need readelf binutils
    need od coreutils
    local work
    work=$(mktemp -d "$CACHE_ROOT/.build.XXXXXX")
    # shellcheck disable=SC2064 # expand now: $work is local
    trap "rm -rf '$work'" EXIT
    build "$kdeb" "$bdeb" "$work"
    rm -rf "$work"
    trap - EXIT

    # Drop packages no build uses any more.
    local f
    for f in "$DEBS"/*.deb; do
        [ "$f" = "$kdeb" ] || [ "$f" = "$bdeb" ] || rm -f "$f"
    done
    [ -n "$META_VERSION" ] && [ -z "$reason" ] && echo "$stamp" > "$OUT/.stamp"
    log "assets ready in $OUT"
    print_paths
}

main
