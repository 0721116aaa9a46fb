#!/usr/bin/env bash
# A/B of two chunkwise binaries on the slab-to-block rechunk of harness/rechunk/rechunk.sh, run
# alternately with Dask's rechunk + to_zarr in the same session: wall, user and sys CPU seconds
# and peak RSS of each run (Dask's wall is timed inside its process, imports excluded, as the
# harness does; its CPU is the whole process's). Checks each chunkwise output is byte-identical
# to the first one.
#
# usage: ab.sh BASE_BINARY NEW_BINARY WORKDIR [ROUNDS=3] [LIMIT=256MiB] [THREADS=2]
# WORKDIR must hold slabs.zarr and rechunk.json as harness/rechunk/rechunk.sh leaves them.
set -euo pipefail
base=$1 new=$2 work=$3 rounds=${4:-3} limit=${5:-256MiB} threads=${6:-2}
repo=$(cd "$(dirname "$0")/../../.." && pwd)
fmt="%e %U %S %M"
line() { # name round time-file [inside-seconds]
  read -r wall user sys rss < "$3"
  echo "round $2 $1 wall ${4:-$wall} s user $user s sys $sys s RSS $((rss / 1024)) MiB"
}
for r in $(seq "$rounds"); do
  for name in base new; do
    bin=$base
    [ "$name" = new ] && bin=$new
    rm -rf "$work/out.zarr"
    /usr/bin/time -f "$fmt" -o "$work/time.txt" "$bin" run "$work/rechunk.json" -q \
      --memory-limit "$limit" --threads "$threads"
    line "chunkwise-$name" "$r" "$work/time.txt"
    if [ -d "$work/first.zarr" ]; then
      diff -r -q "$work/out.zarr" "$work/first.zarr" > /dev/null || { echo "outputs differ"; exit 1; }
    else
      mv "$work/out.zarr" "$work/first.zarr"
    fi
  done
  rm -rf "$work/out.zarr"
  out=$(/usr/bin/time -f "$fmt" -o "$work/time.txt" python3 "$repo/harness/rechunk/dask_rechunk.py" \
    "$work/slabs.zarr" "$work/out.zarr" 128 "$threads")
  line dask "$r" "$work/time.txt" "${out##*inside_seconds=}"
  echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
done
rm -rf "$work/out.zarr" "$work/first.zarr"
