#!/usr/bin/env bash
# Which of Qubes' own qvm-* tools work unchanged against compartd: runs qubesadmin's tools (python3 -m
# qubesadmin.tools.NAME from QUBESADMIN_SRC, a checkout of QubesOS/qubes-core-admin-client) through a small story on
# compartd --hypervisor test and checks each exit code and output as Qubes documents them. Prints one line per step
# and a summary per tool; exits 1 when a step fails, 2 without QUBESADMIN_SRC.
#
# Usage: QUBESADMIN_SRC=/path/to/qubes-core-admin-client qvm-cli/bench/qubesadmin-compat.sh [-v]
#   -v  print each failing step's output
# Needs: ./mvnw -q -DskipTests package, python3 (3.10+), root or user namespaces (see qubesadmin-env.sh).
set -euo pipefail
. "$(dirname "$0")/qubesadmin-env.sh"
qubesadmin_env "$0" "$@"
verbose=${1:-}

declare -A tool_ok=() tool_fail=()
failed=0
# step RC REGEX TOOL ARGS...: runs the tool; passes when its exit code is RC and (REGEX empty or) one line of its
# stdout+stderr matches the extended regular expression REGEX.
step() {
    local rc=$1 re=$2 tool=$3; shift 3
    local out got
    set +e
    out=$("$py" -m "qubesadmin.tools.$tool" "$@" </dev/null 2>&1)
    got=$?
    set -e
    local name=${tool//_/-}
    if [ "$got" = "$rc" ] && { [ -z "$re" ] || grep -Eq -- "$re" <<<"$out"; }; then
        printf 'ok    %s %s\n' "$name" "$*"
        tool_ok[$name]=$(( ${tool_ok[$name]:-0} + 1 ))
    else
        printf 'FAIL  %s %s  (exit %s, expected %s%s)\n' "$name" "$*" "$got" "$rc" "${re:+ and output /$re/}"
        [ "$verbose" = -v ] && sed 's/^/      | /' <<<"$out" | head -20
        tool_fail[$name]=$(( ${tool_fail[$name]:-0} + 1 ))
        failed=1
    fi
}

step 0 '' qvm_create --class TemplateVM --label black fedora
step 0 '' qubes_prefs default_template fedora
step 0 '^fedora$' qubes_prefs default_template
step 0 '^default_template +- +fedora$' qubes_prefs
step 0 '' qvm_create --label red work
step 0 '' qvm_create --class StandaloneVM --label green --property provides_network=True sys-net
step 0 '' qvm_create --label blue --property netvm=sys-net browser
step 2 "no such label: 'nosuchlabel'" qvm_create --label nosuchlabel other
step 0 '^work$' qvm_ls --raw-list
step 0 '^browser\|Halted\|AppVM\|blue\|fedora\|sys-net$' qvm_ls --raw-data --fields NAME,STATE,CLASS,LABEL,TEMPLATE,NETVM
step 0 '^└─browser +Halted +AppVM +blue +fedora +sys-net$' qvm_ls --no-spinner --tree
step 0 '^work +Halted +[0-9]+ +[0-9]+ +2048 +[0-9]+% +[0-9]+ +10240 ' qvm_ls --no-spinner --format disk
step 0 '^label +- +red$' qvm_prefs work
step 0 '' qvm_prefs work memory 600
step 0 '^600$' qvm_prefs work memory
step 0 '' qvm_prefs --default work memory
step 0 '^400$' qvm_prefs work memory
step 1 'failed to parse|[Ii]nvalid' qvm_prefs work memory lots
step 2 "no such property: 'nosuch'" qvm_prefs work nosuch
step 2 "no such domain: 'nosuchvm'" qvm_prefs nosuchvm
step 0 '' qvm_features work foo bar
step 0 '^bar$' qvm_features work foo
step 0 '^foo +bar$' qvm_features work
step 0 '' qvm_features --unset work foo
step 1 '' qvm_features work foo
step 0 '' qvm_tags work add t1 t2
step 0 '^t2$' qvm_tags work list
step 0 '' qvm_tags work del t1
step 1 '' qvm_tags work list t1
step 0 '^varlibqubes:appvms/work/private +work +private +No$' qvm_volume list
step 0 '^size +10737418240$' qvm_volume info work:root
step 0 '' qvm_volume resize work:private 3GiB
step 0 '^3221225472$' qvm_volume info work:private size
step 0 '' qvm_volume config work:private revisions_to_keep 2
step 0 '^2$' qvm_volume info work:private revisions_to_keep
step 0 '^varlibqubes +file-reflink$' qvm_pool
step 0 '^driver +file-reflink$' qvm_pool info varlibqubes
step 0 '' qvm_service work cups on
step 0 '^cups +on$' qvm_service work
step 0 '' qvm_firewall work add accept dsthost=1.2.3.4 proto=tcp dstports=443
step 0 '1\.2\.3\.4/32 +tcp +443' qvm_firewall work list
step 0 '' qvm_firewall work reset
step 0 '' qvm_start work
step 0 'work: running' qvm_check --running work
step 0 '' qvm_pause work
step 0 'work: paused' qvm_check --paused work
step 0 '' qvm_unpause work
step 0 '^work$' qvm_ls --raw-list --running
step 0 '' qvm_shutdown --wait work
step 1 '' qvm_check --running work
step 0 '' qvm_start browser
step 0 'sys-net: running' qvm_check --running sys-net
step 0 '' qvm_kill browser sys-net
step 0 '' qvm_clone --ignore-errors work work2
step 0 '^red$' qvm_prefs work2 label
step 0 '' qvm_remove --force work2
step 1 'non-existent' qvm_check work2
step 0 '' qvm_start --all
step 0 '' qvm_shutdown --all --wait
step 0 '' qvm_device block list

echo
for name in $(printf '%s\n' "${!tool_ok[@]}" "${!tool_fail[@]}" | sort -u); do
    printf '%-13s %2d ok, %d failed\n' "$name" "${tool_ok[$name]:-0}" "${tool_fail[$name]:-0}"
done
echo "qubesadmin: $QUBESADMIN_SRC ($(git -C "$QUBESADMIN_SRC" log -1 --format=%h 2>/dev/null || echo "no git"),"\
" version $(cat "$QUBESADMIN_SRC/version" 2>/dev/null || echo '?')), $("$py" -V)"
exit "$failed"
