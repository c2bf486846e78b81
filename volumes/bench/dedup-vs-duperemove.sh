#!/usr/bin/env bash
# Compares compart-dedup with Debian's duperemove on the same generated data, in one run, on loop-mounted XFS
# (reflink=1) images, and compares compart-volume-clone with cp --reflink=always for 1 GiB and 8 GiB images.
# Needs root, xfsprogs, duperemove, python3 and a built Compart (./mvnw -q -DskipTests package).
# Usage: volumes/bench/dedup-vs-duperemove.sh [WORKDIR]   (default volumes/target/bench; needs ~12 GiB free)
# Env: FILES (default 5) FILE_MIB (default 256) — the data set is FILES images of FILE_MIB MiB, each a
# separately written copy of one base image with a 4 KiB random write every 2 MiB (mostly-equal volumes);
# CLONE=0 skips the clone comparison.
#
# duperemove 0.11 (Debian 12) has two engines, and which one runs decides what it can find here:
# - its default, extent mode (hashfile format 3): it hashes each whole extent as FIEMAP reports it and merges
#   only extents that are identical end to end. Each image here is written at once, so XFS gives it one or a
#   few large extents, which all differ by a few 4 KiB writes: it finds nothing. --dedupe-options=partial
#   adds a search inside non-identical extents, but 0.11's search starts only at the first block of each
#   extent and stops at the first difference, so it finds little more.
# - block mode (hashfile format 2, the engine of duperemove up to 0.10): every -b block is hashed and runs
#   of identical blocks are merged wherever they are. 0.11 keeps it and selects it when extent lookups are
#   off: --lookup-extents=no (also --dedupe-options=nofiemap or --write-hashes-v2). That is the mode that
#   dedups mostly-equal images, so it is the fair reference; it also rereads blocks that are already shared.
# All duperemove runs use -b 128k (our default block size), --hashfile and its default I/O threads.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=${1:-$root/volumes/target/bench}
FILES=${FILES:-5}
FILE_MIB=${FILE_MIB:-256}
CLONE=${CLONE:-1}
BS=131072
[ "$(id -u)" = 0 ] || { echo "needs root (loop mounts)" >&2; exit 1; }
command -v duperemove >/dev/null || { echo "needs duperemove (apt-get install duperemove)" >&2; exit 1; }
mkdir -p "$work"
mounts=()
cleanup() { for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || true; done; rm -f "$work"/*.img; }
trap cleanup EXIT

declare -A EMPTY
mkxfs() { # NAME SIZE_GIB: mounts $work/NAME
    local img="$work/$1.img" mnt="$work/$1"
    rm -f "$img"; truncate -s "${2}G" "$img"; mkfs.xfs -q -f -m reflink=1 "$img"
    mkdir -p "$mnt"; mount -o loop "$img" "$mnt"; mounts+=("$mnt")
    EMPTY[$1]=$(sync -f "$mnt"; df -B1 --output=used "$mnt" | tail -1)
}
used() { sync -f "$1"; df -B1 --output=used "$1" | tail -1; }
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }
now() { date +%s.%N; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

# one filesystem per tool and mode, all with the same bytes
labels=(ours extent partial block)
declare -A M
data_gib=$(( (FILES * FILE_MIB + 1023) / 1024 + 2 ))
for l in "${labels[@]}"; do mkxfs "$l" $data_gib; M[$l]=$work/$l; mkdir -p "$work/$l/data"; done
A=${M[ours]}

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
for l in extent partial block; do cp -r --reflink=never --sparse=never "$A/data/." "${M[$l]}/data/"; done
sync
extents=$(for f in "$A"/data/*; do xfs_io -c fiemap "$f" | tail -n +2; done | wc -l)

ideal() { # DIR: bytes an ideal tool saves by sharing identical BS-aligned blocks
python3 - "$1" $BS <<'PY'
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
}
ideal1=$(ideal "$A/data")
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
ours() { "$root/bin/compart-dedup" -v --json --hashfile "$work/ours.hash" "$A/data"; }
dupe() { # MODE
    case $1 in
        extent) duperemove -dr -q -b 128k --hashfile="$work/extent.hash" "${M[extent]}/data" ;;
        partial) duperemove -dr -q -b 128k --dedupe-options=partial --hashfile="$work/partial.hash" "${M[partial]}/data" ;;
        block) duperemove -dr -q -b 128k --lookup-extents=no --hashfile="$work/block.hash" "${M[block]}/data" ;;
    esac
}
change() { # a small change on every copy: 1 MiB of vm1.img overwritten with vm0.img's bytes from elsewhere
    for l in "${labels[@]}"; do
        dd if="${M[$l]}/data/vm0.img" of="${M[$l]}/data/vm1.img" bs=1M skip=128 seek=64 count=1 conv=notrunc,fsync \
            status=none
    done
}

sums() { (cd "$1" && sha256sum -- * | sha256sum | cut -c1-16); }
declare -A T S
before1=$(sums "$A/data")
echo "== first runs" >&2
read -r "T[ours1]" "S[ours1]" < <(run ours1 "$A" ours)
for m in extent partial block; do read -r "T[${m}1]" "S[${m}1]" < <(run ${m}1 "${M[$m]}" dupe $m); done
after1=$(sums "$A/data")
change
ideal2=$(ideal "$A/data")
before2=$(sums "$A/data")
# the floor of an incremental run: reading the changed MiB once, cold
drop; t=$(now); dd if="$A/data/vm1.img" of=/dev/null bs=1M skip=64 count=1 status=none; floor2=$(echo "$(now) - $t" | bc)
echo "== incremental runs after a 1 MiB change" >&2
read -r "T[ours2]" "S[ours2]" < <(run ours2 "$A" ours)
for m in extent partial block; do read -r "T[${m}2]" "S[${m}2]" < <(run ${m}2 "${M[$m]}" dupe $m); done
after2=$(sums "$A/data")
rm -f "$work"/*.hash*
final=()
for l in "${labels[@]}"; do final+=("$l $(( $(used "${M[$l]}") - ${EMPTY[$l]} ))"); done

echo
echo "data set: $FILES images x $FILE_MIB MiB = $(mib "$total") MiB in $extents extents; ideal saving at 128 KiB"\
     "blocks: $(mib "$ideal1") MiB (after the change: $(mib "$ideal2") MiB)"
echo "floor: read all data once, cold cache: ${floor} s; read the changed 1 MiB once, cold: ${floor2} s"
printf '%-52s %9s %11s %9s\n' "tool (run)" "seconds" "saved MiB" "% ideal"
row() { printf '%-52s %9.2f %11s %8.1f%%\n' "$1" "$2" "$(mib "$3")" "$(echo "100 * $3 / $4" | bc -l)"; }
row "compart-dedup (first)" "${T[ours1]}" "${S[ours1]}" "$ideal1"
row "duperemove -dr (extent mode, default; first)" "${T[extent1]}" "${S[extent1]}" "$ideal1"
row "duperemove -dr --dedupe-options=partial (first)" "${T[partial1]}" "${S[partial1]}" "$ideal1"
row "duperemove -dr --lookup-extents=no (block; first)" "${T[block1]}" "${S[block1]}" "$ideal1"
echo "incremental (saved: by this run alone)"
row2() { printf '%-52s %9.2f %11s\n' "$1" "$2" "$(mib "$3")"; }
row2 "compart-dedup (incremental)" "${T[ours2]}" "${S[ours2]}"
row2 "duperemove extent mode (incremental)" "${T[extent2]}" "${S[extent2]}"
row2 "duperemove partial (incremental)" "${T[partial2]}" "${S[partial2]}"
row2 "duperemove block mode (incremental)" "${T[block2]}" "${S[block2]}"
echo "space used by the data at the end (used minus the empty filesystem's; ideal $(mib "$((total - ideal2))") MiB):"
for f in "${final[@]}"; do set -- $f; printf '  %-8s %s MiB\n' "$1" "$(mib "$2")"; done
echo "contents (sha256 of every file) unchanged by compart-dedup: first run $([ "$before1" = "$after1" ] && echo yes || echo NO),"\
     "incremental run $([ "$before2" = "$after2" ] && echo yes || echo NO)"
echo "compart-dedup first run JSON:       $(cat "$work/ours1.out")"
echo "compart-dedup incremental run JSON: $(cat "$work/ours2.out")"
echo "compart-dedup phases (first):       $(grep -h 'done at' "$work/ours1.err" | tr '\n' ' ')"
echo "compart-dedup phases (incremental): $(grep -h 'done at' "$work/ours2.err" | tr '\n' ' ')"

[ "$CLONE" = 1 ] || exit 0
echo
echo "== clone: compart-volume-clone vs cp --reflink=always (median of 5, whole process)"
for l in "${labels[@]}"; do umount "${M[$l]}"; done; mounts=(); rm -f "$work"/*.img
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
