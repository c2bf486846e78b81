#!/bin/sh
# /qrexec-init of the qrexec test guests (rdinit=/qrexec-init): the harness's guest initramfs plus an overlay
# with Compart's test agent, the Xen device modules it needs and the test services in /etc/qubes-rpc.
# Prints "COMPART-GUEST: qrexec-agent listening domid=N" when dom0 can connect; runs until destroyed.
export PATH=/bin
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
/bin/busybox --install -s /bin
mkdir -p /run /tmp
echo "COMPART-GUEST: up type=$(cat /sys/hypervisor/guest_type 2>/dev/null || echo unknown) qrexec"
# event channels, grant mapping (client ends) and grant allocation (server ends) for libxenvchan
for module in xen-evtchn xen-gntdev xen-gntalloc; do
    insmod "/lib/modules/qrexec/$module.ko" || echo "COMPART-GUEST: insmod $module failed"
done
ln -s /bin/qrexec-agent /bin/qrexec-client-vm
while true; do
    /bin/qrexec-agent
    echo "COMPART-GUEST: qrexec-agent exited $?"
    sleep 1
done
