#!/usr/bin/env bash
# Slab-to-block rechunk (issue 18): a SIZE^3 uint16 volume stored in (1, SIZE, SIZE) slabs,
# rewritten in CHUNK^3 blocks by chunkwise's `rechunk` op under a memory limit and by Dask's
# rechunk + to_zarr, alternating, ROUNDS rounds; prints each run's wall time, peak RSS, and the
# medians. chunkwise is timed as a whole process, Dask from inside its process (imports
# excluded), as the harness times peers.
#
# usage: harness/rechunk/rechunk.sh CHUNKWISE_BINARY WORKDIR [SIZE=512] [CHUNK=128]
#        [LIMIT=256MiB] [ROUNDS=3] [THREADS=2]
set -euo pipefail
bin=$1 work=$2 size=${3:-512} chunk=${4:-128} limit=${5:-256MiB} rounds=${6:-3} threads=${7:-2}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
if [ ! -d "$work/slabs.zarr" ]; then
  "$bin" generate "$work/cubes.zarr" --size "$size" --chunk "$chunk" -q
  cat > "$work/slabs.json" <<JSON
{"inputs": {"x": "cubes.zarr"}, "steps": [],
 "outputs": [{"from": "x", "path": "slabs.zarr", "chunks": [1, $size, $size]}]}
JSON
  "$bin" run "$work/slabs.json" -q
fi
cat > "$work/rechunk.json" <<JSON
{"inputs": {"x": "slabs.zarr"},
 "steps": [{"id": "y", "op": "rechunk", "x": "x", "chunks": [$chunk, $chunk, $chunk],
            "max_mem": "$limit"}],
 "outputs": [{"from": "y", "path": "blocks.zarr"}]}
JSON
"$bin" plan "$work/rechunk.json" --memory-limit "$limit" | grep -i "rechunk" || true
rss() { grep "Maximum resident" "$1" | awk '{printf "%.0f MiB", $6 / 1024}'; }
cw=() dk=()
for r in $(seq "$rounds"); do
  rm -rf "$work/blocks.zarr" "$work/dask.zarr"
  s=$(date +%s.%N)
  /usr/bin/time -v -o "$work/cw.time" "$bin" run "$work/rechunk.json" -q \
    --memory-limit "$limit" --threads "$threads"
  t=$(echo "$(date +%s.%N) - $s" | bc)
  cw+=("$t")
  echo "round $r chunkwise ${t}s RSS $(rss "$work/cw.time")"
  out=$(/usr/bin/time -v -o "$work/dask.time" python3 "$here/dask_rechunk.py" \
    "$work/slabs.zarr" "$work/dask.zarr" "$chunk" "$threads")
  t=${out#inside_seconds=}
  dk+=("$t")
  echo "round $r dask ${t}s RSS $(rss "$work/dask.time")"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
m1=$(median "${cw[@]}") m2=$(median "${dk[@]}")
echo "median chunkwise ${m1}s, dask ${m2}s, ratio dask/chunkwise $(echo "scale=2; $m2 / $m1" | bc)"
