#!/usr/bin/env bash
# import-bench.sh: first import of a generated Maildir, measured side by side in one run against a
# bare GMime parse (our floor), `notmuch new` and `mu index` (DESIGN.md section 6). See bench/README.md.
#
#   bench/import-bench.sh [-b BUILDDIR] [-s "10000 100000"] [-S SEED] [-r N] [-o FILE] [-P] [-k]
#
#   -b BUILDDIR  meson build directory with cli/salesgetter and bench/bare-gmime (default: /tmp/build-bench,
#                else ./build)
#   -s SIZES     message counts, space separated (default "10000 100000"; or $SIZES)
#   -S SEED      generator seed (default 1)
#   -r N         run bare-gmime and salesgetter N times and report the median wall time (default 3;
#                notmuch and mu, minutes each at 100k, run once)
#   -o FILE      also write the markdown report to FILE
#   -P           skip the peers (notmuch, mu)
#   -k           keep the stores and indexes of the last size (in $SG_BENCH_DIR/run)
#
# Generated Maildirs are cached in $SG_BENCH_DIR (default /tmp/sg-bench), one per size, seed and version
# of the generator.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(dirname "$here")
build=""
sizes=${SIZES:-"10000 100000"}
seed=1
out=""
peers=1
keep=0
repeats=3
cache=${SG_BENCH_DIR:-/tmp/sg-bench}

usage() { sed -n '4,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2; }
while getopts "b:s:S:r:o:Pkh" opt; do
  case $opt in
    b) build=$OPTARG ;;
    s) sizes=$OPTARG ;;
    S) seed=$OPTARG ;;
    r) repeats=$OPTARG ;;
    o) out=$OPTARG ;;
    P) peers=0 ;;
    k) keep=1 ;;
    *) usage ;;
  esac
done
if [ -z "$build" ]; then
  for b in /tmp/build-bench "$src/build"; do
    if [ -x "$b/cli/salesgetter" ]; then build=$b; break; fi
  done
fi
sg=$build/cli/salesgetter
bare=$build/bench/bare-gmime
for f in "$sg" "$bare"; do
  [ -x "$f" ] || { echo "import-bench: $f missing; build first (ninja -C BUILDDIR)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "import-bench: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
if [ $peers = 1 ]; then
  for t in notmuch mu; do
    command -v $t >/dev/null || { echo "import-bench: $t missing (apt-get install notmuch maildir-utils), or use -P" >&2; exit 1; }
  done
fi

commit=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo '?')
if [ -n "$(git -C "$src" status --porcelain --untracked-files=no -- core common cli 2>/dev/null)" ]; then
  commit="$commit+changes"
fi
mkdir -p "$cache"
run=$cache/run
rows=()
rss_sg=()

# Reads every file once so that every tool starts from the same warm page cache.
warm() { find "$1" -type f -print0 | xargs -0 cat > /dev/null; }

