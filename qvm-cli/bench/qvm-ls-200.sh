#!/usr/bin/env bash
# Benchmark: `qvm-ls` of 200 qubes, whole process (JVM start included), best of 10 and mean, against a compartd on
# the simulated test hypervisor. Prints Qubes' own client too when qubesadmin's qvm-ls is installed (it is not on a
# machine without Qubes; then only our figure is printed).
# Needs: ./mvnw -q -DskipTests package (packaging/target/modules), python3 (only to create the 200 qubes quickly).
# Usage: qvm-cli/bench/qvm-ls-200.sh [RUNS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-10}
work=$(mktemp -d)
sock=$work/qubesd.sock
"$root/bin/compartd" --hypervisor test --socket "$sock" --state-dir "$work/state" >"$work/compartd.log" 2>&1 &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
python3 - "$sock" <<'PY'
import socket, sys
def call(method, arg, dest, payload=b""):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(sys.argv[1])
    s.sendall(f"{method}+{arg} dom0 name {dest}\0".encode() + payload); s.shutdown(socket.SHUT_WR)
    data = b"".join(iter(lambda: s.recv(65536), b"")); s.close()
    if not data.startswith(b"0\0"): raise SystemExit(f"{method} {arg}: {data!r}")
call("admin.vm.Create.TemplateVM", "", "dom0", b"name=fedora label=black")
for i in range(199):
    call("admin.vm.Create.AppVM", "fedora", "dom0", f"name=qube-{i:03d} label=blue".encode())
PY
export COMPART_SOCKET=$sock
count=$("$root/bin/qvm-ls" --raw-list | wc -l)
measure() {
    local best=999999 sum=0
    for _ in $(seq "$runs"); do
        local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(( ($(date +%s%N) - s) / 1000000 ))
        sum=$((sum + e)); [ "$e" -lt "$best" ] && best=$e
    done
    echo "best ${best} ms, mean $((sum / runs)) ms"
}
echo "qubes listed: $count (dom0 + 200); $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "compart  bin/qvm-ls: $(measure "$root/bin/qvm-ls")"
if command -v qvm-ls >/dev/null && python3 -c 'import qubesadmin' 2>/dev/null; then
    echo "qubes    qvm-ls:     $(measure qvm-ls)"
else
    echo "qubes    qvm-ls:     not installed here (qubesadmin missing): no comparison"
fi
