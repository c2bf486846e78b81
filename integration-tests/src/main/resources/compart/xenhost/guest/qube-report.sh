#!/bin/bash
# Reports a qube's state on its console for the tests in dom0 (lines "COMPART-QUBE: ..."): once when systemd
# has finished starting (the state of Qubes' units, eth0 and its routes, /rw), then, every 2 s, QubesDB as the
# upstream qubesdb-multiread sees it whenever it changed, and the pid of the upstream qubesdb-daemon.
# Reads nothing but what upstream tools and the kernel show; sets nothing up. One request from dom0, through the
# qube's own xenstore directory (data/compart-probe, written by dom0): "restart-qubesdb" restarts
# qubes-db.service, so that a test can watch the daemon resync.
say() { echo "COMPART-QUBE: $*"; }
uptime() { cut -d' ' -f1 /proc/uptime; }

state=$(timeout 180 systemctl is-system-running --wait)
say "up systemd=$state uptime=$(uptime)"
for unit in qubes-db qubes-sysinit qubes-early-vm-config qubes-mount-dirs qubes-network-uplink \
            qubes-network-uplink@eth0 qubes-qrexec-agent qubes-meminfo-writer xendriverdomain qubes-antispoof \
            qubes-iptables qubes-network; do
    say "unit $unit $(systemctl is-active "$unit.service")"
done
say "failed units: $(systemctl list-units --failed --plain --no-legend | awk '{print $1}' | tr '\n' ' ')"
for entry in /name /qubes-vm-type /qubes-ip /qubes-gateway; do
    say "qubesdb-read $entry = $(timeout 10 qubesdb-read "$entry" 2>&1)"
done
say "eth0 $(ip -4 -o addr show dev eth0 2>/dev/null | awk '{print $4}') $(ip -o link show dev eth0 2>/dev/null | grep -o 'state [A-Z]*')"
ip -4 route 2>/dev/null | while read -r route; do say "route $route"; done
gateway=$(timeout 10 qubesdb-read /qubes-gateway 2>/dev/null)
if [ -n "$gateway" ]; then
    if ping -c 1 -W 10 "$gateway" > /dev/null 2>&1; then say "ping gateway $gateway ok"; else say "ping gateway $gateway failed"; fi
fi
say "rw $(findmnt -n -o SOURCE,FSTYPE /rw 2>/dev/null)"
say "modules $(lsmod | awk 'NR > 1 {print $1}' | grep -E '^xen_' | sort | tr '\n' ' ')"
say "boot: $(systemd-analyze time 2>/dev/null | head -n 1)"
systemd-analyze blame 2>/dev/null | head -n 12 | while read -r line; do say "blame $line"; done
say "journal of the Qubes units:"
dmesg | grep -iE 'privcmd|xen:|evtchn' | tail -n 5 | while read -r line; do say "  dmesg $line"; done
journalctl -b -o cat --no-pager -u qubes-db -u qubes-sysinit -u qubes-network-uplink@eth0 -u qubes-mount-dirs \
    -u qubes-iptables -u qubes-antispoof -u qubes-network -u xendriverdomain 2>/dev/null | tail -n 40 | while read -r line; do say "  | $line"; done

last=""
last_pid=""
last_vifs=""
while true; do
    # a net qube's side of its clients' NICs (set up by upstream vif-route-qubes, run by xl devd)
    vifs=$(ip -o -4 addr show 2>/dev/null | awk '$2 ~ /^vif/ {print $2, $4}' | tr '\n' ' ')
    vifs="$vifs$(ip -o link show 2>/dev/null | awk -F': ' '$2 ~ /^vif/ {print $2}' | tr '\n' ' ')"
    if [ "$vifs" != "$last_vifs" ]; then
        say "vifs $vifs ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)"
        last_vifs=$vifs
    fi
    pid=$(systemctl show -p MainPID --value qubes-db.service)
    if [ "$pid" != "$last_pid" ]; then
        say "qubesdb-daemon pid=$pid uptime=$(uptime)"
        last_pid=$pid
    fi
    dump=$(timeout 10 qubesdb-multiread / 2>&1)
    if [ "$dump" != "$last" ]; then
        say "qdb-begin uptime=$(uptime)"
        printf '%s\n' "$dump" | while IFS= read -r line; do say "qdb $line"; done
        say "qdb-end"
        last=$dump
    fi
    request=$(xenstore-read data/compart-probe 2>/dev/null)
    if [ "$request" = restart-qubesdb ]; then
        xenstore-write data/compart-probe done
        say "restarting qubes-db.service"
        systemctl restart qubes-db.service
        say "qubes-db.service restarted: $(systemctl is-active qubes-db.service)"
    fi
    sleep 2
done
