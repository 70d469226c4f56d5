#!/usr/bin/env bash
# Prepares a Debian 12 machine to build, test and benchmark Nimbus, then builds
# it and makes the guest assets. Run it as root (or as a user with sudo) from
# anywhere; running it again only does what is missing.
#
# Usage: scripts/setup.sh [-q] [--no-build] [--no-assets]
#   -q           quiet: only errors and the final summary
#   --no-build   skip `mvn package` (CI runs `mvn verify` itself)
#   --no-assets  skip scripts/guest-assets.sh
#
# Steps: apt packages, a JDK 25 (from $JAVA_HOME or /usr/lib/jvm, else the
# Adoptium apt repository), `mvn -B -DskipTests package` and the AOT cache
# (scripts/aot-cache.sh), guest assets into
# ${NIMBUS_CACHE:-$HOME/.cache/nimbus}/guest.
set -euo pipefail

readonly ME=setup
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_DIR=$(dirname "$SCRIPT_DIR")
readonly SCRIPT_DIR REPO_DIR

# What building, testing and benchmarking Nimbus needs from Debian:
#   maven                       the build
#   gcc gcc-multilib binutils   test guests written in C and assembly (32- and 64-bit)
#   acpica-tools                iasl: checks the ACPI tables Nimbus writes
#   cpio gzip lz4 xz-utils zstd kmod dpkg
#                               guest assets: unpacking kernels, depmod, the initramfs
#   qemu-system-x86             reference runs of the guests (TCG)
#   iproute2 socat curl         TAP devices and network namespaces; sockets; the REST API
#   e2fsprogs debootstrap       guest root file systems
#   util-linux procps time      flock, ps, /usr/bin/time for memory and timing benchmarks
#   gnuplot-nox                 the plot of scripts/bench-boot.sh
#   ca-certificates             HTTPS for Maven and Adoptium
readonly PACKAGES=(
    maven
    gcc gcc-multilib binutils
    acpica-tools
    cpio gzip lz4 xz-utils zstd kmod dpkg
    qemu-system-x86
    iproute2 socat curl
    e2fsprogs debootstrap
    util-linux procps time
    gnuplot-nox
    ca-certificates
)
readonly JDK_FEATURE=25
readonly ADOPTIUM_KEY_URL=${NIMBUS_ADOPTIUM_KEY_URL:-https://packages.adoptium.net/artifactory/api/gpg/key/public}
readonly ADOPTIUM_REPO=https://packages.adoptium.net/artifactory/deb
readonly ADOPTIUM_KEYRING=/etc/apt/keyrings/adoptium.asc
readonly ADOPTIUM_LIST=/etc/apt/sources.list.d/adoptium.list

QUIET=0
BUILD=1
ASSETS=1
for arg in "$@"; do
    case "$arg" in
        -q | --quiet) QUIET=1 ;;
        --no-build) BUILD=0 ;;
        --no-assets) ASSETS=0 ;;
        -h | --help) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
        *) echo "$ME: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
    esac
done

log() { [ "$QUIET" = 1 ] || echo "$ME: $*"; }
die() { echo "$ME: error: $*" >&2; exit 1; }

# shellcheck source=scripts/lib/jdk.sh
. "$SCRIPT_DIR/lib/jdk.sh"

[ -r /etc/debian_version ] || die "this script sets up Debian 12 (bookworm); on another system install the packages listed in it by hand"

# Root runs apt directly; anyone else goes through sudo.
SUDO=()
if [ "$(id -u)" != 0 ]; then
    command -v sudo > /dev/null 2>&1 || die "run as root, or install sudo: apt-get needs root"
    SUDO=(sudo)
fi

apt_quiet=()
[ "$QUIET" = 1 ] && apt_quiet=(-qq)

apt_get() {
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_quiet[@]}" "$@"
}

apt_update() {
    log "apt-get update"
    if [ "$QUIET" = 1 ]; then
        apt_get update > /dev/null
    else
        apt_get update
    fi
}

missing_packages() {
    local p status
    for p in "$@"; do
        status=$(dpkg-query -W -f '${db:Status-Status}' "$p" 2> /dev/null) || status=
        [ "$status" = installed ] || echo "$p"
    done
}

# apt's package lists are empty on a fresh machine (and in most containers).
apt_lists_empty() {
    ! compgen -G '/var/lib/apt/lists/*_Packages*' > /dev/null
}

