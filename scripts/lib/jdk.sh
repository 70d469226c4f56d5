# Finding a JDK of a given feature version or newer. Sourced by bin/nimbus,
# bin/nimbus-remote, scripts/setup.sh and scripts/test.sh; defines functions only.
# bin/nimbus runs this on every start, so it forks nothing when the JDK has a
# `release` file (every JDK since 9 has one): it calls nimbus_locate_jdk, which
# sets a variable instead of printing (a command substitution is a fork).
# shellcheck shell=bash

# nimbus_jdk_feature DIR: the feature version of the JDK in DIR (25 for
# "25.0.3", 8 for "1.8.0_452"), or nothing when DIR holds no usable JDK.
nimbus_jdk_feature() {
    nimbus_read_jdk_feature "$1"
    [ -n "$NIMBUS_JDK_FEATURE" ] && echo "$NIMBUS_JDK_FEATURE"
    return 0
}

# nimbus_read_jdk_feature DIR: sets NIMBUS_JDK_FEATURE to what nimbus_jdk_feature
# prints.
nimbus_read_jdk_feature() {
    local dir=$1 line version=''
    NIMBUS_JDK_FEATURE=''
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
    NIMBUS_JDK_FEATURE=${version%%[!0-9]*}
    return 0
}

# nimbus_find_jdk MIN: prints the home of a JDK with feature version MIN or
# newer: $JAVA_HOME if it qualifies, else the newest under /usr/lib/jvm.
# Returns 1 when there is none.
nimbus_find_jdk() {
    nimbus_locate_jdk "$1" || return 1
    echo "$NIMBUS_JDK_HOME"
}

# nimbus_locate_jdk MIN: sets NIMBUS_JDK_HOME to what nimbus_find_jdk prints;
# returns 1 when there is none.
nimbus_locate_jdk() {
    local min=$1 dir best='' best_feature=0
    NIMBUS_JDK_HOME=''
    if [ -n "${JAVA_HOME:-}" ]; then
        nimbus_read_jdk_feature "$JAVA_HOME"
        if [ -n "$NIMBUS_JDK_FEATURE" ] && [ "$NIMBUS_JDK_FEATURE" -ge "$min" ]; then
            NIMBUS_JDK_HOME=$JAVA_HOME
            return 0
        fi
    fi
    for dir in /usr/lib/jvm/*/; do
        dir=${dir%/}
        # Debian adds compatibility links (java-1.17.0-openjdk-amd64); the real directory is enough.
        [ -L "$dir" ] && continue
        nimbus_read_jdk_feature "$dir"
        [ -n "$NIMBUS_JDK_FEATURE" ] || continue
        if [ "$NIMBUS_JDK_FEATURE" -ge "$min" ] \
            && [ "$NIMBUS_JDK_FEATURE" -gt "$best_feature" ]; then
            best=$dir
            best_feature=$NIMBUS_JDK_FEATURE
        fi
    done
    [ -n "$best" ] || return 1
    NIMBUS_JDK_HOME=$best
}
