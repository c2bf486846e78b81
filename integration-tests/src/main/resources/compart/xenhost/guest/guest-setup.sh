#!/bin/sh
# Runs inside the freshly debootstrapped root filesystem of the Debian 12 guest template (chroot, as root), with
# the packages to install as arguments: the guest's runtime (systemd, udev, Xen's guest libraries, iproute2 ...)
# and the build dependencies of Qubes' guest software, which guest-build.sh compiles in this same chroot.
# Environment: SUITE, MIRROR, SECURITY (given by compart.xenhost.GuestTemplateBuilder).
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

apt-get update -q
apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confold "$@"
apt-get clean
rm -rf /var/lib/apt/lists/*
rm -rf /usr/share/doc/* /usr/share/man/* /usr/share/info/*
find /usr/share/locale -mindepth 1 -maxdepth 1 ! -name 'C*' -exec rm -rf {} +
