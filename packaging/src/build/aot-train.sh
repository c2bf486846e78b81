#!/usr/bin/env bash
# Builds the JDK 25 ahead-of-time (AOT) caches that make Compart's commands start fast.
#
# Usage: aot-train.sh BIN_DIR AOT_DIR POLICY_DIR
#   BIN_DIR     launchers of the bin/ shape (".launch" "$0" [--native] MODULE/MAIN); their .launch turns a run into
#               a training run when COMPART_AOT_OUTPUT=FILE is set, with the very options of a normal run (a cache
#               is only used by a JVM started like the one that made it).
#   AOT_DIR     emptied, then filled with NAME.aot for every command in BIN_DIR.
#   POLICY_DIR  a qrexec policy directory that qubes-policy-lint reads in its training run.
#
# One cache per module: the commands of a module share one (a symbolic link NAME.aot -> REP.aot), made by one
# training run of a representative command doing real work where that is cheap:
#   compart.core    compartd --hypervisor test, serving the runs below, stopped with SIGTERM
#   compart.cli     qvm-ls against that compartd (after a qvm-create or two); --help when it did not start
#   compart.policy  qubes-policy-lint POLICY_DIR
#   compart.volumes compart-dedup of two equal files (it reports what the file system allows); compart-volume-clone
#                   has a cache of its own, trained on a clone of a 1 MiB file
#   others          --help
# A command's own classes that the representative did not load come from its jar as usual.
set -euo pipefail

