#!/bin/sh
# Runs inside the freshly debootstrapped dom0 root filesystem (chroot, as root), with the packages to install
# as arguments: sets up apt sources, installs Xen + kernel + tools, and trims what a test host never uses.
# Environment: SUITE, MIRROR, SECURITY (given by compart.xenhost.ImageBuilder).
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

cat > /etc/apt/sources.list <<SOURCES
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY $SUITE-security main
SOURCES

# No daemon may start inside the chroot while packages are installed.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d

# The dom0 initramfs only has to mount the virtio root disk: list its modules instead of taking them all
# (5 MB instead of 36 MB). Must be in place before the kernel package builds the initramfs.
mkdir -p /etc/initramfs-tools/conf.d
printf 'MODULES=list\nCOMPRESS=gzip\n' > /etc/initramfs-tools/conf.d/compart-xenhost
printf 'virtio_pci\nvirtio_blk\next4\n' >> /etc/initramfs-tools/modules

apt-get update -q
apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confold "$@"
apt-get clean
rm -rf /var/lib/apt/lists/*

# Trim: documentation, translations, and kernel drivers for hardware QEMU does not emulate here.
rm -rf /usr/share/doc/* /usr/share/man/* /usr/share/info/*
find /usr/share/locale -mindepth 1 -maxdepth 1 ! -name 'C*' -exec rm -rf {} +
for kver in $(ls /lib/modules); do
    for dir in drivers/gpu drivers/media drivers/net/wireless drivers/infiniband drivers/staging sound \
               drivers/bluetooth net/bluetooth net/wireless net/mac80211 drivers/iio drivers/isdn; do
        rm -rf "/lib/modules/$kver/kernel/$dir"
    done
    depmod "$kver"
done
