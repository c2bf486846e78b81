# Shared by the cycle scripts: each check prints one line, "ok: WHAT" or "FAILED: WHAT", and the test reads them.
expect() {  # expect WHAT COMMAND...: the command succeeds
    local what=$1; shift
    if "$@" >/dev/null 2>&1; then echo "ok: $what"; else echo "FAILED: $what"; fi
}
expect_not() {  # expect_not WHAT COMMAND...: the command fails
    local what=$1; shift
    if "$@" >/dev/null 2>&1; then echo "FAILED: $what"; else echo "ok: $what"; fi
}
step() { echo "== $*"; }

user_changes() {  # what an administrator and the daemon leave on the host
    echo 'COMPART_JAVA_OPTS=-Xmx300m' >>/etc/compart/compart.conf
    printf 'qubes.Filecopy  *  work  vault  deny\n' >/etc/qubes/policy.d/30-user.policy
    mkdir -p /var/lib/compart/qubes
    echo '{"name":"precious"}' >/var/lib/compart/qubes/precious.json
}

user_data_kept() {
    expect "the user's policy file is kept" grep -q 'work  vault  deny' /etc/qubes/policy.d/30-user.policy
    expect "the qubes' data is kept" grep -q precious /var/lib/compart/qubes/precious.json
    expect "the daemon's state is kept" test -e /var/lib/compart/qubes/tpl.json
}

installed_commands_work() {
    expect "group qubes exists" getent group qubes
    expect "/var/lib/compart is 0770 root:qubes" sh -c '[ "$(stat -c %a:%U:%G /var/lib/compart)" = 770:root:qubes ]'
    expect "/run/qubes exists" test -d /run/qubes
    expect "qvm-ls --help runs from /usr/bin" sh -c 'qvm-ls --help | grep -q "usage: qvm-ls"'
    expect "qvm-ls takes its AOT cache" sh -c \
        'COMPART_JAVA_OPTS=-Xlog:class+load qvm-ls --help | grep -q "compart.cli.Main source: shared objects file"'
    expect "man qvm-ls finds the page" sh -c 'MANWIDTH=80 man qvm-ls 2>/dev/null | grep -q "Compart Manual"'
    expect "the default policy passes qubes-policy-lint" qubes-policy-lint /etc/qubes/policy.d
    # the installed daemon (simulated hypervisor) and commands against it, keeping state in /var/lib/compart
    compartd --hypervisor test --socket /run/qubesd.sock --state-dir /var/lib/compart >/tmp/compartd.log 2>&1 &
    local pid=$!
    for _ in $(seq 300); do [ -S /run/qubesd.sock ] && break; sleep 0.1; done
    expect "compartd (installed) serves /run/qubesd.sock" test -S /run/qubesd.sock
    expect "qvm-create against it" env COMPART_SOCKET=/run/qubesd.sock qvm-create --class TemplateVM --label black tpl
    expect "qvm-ls lists the new qube" sh -c 'COMPART_SOCKET=/run/qubesd.sock qvm-ls --raw-list | grep -qx tpl'
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    expect "the daemon kept the qube in /var/lib/compart" test -e /var/lib/compart/qubes/tpl.json
    # the policy daemon as its service starts it (options from /etc/compart/compart.conf)
    (set -a; . /etc/compart/compart.conf; set +a; exec qrexec-policy-daemon $POLICY_DAEMON_OPTS) >/tmp/policy.log 2>&1 &
    pid=$!
    # it prints its rule count once it serves (after binding and chmod): wait for that line, not the socket file
    for _ in $(seq 300); do grep -q 'serving' /tmp/policy.log 2>/dev/null && break; sleep 0.1; done
    expect "qrexec-policy-daemon (installed) serves /run/qubes/policy.sock, mode 0660" \
        sh -c '[ "$(stat -c %a /run/qubes/policy.sock)" = 660 ]'
    expect "it read the default policy" grep -q 'rules' /tmp/policy.log
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
