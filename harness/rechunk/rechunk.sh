#!/usr/bin/env bash
# Slab-to-block rechunk (issue 18): a SIZE^3 uint16 volume stored in (1, SIZE, SIZE) slabs,
# rewritten in CHUNK^3 blocks under a memory limit, ROUNDS rounds alternating four contenders:
# chunkwise's `rechunk` op, chunkwise writing the slabs with CHUNK^3 output chunks (a plain copy
# whose output `chunks` setting rechunks, through the same planner), Dask's rechunk + to_zarr and
# Cubed's rechunk + to_zarr (allowed_mem = LIMIT). Prints each run's wall time and peak RSS, then
# the medians and the ratios peer / chunkwise. chunkwise is timed as a whole process, the Python
# peers from inside their process (imports excluded), as the harness times peers. Every output is
# zstd level 1, CHUNK^3 chunks, Zarr v3.
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
  rm -rf "$work/cubes.zarr"
fi
cat > "$work/rechunk.json" <<JSON
{"inputs": {"x": "slabs.zarr"},
 "steps": [{"id": "y", "op": "rechunk", "x": "x", "chunks": [$chunk, $chunk, $chunk],
            "max_mem": "$limit"}],
 "outputs": [{"from": "y", "path": "out.zarr"}]}
JSON
cat > "$work/copy.json" <<JSON
{"inputs": {"x": "slabs.zarr"}, "steps": [],
 "outputs": [{"from": "x", "path": "out.zarr", "chunks": [$chunk, $chunk, $chunk]}]}
JSON
echo "== plan of the rechunk op"
"$bin" plan "$work/rechunk.json" --memory-limit "$limit"
echo "== plan of the copy with output chunks"
"$bin" plan "$work/copy.json" --memory-limit "$limit"
rss() { grep "Maximum resident" "$1" | awk '{printf "%.0f MiB", $6 / 1024}'; }
declare -A times
run_cw() { # name pipeline
  rm -rf "$work/out.zarr"
  local s t
  s=$(date +%s.%N)
  /usr/bin/time -v -o "$work/time.txt" "$bin" run "$work/$2" -q --memory-limit "$limit" \
    --threads "$threads"
  t=$(echo "$(date +%s.%N) - $s" | bc)
  times[$1]+="$t "
  echo "round $r $1 ${t}s RSS $(rss "$work/time.txt")"
}
run_py() { # name script args...
  local name=$1 script=$2 out t
  shift 2
  rm -rf "$work/out.zarr" "$work/cubed-work"
  mkdir -p "$work/cubed-work"
  out=$(/usr/bin/time -v -o "$work/time.txt" python3 "$here/$script" "$@")
  t=${out##*inside_seconds=}
  times[$name]+="$t "
  echo "round $r $name ${t}s RSS $(rss "$work/time.txt")"
}
for r in $(seq "$rounds"); do
  run_cw chunkwise-rechunk rechunk.json
  run_cw chunkwise-copy copy.json
  run_py dask dask_rechunk.py "$work/slabs.zarr" "$work/out.zarr" "$chunk" "$threads"
  run_py cubed cubed_rechunk.py "$work/slabs.zarr" "$work/out.zarr" "$chunk" "$threads" \
    "$limit" "$work/cubed-work"
done
rm -rf "$work/out.zarr" "$work/cubed-work"
median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
base=$(median "${times[chunkwise-rechunk]}")
for name in chunkwise-rechunk chunkwise-copy dask cubed; do
  m=$(median "${times[$name]}")
  echo "median $name ${m}s ($(echo "scale=2; $m / $base" | bc)x chunkwise-rechunk's time)"
done
