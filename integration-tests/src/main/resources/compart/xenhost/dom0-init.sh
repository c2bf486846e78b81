#!/bin/sh
# The test dom0's job, installed by compart.xenhost.ImageBuilder as /sbin/compart-dom0-init: run by systemd
# (compart-xenhost.service; systemd is PID 1 so that Compart's package can start its services), or as PID 1 itself
# (kernel argument init=/sbin/compart-dom0-init), when it first mounts what systemd would.
#
# Brings up what a Xen toolstack needs -- xenfs, xenstored, xenconsoled logging every guest console to
# /var/log/xen/console/guest-<name>.log, the dom0 device model (qdisk backend), bridge xenbr0 -- then runs
# run.sh from the host's 9p share (mount tag "compart", mounted at /mnt/host), copies the Xen logs into the
# share, reports run.sh's exit code and powers the machine off, which makes QEMU exit.
#
# Console protocol read by compart.xenhost.QemuBoot: lines containing "COMPART-XENHOST: ", in particular
#   COMPART-XENHOST: DOM0-READY ...        the toolstack is up
#   COMPART-XENHOST: RESULT rc=N ...       run.sh ended with N (90+ = dom0 set-up failed, see below)
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH HOME=/root LANG=C.UTF-8
XEN_BIN=/usr/lib/xen-4.17/bin
SHARE=/mnt/host

say() { echo "COMPART-XENHOST: $* (uptime $(cut -d' ' -f1 /proc/uptime)s)"; }

power_off() {
    say "RESULT rc=$1"
    sync
    umount "$SHARE" 2>/dev/null
    mount -o remount,ro / 2>/dev/null
    # minbase has no poweroff(8); a dom0 power-off makes Xen turn the machine off, and QEMU exits.
    echo 1 > /proc/sys/kernel/sysrq
    echo o > /proc/sysrq-trigger
    sleep 60   # not reached; if it were, PID 1 exiting panics dom0 and QEMU (-no-reboot) exits anyway
}

if [ $$ -eq 1 ]; then
    mount -t proc proc /proc
    mount -t sysfs sysfs /sys
    mount -t devtmpfs devtmpfs /dev 2>/dev/null
    mkdir -p /dev/pts /dev/shm
    mount -t devpts devpts /dev/pts
    mount -t tmpfs tmpfs /dev/shm
    mount -o remount,rw /
    mount -t tmpfs tmpfs /run
    mount -t tmpfs tmpfs /tmp
fi
mkdir -p /run/lock /run/xen /run/xenstored /var/log/xen/console /var/lib/xen
hostname dom0
ip link set lo up
say "dom0 init: kernel $(uname -r), PID 1 is $(cat /proc/1/comm)"

# virtio-rng first: the JVM's first SecureRandom must not wait for entropy.
modprobe virtio_rng 2>/dev/null
for module in xenfs xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xen-blkback xen-netback loop bridge \
              9pnet_virtio 9p; do
    modprobe "$module" || say "WARN modprobe $module failed"
done
mount -t xenfs xenfs /proc/xen
if ! grep -q control_d /proc/xen/capabilities 2>/dev/null; then
    say "FATAL this kernel is not Xen's dom0 (/proc/xen/capabilities: $(cat /proc/xen/capabilities 2>&1))"
    power_off 90
fi

mkdir -p "$SHARE"
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 compart "$SHARE"; then
    say "FATAL cannot mount the host's 9p share (tag compart)"
    power_off 91
fi
mkdir -p "$SHARE/out"

# The toolstack daemons, as Debian's /etc/init.d/xen starts them.
XENSTORED_ROOTDIR=/run/xenstored "$XEN_BIN/xenstored" --pid-file /run/xenstored.pid
tries=0
until xenstore-read -s / >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ $tries -gt 300 ]; then say "FATAL xenstored did not answer within 30 s"; power_off 92; fi
    sleep 0.1
done
"$XEN_BIN/xen-init-dom0" > /dev/null || { say "FATAL xen-init-dom0 failed"; power_off 93; }
"$XEN_BIN/xenconsoled" --pid-file /run/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console \
    || { say "FATAL xenconsoled did not start"; power_off 94; }
# dom0's own device model provides qdisk backends (and is what libxl expects to find running).
/usr/libexec/xen-qemu-system-i386 -xen-domid 0 -xen-attach -name dom0 -nographic -M xenpv -daemonize \
    -monitor none -serial none -parallel none -pidfile /run/qemu-dom0.pid > /var/log/xen/qemu-dom0.log 2>&1 \
    || say "WARN the dom0 device model did not start (see /var/log/xen/qemu-dom0.log)"
# Host-only bridge for guest vifs (vif = [ "bridge=xenbr0" ]).
ip link add name xenbr0 type bridge stp_state 0 forward_delay 0 && ip link set xenbr0 up
say "DOM0-READY"

if [ ! -f "$SHARE/run.sh" ]; then
    say "FATAL the share has no run.sh"
    power_off 95
fi
cd "$SHARE"
{ sh "$SHARE/run.sh"; echo $? > /tmp/run.rc; } 2>&1 | tee "$SHARE/out/dom0-run.log"
rc=$(cat /tmp/run.rc 2>/dev/null || echo 96)
cd /
say "run.sh finished rc=$rc"

# Leave nothing running, and hand the logs to the host: the dom0 disk is a throw-away snapshot.
for domain in $(xl list 2>/dev/null | awk 'NR > 2 { print $1 }'); do xl destroy "$domain" 2>/dev/null; done
xl dmesg > "$SHARE/out/xl-dmesg.txt" 2>&1
cp -r /var/log/xen "$SHARE/out/xen-logs" 2>/dev/null
power_off "$rc"
