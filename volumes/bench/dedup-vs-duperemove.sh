#!/usr/bin/env bash
# Compares compart-dedup with Debian's duperemove on the same generated data, in one run, on loop-mounted XFS
# (reflink=1) images, and compares compart-volume-clone with cp --reflink=always for 1 GiB and 8 GiB images.
# Needs root, xfsprogs, duperemove, python3 and a built Compart (./mvnw -q -DskipTests package).
# Usage: volumes/bench/dedup-vs-duperemove.sh [WORKDIR]   (default volumes/target/bench; needs ~14 GiB free)
# Env: FILES (default 5) FILE_MIB (default 256) — the data set is FILES images of FILE_MIB MiB, each a
# separately written copy of one base image with a 4 KiB random write every 2 MiB (mostly-equal volumes);
# ROUNDS (default 3) — first runs and incremental runs are repeated ROUNDS times, the tools interleaved in a
# rotating order (the machine may be shared: each figure comes with the load average when it was taken);
# CLONE=0 skips the clone comparison; COMPART_BIN (default the repository's bin/) — where compart-dedup and
# compart-volume-clone are.
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
# All duperemove runs use -b 128k (our default block size), --hashfile and its default I/O threads. Every run
# starts with a cold page cache (drop_caches) for the data; the tool's own files (binary, libraries, for
# compart-dedup the JVM, its jars and AOT cache) are then read back by a --version run before the clock starts,
# since the data is what is measured; COLD_TOOLS=1 leaves them cold too (a JVM then reads some 60 MB more).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=${1:-$root/volumes/target/bench}
bin=${COMPART_BIN:-$root/bin}
FILES=${FILES:-5}
FILE_MIB=${FILE_MIB:-256}
ROUNDS=${ROUNDS:-3}
CLONE=${CLONE:-1}
COLD_TOOLS=${COLD_TOOLS:-0}
BS=131072
[ "$(id -u)" = 0 ] || { echo "needs root (loop mounts)" >&2; exit 1; }
command -v duperemove >/dev/null || { echo "needs duperemove (apt-get install duperemove)" >&2; exit 1; }
mkdir -p "$work"
mounts=()
cleanup() { for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || true; done; rm -rf "$work"/*.img "$work/pristine"; }
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
load() { cut -d' ' -f1 /proc/loadavg; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
stats() { # VALUE... -> "median M (min m, max x)"
    printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "median %.2f (min %.2f, max %.2f)", a[int((NR+1)/2)], a[1], a[NR]}'
}

# one filesystem per tool and mode, all with the same bytes
labels=(ours extent partial block)
declare -A M
data_gib=$(( (FILES * FILE_MIB + 1023) / 1024 + 2 ))
[ "$FILE_MIB" -ge 8 ] || { echo "FILE_MIB must be at least 8" >&2; exit 1; }
for l in "${labels[@]}"; do mkxfs "$l" $data_gib; M[$l]=$work/$l; mkdir -p "$work/$l/data"; done
A=${M[ours]}

echo "== generating $FILES x $FILE_MIB MiB images (base + a 4 KiB change every 2 MiB each)" >&2
mkdir -p "$work/pristine"
python3 - "$work/pristine" "$FILES" "$FILE_MIB" <<'PY'
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
restore() { # LABEL: the label's data/ becomes fresh, unshared copies of the generated images; no hash file
    rm -rf "${M[$1]}/data" "$work/$1.hash"*; mkdir -p "${M[$1]}/data"
    cp --reflink=never --sparse=never "$work/pristine/." -r "${M[$1]}/data/"; sync -f "${M[$1]}"
}

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

run() { # LABEL MOUNT CMD... -> prints "seconds saved_bytes load"
    local label=$1 mnt=$2; shift 2
    local before after t0 t1 l
    before=$(used "$mnt"); drop
    if [ "$COLD_TOOLS" != 1 ]; then
        if [ "${label%%[12].*}" = ours ]; then "$bin/compart-dedup" --version; else duperemove --version; fi >/dev/null 2>&1
    fi
    l=$(load); t0=$(now)
    "$@" > "$work/$label.out" 2> "$work/$label.err" || { echo "$label failed: $(tail -3 "$work/$label.err")" >&2; }
    t1=$(now); after=$(used "$mnt")
    echo "$(echo "$t1 - $t0" | bc) $((before - after)) $l"
}
ours() { "$bin/compart-dedup" -v --json --hashfile "$work/ours.hash" "$A/data"; }
dupe() { # MODE
    case $1 in
        extent) duperemove -dr -q -b 128k --hashfile="$work/extent.hash" "${M[extent]}/data" ;;
        partial) duperemove -dr -q -b 128k --dedupe-options=partial --hashfile="$work/partial.hash" "${M[partial]}/data" ;;
        block) duperemove -dr -q -b 128k --lookup-extents=no --hashfile="$work/block.hash" "${M[block]}/data" ;;
    esac
}
tool() { # LABEL: runs the label's tool on its filesystem
    if [ "$1" = ours ]; then ours; else dupe "$1"; fi
}
change() { # N: a small change on every copy: 1 MiB of vm1.img overwritten with vm0.img's bytes from elsewhere
    for l in "${labels[@]}"; do
        dd if="${M[$l]}/data/vm0.img" of="${M[$l]}/data/vm1.img" bs=1M skip=$((FILE_MIB / 2)) seek=$((FILE_MIB / 4 + $1)) count=1 \
            conv=notrunc,fsync status=none
    done
}
rotated() { # ROUND: the labels, starting at a different one each round
    local i n=${#labels[@]}
    for ((i = 0; i < n; i++)); do echo "${labels[$(( (i + $1) % n ))]}"; done
}
sums() { (cd "$1" && sha256sum -- * | sha256sum | cut -c1-16); }

declare -A T S L   # T[label1.round] seconds, S[...] saved bytes, L[...] load average when it started
floors=() floors2=() loads=()
ideal1=$(ideal "$work/pristine")
total=$(du -sb "$work/pristine" | cut -f1)
contents_ok=yes
for ((r = 1; r <= ROUNDS; r++)); do
    echo "== round $r/$ROUNDS: first runs" >&2
    for l in "${labels[@]}"; do restore "$l"; done
    extents=$(for f in "$A"/data/*; do xfs_io -c fiemap "$f" | tail -n +2; done | wc -l)
    drop; loads+=("$(load)"); t=$(now); cat "$A"/data/* > /dev/null; floors+=("$(echo "$(now) - $t" | bc)")
    before=$(sums "$A/data")
    for l in $(rotated "$r"); do
        read -r "T[${l}1.$r]" "S[${l}1.$r]" "L[${l}1.$r]" < <(run "${l}1.$r" "${M[$l]}" tool "$l")
    done
    [ "$before" = "$(sums "$A/data")" ] || contents_ok=NO
    echo "== round $r/$ROUNDS: incremental runs after a 1 MiB change" >&2
    change "$r"
    before=$(sums "$A/data")
    # the floor of an incremental run: reading the changed MiB once, cold
    drop; t=$(now); dd if="$A/data/vm1.img" of=/dev/null bs=1M skip=$((FILE_MIB / 4 + r)) count=1 status=none
    floors2+=("$(echo "$(now) - $t" | bc)")
    for l in $(rotated "$r"); do
        read -r "T[${l}2.$r]" "S[${l}2.$r]" "L[${l}2.$r]" < <(run "${l}2.$r" "${M[$l]}" tool "$l")
    done
    [ "$before" = "$(sums "$A/data")" ] || contents_ok=NO
done
ideal2=$(ideal "$A/data")
final=()
for l in "${labels[@]}"; do final+=("$l $(( $(used "${M[$l]}") - ${EMPTY[$l]} ))"); done

col() { # KEY(label+phase) FIELD(T|S|L): the values of every round
    local k=$1 f=$2 r v=()
    for ((r = 1; r <= ROUNDS; r++)); do
        case $f in T) v+=("${T[$k.$r]}") ;; S) v+=("${S[$k.$r]}") ;; L) v+=("${L[$k.$r]}") ;; esac
    done
    echo "${v[@]}"
}
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo
echo "data set ($([ "$COLD_TOOLS" = 1 ] && echo "data and tools cold" || echo "data cold, tools warm")): $FILES images x $FILE_MIB MiB = $(mib "$total") MiB in $extents extents; ideal saving at 128 KiB"\
     "blocks: $(mib "$ideal1") MiB (after the changes: $(mib "$ideal2") MiB); $ROUNDS rounds, tools interleaved"
echo "floor, read all data once, cold (cat): $(stats "${floors[@]}") s; each round: $(for ((r = 0; r < ROUNDS; r++)); do printf '%.2f/%s ' "${floors[$r]}" "${loads[$r]}"; done)"
echo "floor, read the changed 1 MiB once, cold: $(stats "${floors2[@]}") s"
printf '%-50s %-40s %9s %8s  %s\n' "tool (run)" "seconds over the rounds" "saved MiB" "% ideal" "seconds / load average, each round"
row() { # NAME KEY IDEAL
    local s; s=$(med $(col "$2" S))
    printf '%-50s %-40s %9s %7.1f%%  %s\n' "$1" "$(stats $(col "$2" T))" "$(mib "$s")" \
        "$(echo "100 * $s / $3" | bc -l)" "$(each "$2")"
}
each() { # KEY: "seconds/load" of every round
    local r
    for ((r = 1; r <= ROUNDS; r++)); do printf '%.2f/%s ' "${T[$1.$r]}" "${L[$1.$r]}"; done
}
row "compart-dedup (first)" ours1 "$ideal1"
row "duperemove -dr (extent mode, default; first)" extent1 "$ideal1"
row "duperemove -dr --dedupe-options=partial (first)" partial1 "$ideal1"
row "duperemove -dr --lookup-extents=no (block; first)" block1 "$ideal1"
echo "incremental, after a 1 MiB change (saved: by that run alone)"
row2() { printf '%-50s %-40s %9s %8s  %s\n' "$1" "$(stats $(col "$2" T))" "$(mib "$(med $(col "$2" S))")" "" "$(each "$2")"; }
row2 "compart-dedup (incremental)" ours2
row2 "duperemove extent mode (incremental)" extent2
row2 "duperemove partial (incremental)" partial2
row2 "duperemove block mode (incremental)" block2
ratio() { echo "$(med $(col "$1" T)) / $(med $(col "$2" T))" | bc -l | xargs printf '%.2f'; }
echo "ratios of medians: compart-dedup first / partial first $(ratio ours1 partial1),"\
     "first / cold-read floor $(echo "$(med $(col ours1 T)) / $(med "${floors[@]}")" | bc -l | xargs printf '%.2f'),"\
     "partial incremental / compart-dedup incremental $(ratio partial2 ours2)"
echo "space used by the data at the end (used minus the empty filesystem's; ideal $(mib "$((total - ideal2))") MiB):"
for f in "${final[@]}"; do set -- $f; printf '  %-8s %s MiB\n' "$1" "$(mib "$2")"; done
echo "contents (sha256 of every file) unchanged by compart-dedup in every run: $contents_ok"
echo "compart-dedup JSON, last round, first run:       $(cat "$work/ours1.$ROUNDS.out")"
echo "compart-dedup JSON, last round, incremental run: $(cat "$work/ours2.$ROUNDS.out")"
echo "compart-dedup phases, last round, first run (from call()):  $(grep -h 'done at' "$work/ours1.$ROUNDS.err" | tr '\n' ' ')"
echo "compart-dedup phases, last round, incremental run:        $(grep -h 'done at' "$work/ours2.$ROUNDS.err" | tr '\n' ' ')"
js() { grep -o '"seconds": [0-9.]*' "$1" | cut -d' ' -f2; }
echo "compart-dedup JVM start and exit (whole process minus the run's own seconds), per round: first" \
     "$(for ((r = 1; r <= ROUNDS; r++)); do printf '%.2f ' "$(echo "${T[ours1.$r]} - $(js "$work/ours1.$r.out")" | bc)"; done)" \
     "incremental $(for ((r = 1; r <= ROUNDS; r++)); do printf '%.2f ' "$(echo "${T[ours2.$r]} - $(js "$work/ours2.$r.out")" | bc)"; done)"

[ "$CLONE" = 1 ] || exit 0
echo
echo "== clone: compart-volume-clone vs cp --reflink=always (median of 7, whole process, warm cache)"
for l in "${labels[@]}"; do umount "${M[$l]}"; done; mounts=(); rm -f "$work"/*.img; rm -rf "$work/pristine"
mkxfs clone 12; K=$work/clone
dd if=/dev/urandom of="$K/1g.img" bs=1M count=1024 status=none
dd if=/dev/urandom of="$K/8g.img" bs=1M count=8192 status=none
sync
median7() { # CMD...: median wall seconds of 7 runs (the destination removed before each)
    local i
    for i in 1 2 3 4 5 6 7; do
        rm -f "$K/copy.img"; sync
        local t0; t0=$(now); "$@" >/dev/null; echo "$(now) - $t0" | bc
    done | sort -g | awk '{a[NR]=$1} END {print a[4]}'
}
java=${COMPART_JAVA:-${JAVA_HOME:+$JAVA_HOME/bin/java}}
java=${java:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
for size in 1g 8g; do
    extents=$(xfs_io -c "fiemap" "$K/$size.img" | tail -n +2 | wc -l)
    l=$(load)
    c=$(median7 "$bin/compart-volume-clone" "$K/$size.img" "$K/copy.img")
    n=$(COMPART_AOT=off median7 "$bin/compart-volume-clone" "$K/$size.img" "$K/copy.img")
    p=$(median7 cp --reflink=always "$K/$size.img" "$K/copy.img")
    printf '%s image (%s extents): compart-volume-clone %.3f s (without its AOT cache %.3f s), cp --reflink=always %.3f s; load %s\n' \
        "$size" "$extents" "$c" "$n" "$p" "$l"
done
# What a JVM costs before any of our code runs: the floor of any Java command, AOT cache or not.
jvm() { "$java" -Xshare:auto -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -version 2>/dev/null; }
printf 'JVM floor (java -version with the launcher'"'"'s options): %.3f s\n' "$(median7 jvm)"
