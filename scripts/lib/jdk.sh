# Finding a JDK of a given feature version or newer. Sourced by bin/nimbus,
# bin/nimbus-remote, scripts/setup.sh and scripts/test.sh; defines functions only.
# bin/nimbus runs this on every start, so it forks nothing when the JDK has a
# `release` file (every JDK since 9 has one).
# shellcheck shell=bash

# nimbus_jdk_feature DIR: the feature version of the JDK in DIR (25 for
# "25.0.3", 8 for "1.8.0_452"), or nothing when DIR holds no usable JDK.
nimbus_jdk_feature() {
    local dir=$1 line version=''
    [ -x "$dir/bin/java" ] || return 0
    if [ -r "$dir/release" ]; then
        while IFS= read -r line; do
            case "$line" in
                JAVA_VERSION=*) version=${line#JAVA_VERSION=}; version=${version//\"/}; break ;;
            esac
        done < "$dir/release"
    fi
    if [ -z "$version" ]; then
        # No release file: ask java itself (slow: starts a JVM).
        line=$("$dir/bin/java" -version 2>&1 | awk -F'"' '/version/ { print $2; exit }') || true
        version=$line
    fi
    case "$version" in
        1.*) version=${version#1.} ;;
    esac
    version=${version%%[!0-9]*}
    [ -n "$version" ] && echo "$version"
    return 0
}

# nimbus_find_jdk MIN: prints the home of a JDK with feature version MIN or
# newer: $JAVA_HOME if it qualifies, else the newest under /usr/lib/jvm.
# Returns 1 when there is none.
nimbus_find_jdk() {
    local min=$1 dir feature best='' best_feature=0
    if [ -n "${JAVA_HOME:-}" ]; then
        feature=$(nimbus_jdk_feature "$JAVA_HOME")
        if [ -n "$feature" ] && [ "$feature" -ge "$min" ]; then
            echo "$JAVA_HOME"
            return 0
        fi
    fi
    for dir in /usr/lib/jvm/*/; do
        dir=${dir%/}
        # Debian adds compatibility links (java-1.17.0-openjdk-amd64); the real directory is enough.
        [ -L "$dir" ] && continue
        feature=$(nimbus_jdk_feature "$dir")
        [ -n "$feature" ] || continue
        if [ "$feature" -ge "$min" ] && [ "$feature" -gt "$best_feature" ]; then
            best=$dir
            best_feature=$feature
        fi
    done
    [ -n "$best" ] || return 1
    echo "$best"
}