# measure NAME N RUNS COUNT_CMD [PREPARE] -- CMD...: wall seconds (median of RUNS) and peak RSS (the
# largest) of CMD and its children from /usr/bin/time, each run from a warm page cache after PREPARE
# (which starts it afresh); messages/s over the N messages of the corpus; COUNT_CMD says how many
# messages the tool stored.
measure() {
  local name=$1 n=$2 runs=$3 count_cmd=$4 prepare=$5
  shift 6
  local tf=$run/time.$$ log=$run/$name.log walls=() cpus=() rss=0 wall r u sy k cpu
  for ((k = 0; k < runs; k++)); do
    eval "$prepare"
    warm "$dir"
    if ! /usr/bin/time -f '%e %M %U %S' -o "$tf" "$@" > "$log" 2>&1; then
      echo "import-bench: $name failed, see $log:" >&2
      tail -5 "$log" >&2
      rows+=("| $n | $name | failed | | | | | |")
      last_wall=""
      return
    fi
    read -r wall r u sy < <(tail -1 "$tf")
    walls+=("$wall")
    cpus+=("$(awk -v u="$u" -v s="$sy" 'BEGIN { printf "%.2f", u + s }')")
    [ "$r" -gt "$rss" ] && rss=$r
  done
  wall=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
  cpu=$(printf '%s\n' "${cpus[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
  local stored rate ratio mb
  stored=$(eval "$count_cmd" 2>/dev/null || echo "?")
  rate=$(awk -v n="$n" -v w="$wall" 'BEGIN { printf "%.0f", (w > 0 ? n / w : 0) }')
  ratio=$(awk -v w="$wall" -v b="${bare_wall:-0}" 'BEGIN { if (b > 0) printf "%.2fx", w / b; else print "-" }')
  mb=$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')
  rows+=("| $n | $name | $wall | $cpu | $rate | $mb | $ratio | $stored |")
  printf '  %-14s %8s s (CPU %s s) %8s msgs/s %8s MB  stored %s  (runs: %s)\n' "$name" "$wall" "$cpu" "$rate" "$mb" "$stored" \
    "${walls[*]}" >&2
  last_wall=$wall
  last_rss=$rss
}

# A cached corpus is reused only if the generator is unchanged.
gen=$(md5sum "$src/tests/gen/gen-maildir.py" | cut -c1-8)
for n in $sizes; do
  dir=$cache/maildir-$n-s$seed-$gen
  conf=$dir.conf
  if [ ! -f "$dir.done" ]; then
    echo "import-bench: generating $n messages into $dir" >&2
    rm -rf "$dir" "$dir.tmp"
    start=$(date +%s.%N)
    python3 "$src/tests/gen/gen-maildir.py" --out "$dir.tmp" --count "$n" --seed "$seed" --config "$conf"
    mv "$dir.tmp" "$dir"
    sed -i "s|^paths=.*|paths=$dir;|" "$conf"
    awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f\n", e - s }' > "$dir.done"
  fi
  mb=$(du -sm "$dir" | cut -f1)
  echo "import-bench: $n messages, $mb MB in $dir" >&2
  rm -rf "$run"
  mkdir -p "$run"
  bare_wall=""

  measure bare-gmime "$n" "$repeats" "grep -o '^[0-9]* messages' $run/bare-gmime.log | cut -d' ' -f1" "" \
    -- "$bare" "$dir"
  bare_wall=$last_wall

  measure salesgetter "$n" "$repeats" "sqlite3 $run/fresh.db 'SELECT count(*) FROM interactions'" \
    "rm -f $run/fresh.db $run/fresh.db-wal $run/fresh.db-shm" \
    -- "$sg" --store "$run/fresh.db" --config "$conf" import -q "$dir"
  rss_sg+=("$n:$last_rss")

  # The same without reading message text (issue 9): what text, signature facts, vCards and topics cost.
  measure "salesgetter --no-content" "$n" "$repeats" "sqlite3 $run/fresh0.db 'SELECT count(*) FROM interactions'" \
    "rm -f $run/fresh0.db $run/fresh0.db-wal $run/fresh0.db-shm" \
    -- "$sg" --store "$run/fresh0.db" --config "$conf" import -q --no-content "$dir"

  # The same on one thread (--jobs 1): what the import costs without the parse running beside the store.
  measure "salesgetter -j1" "$n" "$repeats" "sqlite3 $run/fresh1.db 'SELECT count(*) FROM interactions'" \
    "rm -f $run/fresh1.db $run/fresh1.db-wal $run/fresh1.db-shm" \
    -- "$sg" --store "$run/fresh1.db" --config "$conf" import -q --jobs 1 "$dir"

  if [ $peers = 1 ]; then
    mkdir -p "$run/notmuch"
    cat > "$run/notmuch-config" <<EOF
[database]
path=$run/notmuch
mail_root=$dir
[user]
name=Julia Hoffmann
primary_email=julia.hoffmann@ourco.example
[new]
tags=unread;inbox;
[maildir]
synchronize_flags=true
EOF
    export NOTMUCH_CONFIG=$run/notmuch-config
    measure "notmuch new" "$n" 1 "notmuch count --output=messages '*'" "" -- notmuch new
    unset NOTMUCH_CONFIG

    measure "mu index" "$n" 1 "grep -ao 'updated/new: [0-9]*' '$run/mu index.log' | tail -1 | cut -d' ' -f2" "" -- \
      bash -c "mu init --maildir='$dir' --muhome='$run/mu' --my-address=julia.hoffmann@ourco.example && mu index --muhome='$run/mu'"
  fi
done

cpu=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
mem=$(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo)
{
  echo "Import benchmark, $(date -u +%Y-%m-%d), $(nproc) cores ($cpu), $mem RAM, warm page cache,"
  echo "median of $repeats runs for bare-gmime and salesgetter, one run for notmuch and mu;"
  echo "salesgetter $("$sg" --version | awk '{print $2}') (source $commit), notmuch $(notmuch --version 2>/dev/null | awk '{print $2}'), mu $(mu --version 2>/dev/null | awk 'NR==1 {print $NF}'), generator seed $seed."
  echo
  echo "| messages | tool | wall s | CPU s | msgs/s | peak RSS MB | vs bare GMime | stored |"
  echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${rows[@]}"
  if [ ${#rss_sg[@]} -gt 1 ]; then
    echo
    printf 'salesgetter import peak RSS by size:'
    for r in "${rss_sg[@]}"; do
      printf ' %s messages %.1f MB;' "${r%%:*}" "$(awk -v k="${r#*:}" 'BEGIN { print k / 1024 }')"
    done
    echo
  fi
} | tee ${out:+"$out"}

[ $keep = 1 ] || rm -rf "$run"
