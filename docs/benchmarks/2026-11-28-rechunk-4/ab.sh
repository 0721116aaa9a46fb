#!/usr/bin/env bash
# A/B of two chunkwise binaries on the slab-to-block rechunk of harness/rechunk/rechunk.sh, run
# alternately with Dask's rechunk + to_zarr and, given the harness binary, the codec floor, in
# the same session. Prints wall, user and sys CPU seconds and peak RSS of each run. Dask's and
# the floors' wall are timed inside their process (imports and the floor's untimed loading
# excluded), as the harness does; CPU is always the whole process's. `floor read` decodes every
# slab on all threads; `floor codec` does that, then encodes and writes the (identical) 128^3
# output of the chunkwise runs again from values loaded beforehand. Checks that every chunkwise
# output is byte-identical to the first one.
#
# usage: ab.sh BASE_BINARY NEW_BINARY WORKDIR [ROUNDS=3] [BENCH_BINARY] [LIMIT=256MiB]
#        [THREADS=2]
# WORKDIR must hold slabs.zarr and rechunk.json as harness/rechunk/rechunk.sh leaves them
# (SIZE 1024, CHUNK 128).
set -euo pipefail
base=$1 new=$2 work=$3 rounds=${4:-3} bench=${5:-} limit=${6:-256MiB} threads=${7:-2}
repo=$(cd "$(dirname "$0")/../../.." && pwd)
fmt="%e %U %S %M"
timed() { # name round inside-seconds-or-empty command...
  local name=$1 round=$2 inside=$3 wall user sys rss
  read -r wall user sys rss < "$work/time.txt"
  echo "round $round $name wall ${inside:-$wall} s user $user s sys $sys s RSS $((rss / 1024)) MiB"
}
inside() { # command...: runs it under time, prints its inside_seconds
  local out
  out=$(/usr/bin/time -f "$fmt" -o "$work/time.txt" "$@")
  echo "${out##*inside_seconds=}"
}
rm -rf "$work/out.zarr" "$work/first.zarr"
for r in $(seq "$rounds"); do
  for name in base new; do
    bin=$base
    [ "$name" = new ] && bin=$new
    rm -rf "$work/out.zarr"
    /usr/bin/time -f "$fmt" -o "$work/time.txt" "$bin" run "$work/rechunk.json" -q \
      --memory-limit "$limit" --threads "$threads"
    timed "chunkwise-$name" "$r" ""
    if [ -d "$work/first.zarr" ]; then
      diff -r -q "$work/out.zarr" "$work/first.zarr" > /dev/null || { echo "outputs differ"; exit 1; }
    else
      mv "$work/out.zarr" "$work/first.zarr"
    fi
  done
  if [ -n "$bench" ]; then
    t=$(inside "$bench" floor read "$work/slabs.zarr" --threads "$threads")
    timed floor-read "$r" "$t"
    rm -rf "$work/floor-out"
    t=$(inside "$bench" floor codec --like "$work/first.zarr" --out "$work/floor-out" \
      "$work/slabs.zarr" --threads "$threads")
    timed floor-codec "$r" "$t"
    rm -rf "$work/floor-out"
  fi
  rm -rf "$work/out.zarr"
  t=$(inside python3 "$repo/harness/rechunk/dask_rechunk.py" "$work/slabs.zarr" "$work/out.zarr" \
    128 "$threads")
  timed dask "$r" "$t"
  echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
done
rm -rf "$work/out.zarr" "$work/first.zarr"