bin=$(cd "$1" && pwd)
aot=$2
policy=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/compart-aot.XXXXXX")
daemon_pid=""
cleanup() {
    if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then kill -KILL "$daemon_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

rm -rf "$aot"
mkdir -p "$aot"
aot=$(cd "$aot" && pwd)
started=$(date +%s%N)

# command -> module, from the launchers
declare -A module_of
for launcher in "$bin"/*; do
    [ -f "$launcher" ] && [ -x "$launcher" ] || continue
    grep -q '/\.launch"' "$launcher" || continue
    main=$(grep -oE 'compart\.[a-z]+/[A-Za-z0-9_.]+' "$launcher" | head -1)
    [ -n "$main" ] || { echo "aot-train: no MODULE/MAIN in $launcher" >&2; exit 1; }
    module_of[$(basename "$launcher")]=${main%%/*}
done

elapsed() { echo "$(( ($(date +%s%N) - $1) / 1000000 ))"; }

# train NAME LOG ARG...: one training run of bin/NAME writing $aot/NAME.aot. Its exit code does not matter (a
# command that fails still loads what it loads); a missing cache does.
train() {
    local name=$1 log=$2; shift 2
    local t0; t0=$(date +%s%N)
    COMPART_AOT_OUTPUT="$aot/$name.aot" "$bin/$name" "$@" >"$log" 2>&1 </dev/null || true
    report "$name" "$t0" "$log" "$*"
}

report() {
    local name=$1 t0=$2 log=$3 how=$4
    if [ ! -s "$aot/$name.aot" ]; then
        echo "aot-train: $name made no cache; its training run said:" >&2
        tail -20 "$log" >&2
        exit 1
    fi
    printf 'aot-train: %-22s %5s ms  %3s MiB  (%s %s)\n' "$name.aot" "$(elapsed "$t0")" \
        "$(( $(stat -c %s "$aot/$name.aot") / 1048576 ))" "$name" "$how"
    # The JVM leaves out classes older than class-file version 50 ("Old class has been linked"); each is then loaded
    # and verified from its jar at every start. packaging/pom.xml runs such jars through ClassFileUpgrade (picocli).
    local old
    old=$(grep -c 'Old class has been linked' "$log" || true)
    if [ "$old" -gt 0 ]; then
        echo "aot-train: warning: $name.aot leaves out $old classes older than class-file version 50, e.g." \
             "$(grep -m1 -o 'Skipping [^:]*: Old class' "$log" | cut -d' ' -f2 | tr -d :);" \
             "rewrite their jar with ClassFileUpgrade (see packaging/pom.xml)" >&2
    fi
}

declare -A representative

# compart.core and compart.cli: a test-hypervisor compartd that the qvm-* training run talks to.
socket="$work/qubesd.sock"
if [ -n "${module_of[compartd]:-}" ]; then
    t0=$(date +%s%N)
    COMPART_AOT_OUTPUT="$aot/compartd.aot" "$bin/compartd" --hypervisor test --socket "$socket" \
        --state-dir "$work/state" >"$work/compartd.log" 2>&1 </dev/null &
    daemon_pid=$!
    for _ in $(seq 300); do
        [ -S "$socket" ] && break
        kill -0 "$daemon_pid" 2>/dev/null || break
        sleep 0.1
    done
    representative[compart.core]=compartd
fi

if [ -n "${module_of[qvm-ls]:-}" ]; then
    if [ -S "$socket" ]; then
        # a little inventory so that qvm-ls formats rows of every kind (these runs use no cache)
        COMPART_SOCKET=$socket "$bin/qvm-create" --class TemplateVM --label black tpl >>"$work/setup.log" 2>&1 || true
        COMPART_SOCKET=$socket "$bin/qvm-create" --template tpl --label red work >>"$work/setup.log" 2>&1 || true
        COMPART_SOCKET=$socket train qvm-ls "$work/qvm-ls.log" --all
    else
        train qvm-ls "$work/qvm-ls.log" --help
    fi
    representative[compart.cli]=qvm-ls
fi

if [ -n "$daemon_pid" ]; then
    if [ -S "$socket" ]; then
        kill -TERM "$daemon_pid" 2>/dev/null || true
        wait "$daemon_pid" 2>/dev/null || true
        daemon_pid=""
        report compartd "$t0" "$work/compartd.log" "--hypervisor test, serving qvm-ls, then SIGTERM"
    else
        echo "aot-train: compartd --hypervisor test did not start (training its cache with --help):" >&2
        tail -5 "$work/compartd.log" >&2
        kill -KILL "$daemon_pid" 2>/dev/null || true
        wait "$daemon_pid" 2>/dev/null || true
        daemon_pid=""
        train compartd "$work/compartd-help.log" --help
    fi
fi

if [ -n "${module_of[qubes-policy-lint]:-}" ]; then
    train qubes-policy-lint "$work/lint.log" "$policy"
    representative[compart.policy]=qubes-policy-lint
fi

if [ -n "${module_of[compart-dedup]:-}" ]; then
    mkdir -p "$work/dedup"
    head -c 4194304 /dev/urandom >"$work/dedup/a"
    # a real copy (a plain cp reflinks on XFS and btrfs), so that the training run merges
    cp --reflink=never "$work/dedup/a" "$work/dedup/b"
    train compart-dedup "$work/dedup.log" --hashfile "$work/dedup.db" "$work/dedup"
    representative[compart.volumes]=compart-dedup
fi
# compart-volume-clone starts in its own cache: trained on a real clone, not on dedup's classes
if [ -n "${module_of[compart-volume-clone]:-}" ]; then
    head -c 1048576 /dev/urandom >"$work/clone-src.img"
    train compart-volume-clone "$work/clone.log" "$work/clone-src.img" "$work/clone-dst.img"
fi

# any other module: --help of its first command
for name in $(printf '%s\n' "${!module_of[@]}" | sort); do
    module=${module_of[$name]}
    if [ -z "${representative[$module]:-}" ]; then
        train "$name" "$work/$name.log" --help
        representative[$module]=$name
    fi
done

for name in "${!module_of[@]}"; do
    rep=${representative[${module_of[$name]}]}
    [ "$name" = "$rep" ] || [ -f "$aot/$name.aot" ] || ln -sfn "$rep.aot" "$aot/$name.aot"
done

echo "aot-train: $(find "$aot" -maxdepth 1 -type f -name "*.aot" | wc -l) caches for ${#module_of[@]} commands in $aot, $(elapsed "$started") ms," \
     "$(du -sm "$aot" | cut -f1) MiB"
