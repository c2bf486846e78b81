#!/bin/bash
# Runs inside the Debian 12 guest template's root filesystem (chroot, as root), after guest-setup.sh: compiles
# Qubes' guest software from the unmodified upstream tarballs in /usr/src/qubes (their sha256 checked by
# compart.xenhost.GuestTemplateBuilder against SOURCES.tsv before they were copied in) and installs the pieces a
# qube needs to come up. Only targeted make targets (the upstream `all` targets pull pandoc, Python packaging and
# Qubes-only libraries); where an upstream install target would build more than we want, the files it would
# install are installed with install(1), unchanged.
# Prints "COMPONENT SECONDS" lines to /tmp/guest-build-times.txt.
set -euo pipefail
export LC_ALL=C
SRC=/usr/src/qubes
cd "$SRC"
: > /tmp/guest-build-times.txt
for tarball in *.tar.gz; do tar xzf "$tarball"; done

timed() { # NAME COMMAND...: runs the command, appends its wall time
    local name=$1 start=$SECONDS
    shift
    "$@"
    echo "$name $((SECONDS - start))" >> /tmp/guest-build-times.txt
}

vchan() {
    make -C qubes-core-vchan-xen-4.2.8 all
    make -C qubes-core-vchan-xen-4.2.8 install LIBDIR=/usr/lib
}

qubesdb() {
    local dir=qubes-core-qubesdb-4.3.3
    make -C $dir/daemon
    make -C $dir/client
    make -C $dir/daemon install
    make -C $dir/client install LIBDIR=/usr/lib
    make -C $dir/include install
    install -D -m 0644 $dir/daemon/qubes-db.service /lib/systemd/system/qubes-db.service
}

qrexec43() {
    local dir=qubes-core-qrexec-4.3.12
    make -C $dir/libqrexec all
    make -C $dir/libqrexec install
    # agent/Makefile's `all` also renders the man page with pandoc: the three programs only
    make -C $dir/agent qrexec-agent qrexec-client-vm qrexec-fork-server
    install -d /usr/lib/qubes /etc/qubes-rpc /etc/qubes/rpc-config
    install -m 0755 $dir/agent/qrexec-agent /usr/lib/qubes/
    install -m 0755 $dir/agent/qrexec-client-vm $dir/agent/qrexec-fork-server /usr/bin/
    ln -sf ../../bin/qrexec-client-vm /usr/lib/qubes/qrexec-client-vm
    ln -sf ../../bin/qrexec-client-vm /usr/lib/qubes/qrexec_client_vm
    install -D -m 0644 $dir/agent/qrexec.pam.debian /etc/pam.d/qrexec
    install -m 0644 $dir/systemd/qubes-qrexec-agent.service /lib/systemd/system/
}

# Protocol 3 (Qubes R4.2), beside the R4.3 agent: its own soname (libqrexec-utils.so.3), programs in
# /usr/lib/qubes/qrexec-4.2/ for a later test that runs them instead of the R4.3 ones.
qrexec42() {
    local dir=qubes-core-qrexec-4.2.25
    make -C $dir/libqrexec all
    make -C $dir/agent qrexec-agent qrexec-client-vm qrexec-fork-server
    install -m 0755 $dir/libqrexec/libqrexec-utils.so.3 /usr/lib/
    install -d /usr/lib/qubes/qrexec-4.2
    install -m 0755 $dir/agent/qrexec-agent $dir/agent/qrexec-client-vm $dir/agent/qrexec-fork-server \
        /usr/lib/qubes/qrexec-4.2/
}

meminfo_writer() {
    local dir=qubes-linux-utils-4.3.19/qmemman
    make -C $dir meminfo-writer
    install -m 0755 $dir/meminfo-writer /usr/bin/
    install -m 0644 $dir/qubes-meminfo-writer.service /lib/systemd/system/
}

# qubes-core-agent-linux: upstream's own install targets for the init scripts and units (install-systemd pulls
# install-init), the networking units and the network scripts (setup-ip, the udev rule), and the net qube's part
# (install-netvm: vif-route-qubes, the nftables rules, qubes-antispoof/qubes-iptables units; it also drops
# NetworkManager's configuration, unused here); the qrexec services as qubes-rpc/Makefile would install them (its
# target also builds file-copy tools this image does not need yet).
core_agent() {
    local dir=qubes-core-agent-linux-4.3.46
    make -C $dir install-systemd install-networking install-netvm
    make -C $dir/network install
    install -D -m 0644 $dir/vm-systemd/qubes-core-agent-linux.tmpfiles /usr/lib/tmpfiles.d/qubes-core-agent-linux.conf
    install -D -m 0644 $dir/network/80-qubes.conf /etc/sysctl.d/80-qubes.conf
    install -d /etc/qubes-rpc
    for service in qubes.VMShell qubes.VMRootShell qubes.VMExec qubes.WaitForSession qubes.WaitForRunningSystem \
                   qubes.WaitForNetworkUplink qubes.GetDate; do
        install -m 0755 "$dir/qubes-rpc/$service" /etc/qubes-rpc/
    done
}

timed libvchan-xen vchan
timed qubesdb qubesdb
timed qrexec-4.3.12 qrexec43
timed qrexec-4.2.25 qrexec42
timed meminfo-writer meminfo_writer
timed core-agent-linux core_agent
ldconfig

# The qube's accounts and groups as a Qubes template has them: qubes-db.service runs in group qubes, qrexec
# runs commands as the default user "user".
# ... and the directories the upstream scripts expect (the Debian package of qubes-core-agent-linux creates them).
install -d /etc/qubes/protected-files.d /etc/qubes/autostart /usr/lib/qubes-bind-dirs.d /var/lib/qubes/dom0-updates \
    /rw /usr/share/qubes
getent group qubes > /dev/null || groupadd --system qubes
id user > /dev/null 2>&1 || useradd --create-home --shell /bin/bash --groups qubes user

systemctl enable qubes-db.service qubes-sysinit.service qubes-early-vm-config.service qubes-mount-dirs.service \
    qubes-network-uplink.service qubes-qrexec-agent.service qubes-meminfo-writer.service \
    xendriverdomain.service qubes-antispoof.service qubes-iptables.service qubes-network.service \
    compart-qube-report.service
# The build dependencies go: the template carries what a qube runs, not what built it.
apt-get purge -y -q --auto-remove gcc make libc6-dev pkg-config libxen-dev libsystemd-dev libpam0g-dev
# A template's root is a throw-away snapshot in every qube: nothing to fsck, no machine-id to keep.
systemctl mask systemd-fsck-root.service
# A qube runs no Xen daemons (upstream's preset disables xenstored and xenconsoled; Debian starts both from the one
# LSB script "xen", which in a domU waits minutes for nothing): xl devd in a net qube is xendriverdomain's job.
systemctl mask xen.service xendomains.service
rm -rf "$SRC"
