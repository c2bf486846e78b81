#!/usr/bin/env bash
# Compares compart-dedup with Debian's duperemove on the same generated data, in one run, on loop-mounted XFS
# (reflink=1) images, and compares compart-volume-clone with cp --reflink=always for 1 GiB and 8 GiB images.
# Needs root, xfsprogs, duperemove, python3 and a built Compart (./mvnw -q -DskipTests package).
# Usage: volumes/bench/dedup-vs-duperemove.sh [WORKDIR]   (default volumes/target/bench; needs ~20 GiB free)
# Env: FILES (default 5) FILE_MIB (default 256) — the data set is FILES images of FILE_MIB MiB, each a
# separately written copy of one base image with a 4 KiB random write every 2 MiB (mostly-equal volumes).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=${1:-$root/volumes/target/bench}
FILES=${FILES:-5}
FILE_MIB=${FILE_MIB:-256}
BS=131072
[ "$(id -u)" = 0 ] || { echo "needs root (loop mounts)" >&2; exit 1; }
command -v duperemove >/dev/null || { echo "needs duperemove (apt-get install duperemove)" >&2; exit 1; }
mkdir -p "$work"
mounts=()
cleanup() { for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || true; done; rm -f "$work"/*.img; }
trap cleanup EXIT

mkxfs() { # NAME SIZE_GIB: mounts $work/NAME
    local img="$work/$1.img" mnt="$work/$1"
    rm -f "$img"; truncate -s "${2}G" "$img"; mkfs.xfs -q -f -m reflink=1 "$img"
    mkdir -p "$mnt"; mount -o loop "$img" "$mnt"; mounts+=("$mnt")
}
used() { sync -f "$1"; df -B1 --output=used "$1" | tail -1; }
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }
now() { date +%s.%N; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

data_gib=$(( (FILES * FILE_MIB + 1023) / 1024 + 2 ))
mkxfs ours $data_gib; mkxfs dupe_default $data_gib; mkxfs dupe_partial $data_gib
A=$work/ours; B=$work/dupe_default; C=$work/dupe_partial
mkdir -p "$A/data" "$B/data" "$C/data"

echo "== generating $FILES x $FILE_MIB MiB images (base + a 4 KiB change every 2 MiB each)" >&2
python3 - "$A/data" "$FILES" "$FILE_MIB" <<'PY'
import os, random, sys
d, n, mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rb = random.Random(1)
base = b"".join(rb.randbytes(1 << 20) for _ in range(mib))
for i in range(n):
    b = bytearray(base)
    r = random.Random(100 + i)
    for off in range(0, len(b), 2 << 20):
        p = off + r.randrange(0, (2 << 20) - 4096, 4096)
        b[p:p + 4096] = r.randbytes(4096)
    with open(os.path.join(d, f"vm{i}.img"), "wb") as f:
        f.write(b); os.fsync(f.fileno())
PY
for m in "$B" "$C"; do cp -r --reflink=never --sparse=never "$A/data/." "$m/data/"; done
sync

ideal=$(python3 - "$A/data" $BS <<'PY'
import hashlib, os, sys
d, bs = sys.argv[1], int(sys.argv[2])
seen, dup = set(), 0
for name in sorted(os.listdir(d)):
    with open(os.path.join(d, name), "rb") as f:
        while (blk := f.read(bs)):
            if len(blk) < bs: break
            h = hashlib.sha256(blk).digest()
            if h in seen: dup += bs
            else: seen.add(h)
print(dup)
PY
)
total=$(du -sb "$A/data" | cut -f1)

drop; t=$(now); cat "$A"/data/* > /dev/null; floor=$(echo "$(now) - $t" | bc)

run() { # LABEL MOUNT CMD... -> prints "seconds saved_bytes"
    local label=$1 mnt=$2; shift 2
    local before after t0 t1
    before=$(used "$mnt"); drop; t0=$(now)
    "$@" > "$work/$label.out" 2> "$work/$label.err" || { echo "$label failed: $(tail -3 "$work/$label.err")" >&2; }
    t1=$(now); after=$(used "$mnt")
    echo "$(echo "$t1 - $t0" | bc) $((before - after))"
}
change() { # a small change on every copy: 1 MiB of new data in vm1.img
    for m in "$A" "$B" "$C"; do
        python3 -c "import os,random; f=open('$m/data/vm1.img','r+b'); f.seek(64<<20); f.write(os.urandom(1<<20)); f.flush(); os.fsync(f.fileno())"
    done
}

echo "== first runs" >&2
read -r o1t o1s < <(run ours1 "$A" "$root/bin/compart-dedup" -q --json --hashfile "$work/ours.hash" "$A/data")
read -r d1t d1s < <(run dd1 "$B" duperemove -dr -q --hashfile="$work/dd.hash" "$B/data")
read -r p1t p1s < <(run dp1 "$C" duperemove -dr -q --dedupe-options=partial --hashfile="$work/dp.hash" "$C/data")
change
echo "== incremental runs after a 1 MiB change" >&2
read -r o2t o2s < <(run ours2 "$A" "$root/bin/compart-dedup" -q --json --hashfile "$work/ours.hash" "$A/data")
read -r d2t d2s < <(run dd2 "$B" duperemove -dr -q --hashfile="$work/dd.hash" "$B/data")
read -r p2t p2s < <(run dp2 "$C" duperemove -dr -q --dedupe-options=partial --hashfile="$work/dp.hash" "$C/data")
rm -f "$work"/*.hash*

echo
echo "data set: $FILES images x $FILE_MIB MiB = $(mib "$total") MiB; ideal saving at 128 KiB blocks: $(mib "$ideal") MiB"
echo "floor (read all data once, cold cache): ${floor} s"
printf '%-34s %10s %14s %10s\n' "tool" "seconds" "saved MiB" "% ideal"
row() { printf '%-34s %10.2f %14s %9.1f%%\n' "$1" "$2" "$(mib "$3")" "$(echo "100 * $3 / $ideal" | bc -l)"; }
row "compart-dedup (first)" "$o1t" "$o1s"
row "duperemove -dr (first)" "$d1t" "$d1s"
row "duperemove -dr partial (first)" "$p1t" "$p1s"
row "compart-dedup (incremental)" "$o2t" "$o2s"
row "duperemove -dr (incremental)" "$d2t" "$d2s"
row "duperemove -dr partial (incr.)" "$p2t" "$p2s"
echo "compart-dedup first run JSON:       $(cat "$work/ours1.out")"
echo "compart-dedup incremental run JSON: $(cat "$work/ours2.out")"

echo
echo "== clone: compart-volume-clone vs cp --reflink=always (median of 5, whole process)"
for m in "$A" "$B" "$C"; do umount "$m"; done; mounts=(); rm -f "$work"/*.img
mkxfs clone 12; K=$work/clone
dd if=/dev/urandom of="$K/1g.img" bs=1M count=1024 status=none
dd if=/dev/urandom of="$K/8g.img" bs=1M count=8192 status=none
sync
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for size in 1g 8g; do
    extents=$(xfs_io -c "fiemap" "$K/$size.img" | tail -n +2 | wc -l)
    for tool in compart cp; do
        for i in 1 2 3 4 5; do
            rm -f "$K/copy.img"; sync
            t0=$(now)
            if [ $tool = compart ]; then "$root/bin/compart-volume-clone" "$K/$size.img" "$K/copy.img"
            else cp --reflink=always "$K/$size.img" "$K/copy.img"; fi
            echo "$(echo "$(now) - $t0" | bc)"
        done | median > "$work/clone-$tool-$size"
    done
    printf '%s image (%s extents): compart-volume-clone %.3f s, cp --reflink=always %.3f s\n' "$size" "$extents" \
        "$(cat "$work/clone-compart-$size")" "$(cat "$work/clone-cp-$size")"
done
