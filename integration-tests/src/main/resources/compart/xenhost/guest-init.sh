#!/bin/sh
# /init of the test guests' initramfs (busybox): reports what the guest sees on its console, then powers off.
# Every line the tests look for starts with "COMPART-GUEST:".
#   COMPART-GUEST: up type=PVH|HVM kernel=... uptime=...
#   COMPART-GUEST: devices block=[...] net=[...]
#   COMPART-GUEST: disk xvdX: <first 64 printable bytes>     (one line per PV disk)
#   COMPART-GUEST: poweroff
export PATH=/bin
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
/bin/busybox --install -s /bin

say() { echo "COMPART-GUEST: $*"; }
say "up type=$(cat /sys/hypervisor/guest_type 2>/dev/null || echo unknown) kernel=$(uname -r) uptime=$(cut -d' ' -f1 /proc/uptime)"

# Debian builds the PV disk and network frontends as modules; the harness put them in /lib/modules.
for module in /lib/modules/*.ko; do
    [ -e "$module" ] && insmod "$module"
done
# Frontends connect asynchronously: wait (up to 10 s) until every vbd/vif on xenbus has its device.
wanted_block=$(ls /sys/bus/xen/devices 2>/dev/null | grep -c '^vbd-')
wanted_net=$(ls /sys/bus/xen/devices 2>/dev/null | grep -c '^vif-')
tries=0
while [ $tries -lt 20 ]; do
    have_block=$(ls /sys/block | grep -c '^xvd')
    have_net=$(ls /sys/class/net | grep -c '^eth')
    [ "$have_block" -ge "$wanted_block" ] && [ "$have_net" -ge "$wanted_net" ] && break
    sleep 0.5
    tries=$((tries + 1))
done
say "devices block=[$(ls /sys/block | grep '^xvd' | tr '\n' ' ')] net=[$(ls /sys/class/net | grep -v '^lo$' | tr '\n' ' ')]"
for disk in /sys/block/xvd*; do
    [ -e "$disk" ] || continue
    name=${disk##*/}
    # printable bytes only; busybox tr has no [:print:] class that works here, so delete NULs and controls
    say "disk $name: $(head -c 64 "/dev/$name" | tr -d '\000-\037\177')"
done
say "poweroff"
sync
poweroff -f
