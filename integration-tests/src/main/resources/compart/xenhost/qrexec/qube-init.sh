#!/bin/sh
# /init of the scenario's qubes (ScenarioIT): the harness's busybox initramfs with the qrexec overlay, acting as a
# small Qubes guest. It mounts the template's root (xvda, ext4 made in dom0) at /mnt/root and the private volume
# (xvdb, formatted on first use like Qubes' setup-rw) at /rw, brings up eth0 with the IP from its vif backend (Qubes
# gives it through qubesdb; here the backend's "ip" node, which libxl writes), serves a net qube's vifs the way
# Qubes' vif-route-qubes does (route + proxy ARP + hotplug-status), and runs the test qrexec agent until the
# toolstack shuts it down (the kernel then runs /sbin/poweroff).
# Console lines start with "COMPART-GUEST:".
export PATH=/bin:/sbin
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
/bin/busybox --install -s /bin
mkdir -p /run /tmp /sbin /rw /mnt/root
say() { echo "COMPART-GUEST: $*"; }

# The kernel answers the toolstack's shutdown request by running /sbin/poweroff.
cat > /sbin/poweroff <<'EOF'
#!/bin/sh
echo "COMPART-GUEST: poweroff"
umount /rw /mnt/root 2>/dev/null
sync
/bin/busybox poweroff -f
EOF
chmod 755 /sbin/poweroff

for module in /lib/modules/*.ko /lib/modules/qrexec/*.ko; do
    [ -e "$module" ] && insmod "$module" 2>/dev/null
done
for name in crc16 mbcache jbd2 crc32c_generic ext4 xen-netback; do
    insmod "/lib/modules/qube/$name.ko" 2>/dev/null || say "insmod $name failed"
done
for tool in qrexec-client-vm xenstore-read xenstore-write xenstore-rm; do
    ln -s /bin/qrexec-agent "/bin/$tool"
done
name=$(xenstore-read name)
say "up type=$(cat /sys/hypervisor/guest_type 2>/dev/null) name=$name"

tries=0
while [ $tries -lt 20 ]; do
    [ "$(ls /sys/bus/xen/devices | grep -c '^vbd-')" -le "$(ls /sys/block | grep -c '^xvd')" ] \
        && [ "$(ls /sys/bus/xen/devices | grep -c '^vif-')" -le "$(ls /sys/class/net | grep -c '^eth')" ] && break
    sleep 0.5
    tries=$((tries + 1))
done
[ -b /dev/xvda ] && { mount -t ext4 /dev/xvda /mnt/root || say "root: cannot mount xvda"; }
if [ -b /dev/xvdb ] && ! mount -t ext4 /dev/xvdb /rw 2>/dev/null; then
    say "private: formatting xvdb"
    mke2fs -q /dev/xvdb && mount -t ext4 /dev/xvdb /rw || say "private: cannot format xvdb"
fi

# A networked qube: its address from the backend of vif 0, default route on eth0 (the net qube answers ARP).
if [ -e /sys/class/net/eth0 ]; then
    backend=$(xenstore-read device/vif/0/backend)
    ip=$(xenstore-read "$backend/ip")
    ip link set eth0 up
    ip addr add "$ip/32" dev eth0
    ip route add default dev eth0
    say "eth0 ip=$ip backend=$backend"
fi

# A net qube: each client's vif gets the route to the client's address, proxy ARP and the gateway address (from
# /run/qubes-netvm-gateway, which qubesdb's /qubes-netvm-gateway would give), then hotplug-status connected; when
# dom0 removes the NIC, its backend directory.
serve_vifs() {
    while true; do
        for dev in /sys/class/net/vif*; do
            [ -e "$dev" ] || continue
            vif=${dev##*/}
            [ -e "/run/$vif.up" ] && continue
            ids=${vif#vif}
            path="backend/vif/${ids%.*}/${ids#*.}"
            client=$(xenstore-read "$path/ip") || continue
            ip link set "$vif" up
            [ -s /run/qubes-netvm-gateway ] && ip addr add "$(cat /run/qubes-netvm-gateway)/32" dev "$vif"
            ip route add "$client/32" dev "$vif"
            echo 1 > "/proc/sys/net/ipv4/conf/$vif/proxy_arp"
            xenstore-write "$path/hotplug-status" connected
            echo "$path" > "/run/$vif.up"
            say "vif $vif up for $client"
        done
        # a client's NIC removed by dom0 (online 0, closed): its backend directory goes, as xl devd removes it in a
        # driver domain; dom0's libxl waits for that (10 s, then "timed out while waiting ... to be removed"). Only
        # 2 s after the backend closed: libxl first waits to see it closed, and fails if the directory is gone by then.
        for up in /run/vif*.up; do
            [ -e "$up" ] || continue
            path=$(head -n 1 "$up")
            if [ "$(xenstore-read "$path/online" 2>/dev/null)" = 0 ] \
                    && [ "$(xenstore-read "$path/state" 2>/dev/null)" = 6 ]; then
                echo closed >> "$up"
                if [ "$(grep -c closed "$up")" -ge 4 ]; then
                    xenstore-rm "$path" && rm -f "$up" && say "vif backend $path removed"
                fi
            elif ! xenstore-read "$path/state" >/dev/null 2>&1; then
                rm -f "$up"
            fi
        done
        sleep 0.5
    done
}
serve_vifs &

while true; do
    /bin/qrexec-agent
    say "qrexec-agent exited $?"
    sleep 1
done
