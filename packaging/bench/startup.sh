#!/usr/bin/env bash
# Start-up time of Compart's commands with and without their AOT cache: the whole process, wall clock, best of N.
#
# Usage: packaging/bench/startup.sh [-n N] [COMMAND ARG...]      (default: qvm-ls --help, then qvm-prefs --help)
# Needs a build with caches: ./mvnw -q -DskipTests package (packaging/target/aot). Runs each command N times
# (default 10) with COMPART_AOT=off, then N times with the cache, alternating so that both see the same load,
# and prints the best and the median of each. Commands that need compartd read COMPART_SOCKET as usual.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
runs=10
if [ "${1:-}" = "-n" ]; then runs=$2; shift 2; fi
if [ $# -eq 0 ]; then set -- "qvm-ls --help" "qvm-prefs --help"; else set -- "$*"; fi

if [ ! -e "$root/packaging/target/aot/qvm-ls.aot" ]; then
    echo "startup.sh: no AOT caches in $root/packaging/target/aot: run ./mvnw -q -DskipTests package first" >&2
    exit 1
fi

ms_of() {  # ms_of AOT_SETTING COMMAND ARG...: one run's wall time in ms
    local setting=$1; shift
    local t0 t1
    t0=$(date +%s%N)
    COMPART_AOT=$setting "$root/bin/$@" >/dev/null 2>&1 || true
    t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000000 ))
}

stats() { sort -n | awk '{ a[NR] = $1 } END { printf "best %4d ms  median %4d ms", a[1], a[int((NR + 1) / 2)] }'; }

echo "start-up, wall clock, $runs runs each, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
for command in "$@"; do
    # shellcheck disable=SC2086 # the command line is split into words on purpose
    set -- $command
    without="" with=""
    for _ in $(seq "$runs"); do
        without+="$(ms_of off "$@")"$'\n'
        with+="$(ms_of on "$@")"$'\n'
    done
    printf '%-28s without AOT cache: %s   with: %s\n' "$command" \
        "$(printf '%s' "$without" | stats)" "$(printf '%s' "$with" | stats)"
done
