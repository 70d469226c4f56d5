#!/usr/bin/env bash
# Benchmarks the block and net device engines (not a unit test): builds the test
# classes and runs dev.nimbus.bench.DeviceEnginesBench, which prints Markdown tables
# for docs/benchmarks.md. Arguments go to the benchmark, e.g.
#   scripts/bench-devices.sh --runs 5 --seconds 2 --image-mib 1024 --only block
# The net part needs root: it creates a tap in a private network namespace.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_DIR=$(dirname "$SCRIPT_DIR")
readonly SCRIPT_DIR REPO_DIR

# shellcheck source=scripts/lib/jdk.sh
. "$SCRIPT_DIR/lib/jdk.sh"

if ! JAVA_HOME=$(nimbus_find_jdk 25); then
    echo "bench-devices: no JDK 25 found (set JAVA_HOME or run scripts/setup.sh)" >&2
    exit 1
fi
export JAVA_HOME
if ! command -v mvn > /dev/null 2>&1; then
    echo "bench-devices: mvn not found (run scripts/setup.sh)" >&2
    exit 1
fi

cd "$REPO_DIR"
mvn -B -q -Dstyle.color=never test-compile
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC \
    -cp target/classes:target/test-classes dev.nimbus.bench.DeviceEnginesBench "$@"
