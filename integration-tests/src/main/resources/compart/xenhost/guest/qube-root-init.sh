#!/bin/sh
# /init of the Debian guest template's initramfs (busybox), our side of what Qubes' own initramfs does for a
# Linux qube: the root filesystem is the first disk (xvda: the template's root, or the qube's snapshot of it),
# the kernel modules come from the modules disk (xvdd, an ext4 holding <kernel version>/, as Qubes'
# modules.img) and are bound onto /lib/modules/<version>, then systemd of the root starts as PID 1.
# Private (xvdb, /rw) and the rest are the root's business: upstream's qubes-mount-dirs.service mounts /rw.
# Console lines start with "COMPART-QUBE-INIT:".
export PATH=/bin
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
/bin/busybox --install -s /bin
say() { echo "COMPART-QUBE-INIT: $*" > /dev/console; }
fail() {
    say "FATAL $*"
    sleep 5
    echo o > /proc/sysrq-trigger
}
kver=$(uname -r)
say "kernel $kver type=$(cat /sys/hypervisor/guest_type 2>/dev/null) uptime=$(cut -d' ' -f1 /proc/uptime)"

for module in xen-blkfront crc16 crc32c_generic mbcache jbd2 ext4; do
    insmod "/lib/modules/$module.ko" 2>/dev/null || say "insmod $module failed"
done
# The block frontend connects asynchronously: wait (up to 60 s) until every vbd on xenbus has its disk.
tries=0
until [ "$(ls /sys/bus/xen/devices | grep -c '^vbd-')" -le "$(ls /sys/block | grep -c '^xvd')" ] \
        && [ -b /dev/xvda ]; do
    tries=$((tries + 1))
    [ $tries -gt 600 ] && fail "no root disk xvda after 60 s"
    sleep 0.1
done

mkdir -p /sysroot
mount -t ext4 -o rw,noatime /dev/xvda /sysroot || fail "cannot mount the root filesystem (xvda)"
if [ -b /dev/xvdd ]; then
    mkdir -p /modules
    if mount -t ext4 -o ro /dev/xvdd /modules && [ -d "/modules/$kver" ]; then
        mkdir -p "/sysroot/lib/modules/$kver"
        mount --bind "/modules/$kver" "/sysroot/lib/modules/$kver"
        say "modules $kver from xvdd"
    else
        say "xvdd holds no modules for $kver"
    fi
    umount /modules 2>/dev/null
fi
say "root xvda mounted, starting /sbin/init -> $(readlink /sysroot/sbin/init) (uptime $(cut -d' ' -f1 /proc/uptime))"
umount /proc /sys
mount --move /dev /sysroot/dev
exec switch_root /sysroot /sbin/init
