#!/usr/bin/env bash
# Runs Nimbus's tests: unit tests (surefire) and integration tests, *IT
# (failsafe), with a JDK 25. Extra arguments go to Maven, e.g.
#   scripts/test.sh -Dtest=GuestMemoryTest -Dsurefire.failIfNoSpecifiedTests=false
#   scripts/test.sh -Dit.test=GuestAssetsIT
# The integration tests make the guest assets themselves (scripts/guest-assets.sh,
# cached) and need the tools scripts/setup.sh installs.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_DIR=$(dirname "$SCRIPT_DIR")
readonly SCRIPT_DIR REPO_DIR

# shellcheck source=scripts/lib/jdk.sh
. "$SCRIPT_DIR/lib/jdk.sh"

if ! JAVA_HOME=$(nimbus_find_jdk 25); then
    echo "test: no JDK 25 found (set JAVA_HOME or run scripts/setup.sh)" >&2
    exit 1
fi
export JAVA_HOME
command -v mvn > /dev/null 2>&1 || { echo "test: mvn not found (run scripts/setup.sh)" >&2; exit 1; }

cd "$REPO_DIR"
exec mvn -B -Dstyle.color=never verify "$@"
