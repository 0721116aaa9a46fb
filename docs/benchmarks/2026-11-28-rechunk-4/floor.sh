#!/usr/bin/env bash
# The codec floor of the slab-to-block rechunk, alternately with chunkwise's run and Dask's:
# `chunkwise-bench floor read` decodes every slab on all threads; `floor codec` does that, then
# encodes and writes the 128^3 output again from values loaded beforehand (untimed). Their
# inside_seconds are the floors; the codec floor's write part is codec minus read. Wall of the
# whole process, user and sys CPU, peak RSS for each.
#
# usage: floor.sh CHUNKWISE_BINARY BENCH_BINARY WORKDIR [ROUNDS=3] [LIMIT=256MiB] [THREADS=2]
set -euo pipefail
bin=$1 bench=$2 work=$3 rounds=${4:-3} limit=${5:-256MiB} threads=${6:-2}
repo=$(cd "$(dirname "$0")/../../.." && pwd)
fmt="%e %U %S %M"
line() { # name round time-file [inside-seconds]
  read -r wall user sys rss < "$3"
  echo "round $2 $1 wall $wall s inside ${4:--} s user $user s sys $sys s RSS $((rss / 1024)) MiB"
}
for r in $(seq "$rounds"); do
  rm -rf "$work/out.zarr" "$work/like.zarr" "$work/floor-out"
  /usr/bin/time -f "$fmt" -o "$work/time.txt" "$bin" run "$work/rechunk.json" -q \
    --memory-limit "$limit" --threads "$threads"
  line chunkwise "$r" "$work/time.txt"
  mv "$work/out.zarr" "$work/like.zarr"
  out=$(/usr/bin/time -f "$fmt" -o "$work/time.txt" "$bench" floor read "$work/slabs.zarr" \
    --threads "$threads")
  line floor-read "$r" "$work/time.txt" "${out##*inside_seconds=}"
  out=$(/usr/bin/time -f "$fmt" -o "$work/time.txt" "$bench" floor codec --like "$work/like.zarr" \
    --out "$work/floor-out" "$work/slabs.zarr" --threads "$threads")
  line floor-codec "$r" "$work/time.txt" "${out##*inside_seconds=}"
  rm -rf "$work/out.zarr"
  out=$(/usr/bin/time -f "$fmt" -o "$work/time.txt" python3 "$repo/harness/rechunk/dask_rechunk.py" \
    "$work/slabs.zarr" "$work/out.zarr" 128 "$threads")
  line dask "$r" "$work/time.txt" "${out##*inside_seconds=}"
  echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
done
rm -rf "$work/out.zarr" "$work/like.zarr" "$work/floor-out"
