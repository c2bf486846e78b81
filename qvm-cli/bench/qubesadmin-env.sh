# Sourced by the scripts here that run Qubes' own admin client (qubesadmin, unchanged, from its source tree) against
# compartd. Qubes' client connects to /var/run/qubesd.sock only, and uses that socket only when /etc/qubes-release
# exists; so the caller is re-run in a private mount namespace (root, or an unprivileged user namespace) with a tmpfs
# on /var/run, where compartd listens on /var/run/qubesd.sock, and an overlay on /etc holding qubes-release. Nothing
# outside the namespace changes. No code of the client is kept in this repository: QUBESADMIN_SRC names a checkout.
#
# Usage, first thing in a script:  . "$(dirname "$0")/qubesadmin-env.sh"; qubesadmin_env "$0" "$@"
# Afterwards: $root (this repository), $work (a temporary directory, removed at exit), $py (the real python3),
# PYTHONPATH set for the client, compartd on --hypervisor test serving /var/run/qubesd.sock, COMPART_SOCKET unset;
# qubesadmin_call METHOD ARG DEST [PAYLOAD] makes one Admin API call (exits on a failure reply).

qubesadmin_env() {
    local self=$1; shift
    root=$(cd "$(dirname "$self")/../.." && pwd)
    local src=${QUBESADMIN_SRC:-}
    if [ -z "$src" ] || [ ! -f "$src/qubesadmin/tools/qvm_ls.py" ]; then
        cat >&2 <<EOM
${self##*/}: QUBESADMIN_SRC must name a checkout of Qubes' admin client (qubesadmin), e.g.
    git clone https://github.com/QubesOS/qubes-core-admin-client /tmp/qubes-core-admin-client
    QUBESADMIN_SRC=/tmp/qubes-core-admin-client $self
(its tools run from the source tree as python3 -m qubesadmin.tools.NAME; nothing is built or installed)
EOM
        exit 2
    fi
    QUBESADMIN_SRC=$(cd "$src" && pwd)
    if [ -z "${COMPART_QUBESADMIN_NAMESPACE:-}" ]; then
        local userns=""
        [ "$(id -u)" = 0 ] || userns="--map-root-user"
        exec unshare --mount --propagation private $userns env COMPART_QUBESADMIN_NAMESPACE=1 \
            QUBESADMIN_SRC="$QUBESADMIN_SRC" "$self" "$@"
    fi

    # The real interpreter, not a version-manager shim (a pyenv shim is a shell script costing tens of ms a run).
    py=$("${PYTHON:-python3}" -c 'import sys; print(sys.executable)')
    work=$(mktemp -d /tmp/qubesadmin-env.XXXXXX)
    compartd_pid=""
    trap qubesadmin_env_cleanup EXIT

    mount -t tmpfs -o mode=0755 compart-qubesadmin "$(readlink -f /var/run)"
    mkdir -p "$work/etc-upper" "$work/etc-work"
    mount -t overlay compart-qubesadmin -o "lowerdir=/etc,upperdir=$work/etc-upper,workdir=$work/etc-work" /etc
    echo "Qubes release 4.2 (R4.2) [simulated for compart's qubesadmin scripts]" >/etc/qubes-release

    # The client's argparse reads its package metadata (name, version): a stub when it is not installed.
    local meta="$work/meta"
    if ! PYTHONPATH="$QUBESADMIN_SRC" "$py" -c 'import importlib.metadata as m; m.metadata("qubesadmin")' \
            2>/dev/null; then
        mkdir -p "$meta/qubesadmin-0.dist-info"
        printf 'Metadata-Version: 2.1\nName: qubesadmin\nVersion: %s\nSummary: Qubes Admin API package\n' \
            "$(cat "$QUBESADMIN_SRC/version" 2>/dev/null || echo 0)" >"$meta/qubesadmin-0.dist-info/METADATA"
        printf 'Author-email: Invisible Things Lab\nLicense: LGPL-2.1\n' >>"$meta/qubesadmin-0.dist-info/METADATA"
    fi
    export PYTHONPATH="$QUBESADMIN_SRC:$meta"
    unset COMPART_SOCKET

    local sock=/var/run/qubesd.sock
    "$root/bin/compartd" --hypervisor test --socket "$sock" --state-dir "$work/state" >"$work/compartd.log" 2>&1 &
    compartd_pid=$!
    for _ in $(seq 150); do [ -S "$sock" ] && break; sleep 0.1; done
    if [ ! -S "$sock" ]; then
        echo "compartd did not start:" >&2
        cat "$work/compartd.log" >&2
        exit 1
    fi
}

qubesadmin_env_cleanup() {
    if [ -n "$compartd_pid" ]; then
        kill "$compartd_pid" 2>/dev/null || true
        wait "$compartd_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}

# qubesadmin_call METHOD ARG DEST [PAYLOAD]: one Admin API call from dom0, as the client frames it.
qubesadmin_call() {
    "$py" - "$@" <<'PY'
import socket, sys
method, arg, dest = sys.argv[1:4]
payload = sys.argv[4].encode() if len(sys.argv) > 4 else b""
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect("/var/run/qubesd.sock")
s.sendall(f"{method}+{arg} dom0 name {dest}\0".encode() + payload)
s.shutdown(socket.SHUT_WR)
data = b"".join(iter(lambda: s.recv(65536), b""))
if not data.startswith(b"0\0"):
    raise SystemExit(f"{method}+{arg} {dest}: {data[:200]!r}")
PY
}