step_packages() {
    local -a missing
    mapfile -t missing < <(missing_packages "${PACKAGES[@]}")
    UPDATED=0
    if [ "${#missing[@]}" -gt 0 ] || apt_lists_empty; then
        apt_update
        UPDATED=1
    fi
    if [ "${#missing[@]}" -gt 0 ]; then
        log "installing ${missing[*]}"
        apt_get install -y --no-install-recommends "${missing[@]}"
    else
        log "apt packages: all installed"
    fi
}

# The JDK from the Adoptium repository, for machines with none: Debian 12 has no JDK 25.
install_temurin() {
    local codename key
    codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release)
    [ -n "$codename" ] || codename=bookworm
    log "no JDK $JDK_FEATURE found; trying temurin-$JDK_FEATURE-jdk from $ADOPTIUM_REPO"
    key=$(curl -fsSL --max-time 30 "$ADOPTIUM_KEY_URL" 2> /dev/null) || key=
    case "$key" in
        *"BEGIN PGP PUBLIC KEY BLOCK"*) ;;
        *) return 1 ;;
    esac
    "${SUDO[@]}" install -d -m 0755 /etc/apt/keyrings
    printf '%s\n' "$key" | "${SUDO[@]}" tee "$ADOPTIUM_KEYRING" > /dev/null
    echo "deb [signed-by=$ADOPTIUM_KEYRING] $ADOPTIUM_REPO $codename main" \
        | "${SUDO[@]}" tee "$ADOPTIUM_LIST" > /dev/null
    if apt_update && apt_get install -y --no-install-recommends "temurin-$JDK_FEATURE-jdk"; then
        return 0
    fi
    # Leave no broken repository behind to fail the next apt-get update.
    "${SUDO[@]}" rm -f "$ADOPTIUM_LIST"
    return 1
}

step_jdk() {
    if ! JAVA_HOME=$(nimbus_find_jdk "$JDK_FEATURE"); then
        if ! install_temurin || ! JAVA_HOME=$(nimbus_find_jdk "$JDK_FEATURE"); then
            die "no JDK $JDK_FEATURE and the Adoptium repository is unreachable: install a JDK $JDK_FEATURE (e.g. Temurin $JDK_FEATURE from https://adoptium.net/temurin/releases/) under /usr/lib/jvm or set JAVA_HOME to it, then run scripts/setup.sh again"
        fi
    fi
    export JAVA_HOME
    log "JDK: $JAVA_HOME"
}

step_build() {
    log "building: mvn -B -DskipTests package"
    local -a q=()
    [ "$QUIET" = 1 ] && q=(-q)
    (cd "$REPO_DIR" && mvn -B -Dstyle.color=never "${q[@]}" -DskipTests package)
    [ -f "$REPO_DIR/target/nimbus.jar" ] || die "the build made no target/nimbus.jar"
    # The AOT cache bin/nimbus starts with: a training run that boots the kit's hello guest.
    if ! "$SCRIPT_DIR/aot-cache.sh" "${q[@]}"; then
        log "continuing without an AOT cache: Nimbus works, but starts slower"
    fi
}

step_assets() {
    local -a q=()
    [ "$QUIET" = 1 ] && q=(-q)
    # The assets come from apt-get download: it needs the package lists.
    if apt_lists_empty && [ "${UPDATED:-0}" = 0 ]; then
        apt_update
    fi
    "$SCRIPT_DIR/guest-assets.sh" "${q[@]}" > /dev/null
    # The Debian root file system the vhost-user tests boot under QEMU (cached; ~1 min once).
    "$SCRIPT_DIR/guest-rootfs.sh" "${q[@]}" > /dev/null
}

# Plain if statements: a function called from an && list runs without errexit.
started=$SECONDS
step_packages
step_jdk
summary="JDK $JAVA_HOME"
if [ "$BUILD" = 1 ]; then
    step_build
    summary="$summary, jar $REPO_DIR/target/nimbus.jar"
fi
if [ "$ASSETS" = 1 ]; then
    step_assets
    summary="$summary, guest assets in ${NIMBUS_CACHE:-$HOME/.cache/nimbus}/guest"
fi
echo "$ME: done in $((SECONDS - started)) s: $summary"
echo "$ME: next: scripts/test.sh runs the tests; bin/nimbus starts Nimbus"
