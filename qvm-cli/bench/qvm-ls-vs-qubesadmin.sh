#!/usr/bin/env bash
# Benchmark (issue 9): `qvm-ls` of 200 qubes, whole process, ours (bin/qvm-ls) against Qubes' own Python client
# (qubesadmin's qvm-ls, unchanged), both talking to one compartd on the simulated test hypervisor.
#
# Usage: QUBESADMIN_SRC=/path/to/qubes-core-admin-client qvm-cli/bench/qvm-ls-vs-qubesadmin.sh [RUNS] [QUBES]
#   RUNS   runs of each client, alternating ours/Qubes' (default 10); QUBES qubes besides dom0 (default 200:
#          1 TemplateVM + 199 AppVMs, 40 of them running and 10 of those paused, so states differ).
# Prints best and median wall time of each, whether both list the same names and states, cores and load.
#
# Needs: ./mvnw -q -DskipTests package (bin/ launchers), python3 (3.10+; the qvm-ls tool needs only its standard
# library), root or unprivileged user namespaces: see qubesadmin-env.sh (a private mount namespace in which
# compartd is /var/run/qubesd.sock). No code of the client is kept in this repository: bring its source.
set -euo pipefail
. "$(dirname "$0")/qubesadmin-env.sh"
qubesadmin_env "$0" "$@"
src=$QUBESADMIN_SRC
runs=${1:-10}
qubes=${2:-200}
sock=/var/run/qubesd.sock

"$py" - "$sock" "$qubes" <<'PY'
import socket, sys
path, count = sys.argv[1], int(sys.argv[2])
def call(method, arg, dest, payload=b""):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(f"{method}+{arg} dom0 name {dest}\0".encode() + payload)
    s.shutdown(socket.SHUT_WR)
    data = b"".join(iter(lambda: s.recv(65536), b""))
    s.close()
    if not data.startswith(b"0\0"):
        raise SystemExit(f"{method}+{arg} {dest}: {data[:200]!r}")
call("admin.vm.Create.TemplateVM", "", "dom0", b"name=fedora label=black")
labels = ["red", "orange", "yellow", "green", "gray", "blue", "purple", "black"]
for i in range(count - 1):
    call("admin.vm.Create.AppVM", "fedora", "dom0", f"name=qube-{i:03d} label={labels[i % 8]}".encode())
for i in range(0, min(count - 1, 40)):
    call("admin.vm.Start", "", f"qube-{i:03d}")
for i in range(0, min(count - 1, 10)):
    call("admin.vm.Pause", "", f"qube-{i:03d}")
PY

ours=("$root/bin/qvm-ls")
theirs=("$py" -m qubesadmin.tools.qvm_ls)

# Same qubes and states from both (raw data, sorted), and the default table byte for byte.
"${ours[@]}" --raw-data --fields NAME,STATE | sort >"$work/ours.raw"
"${theirs[@]}" --raw-data --fields NAME,STATE 2>/dev/null | sort >"$work/theirs.raw"
"${ours[@]}" >"$work/ours.table"
"${theirs[@]}" >"$work/theirs.table" 2>/dev/null
listed=$(wc -l <"$work/ours.raw")
states=$(cut -d'|' -f2 "$work/ours.raw" | sort | uniq -c | awk '{printf "%s%s %s", sep, $1, $2; sep=", "}')
if cmp -s "$work/ours.raw" "$work/theirs.raw"; then same="yes"; else same="NO"; fi
if cmp -s "$work/ours.table" "$work/theirs.table"; then table="identical"; else table="DIFFERENT"; fi

# Warm both once (page cache, Python bytecode), then alternate.
"${ours[@]}" >/dev/null 2>&1
"${theirs[@]}" >/dev/null 2>&1
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
declare -a t_ours=() t_theirs=()
elapsed_ms() {
    local s e
    s=$(date +%s%N)
    "$@" >/dev/null 2>&1
    e=$(date +%s%N)
    echo $(( (e - s) / 1000000 ))
}
for _ in $(seq "$runs"); do
    t_ours+=("$(elapsed_ms "${ours[@]}")")
    t_theirs+=("$(elapsed_ms "${theirs[@]}")")
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

stats() {
    printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {
        m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2;
        printf "best %4d ms  median %6.1f ms  (runs:", a[1], m; for (i = 1; i <= NR; i++) printf " %d", a[i]; print ")" }'
}
echo "qvm-ls of $listed qubes ($states) from one compartd --hypervisor test; $runs runs each, alternating"
echo "compart   bin/qvm-ls                        $(stats "${t_ours[@]}")"
echo "qubes     python3 -m qubesadmin.tools.qvm_ls $(stats "${t_theirs[@]}")"
echo "same names and states from both: $same; default table: $table"
echo "qubesadmin: $src ($(git -C "$src" log -1 --format=%h 2>/dev/null || echo "no git"), version $(cat "$src/version" 2>/dev/null || echo '?')), $("$py" -V)"
echo "$(nproc) cores, load before $load_before, after $load_after"
if [ "$same" != yes ] || [ "$table" != identical ]; then
    diff "$work/ours.raw" "$work/theirs.raw" | head -20 || true
    diff "$work/ours.table" "$work/theirs.table" | head -20 || true
    exit 1
fi
