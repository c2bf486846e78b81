#!/usr/bin/env bash
# Runs SCRIPT as root in a throwaway copy of this machine's root file system: an overlay of / whose changes go to a
# tmpfs and vanish when the script ends (a private mount namespace: the host sees none of it). Lets the tests
# install, upgrade, remove and purge the packages for real without touching the host.
#
# Usage (as root): unshare --mount --propagation private throwaway-root.sh DIR SCRIPT
#   DIR     copied to /tmp/pkgs in the throwaway root (the packages and SCRIPT)
#   SCRIPT  the name of a script in DIR, run with bash from /tmp/pkgs
set -euo pipefail
dir=$1
script=$2
if [ "$(readlink /proc/self/ns/mnt)" = "$(readlink /proc/1/ns/mnt)" ]; then
    echo "throwaway-root.sh: run me in a private mount namespace (unshare --mount --propagation private)" >&2
    exit 2
fi
base=$(mktemp -d /tmp/compart-root.XXXXXX)
# Never delete files below $base: unmount everything, then remove the empty mount point.
trap 'cd /; umount --recursive --lazy "$base" 2>/dev/null; rmdir "$base"' EXIT
mount -t tmpfs -o size=2g tmpfs "$base"
mkdir "$base/upper" "$base/work" "$base/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$base/upper,workdir=$base/work" "$base/root"
mount -t proc proc "$base/root/proc"
# a /dev of its own with the few nodes packages use, so that nothing done in there can reach the host's devices
mount -t tmpfs -o mode=0755 tmpfs "$base/root/dev"
mknod -m 0666 "$base/root/dev/null" c 1 3
mknod -m 0666 "$base/root/dev/zero" c 1 5
mknod -m 0666 "$base/root/dev/full" c 1 7
mknod -m 0666 "$base/root/dev/random" c 1 8
mknod -m 0666 "$base/root/dev/urandom" c 1 9
mknod -m 0666 "$base/root/dev/tty" c 5 0
ln -s /proc/self/fd "$base/root/dev/fd"
ln -s /proc/self/fd/0 "$base/root/dev/stdin"
ln -s /proc/self/fd/1 "$base/root/dev/stdout"
ln -s /proc/self/fd/2 "$base/root/dev/stderr"
mkdir "$base/root/dev/shm"
mount -t tmpfs tmpfs "$base/root/run"
mount -t tmpfs tmpfs "$base/root/tmp"
mkdir "$base/root/tmp/pkgs"
cp -a "$dir/." "$base/root/tmp/pkgs/"
cd /
chroot "$base/root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    bash -c 'cd /tmp/pkgs && bash "$0"' "$script"
