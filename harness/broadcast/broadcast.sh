#!/usr/bin/env bash
# Broadcasting cost (issue 18): the 5-op chain ((f32(x) * 1.5 + 100).clip(0, 65535) / d) as
# uint16 on a SIZE^3 uint16 volume, with d the scalar 2 ("scalar") and with d a per-slice mean of
# shape (SIZE, 1, 1) stored beside it ("broadcast", read by each task for its z range only), and
# Dask's broadcast version; alternating, ROUNDS rounds, wall times and medians. chunkwise is
# timed as a whole process, Dask from inside its process (imports excluded).
#
# usage: harness/broadcast/broadcast.sh CHUNKWISE_BINARY WORKDIR [SIZE=512] [ROUNDS=3] [THREADS=2]
set -euo pipefail
bin=$1 work=$2 size=${3:-512} rounds=${4:-3} threads=${5:-2}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
[ -d "$work/in.zarr" ] || "$bin" generate "$work/in.zarr" --size "$size" -q
chain='{"id": "f", "op": "astype", "x": "x", "dtype": "float32"},
  {"id": "m", "op": "mul", "x": "f", "y": 1.5},
  {"id": "a", "op": "add", "x": "m", "y": 100},
  {"id": "c", "op": "clip", "x": "a", "min": 0, "max": 65535},'
if [ ! -d "$work/mean.zarr" ]; then
  cat > "$work/mean.json" <<JSON
{"inputs": {"x": "in.zarr"},
 "steps": [
  {"id": "r", "op": "reduce", "x": "x", "reduction": "mean", "axes": [1, 2], "keepdims": true},
  {"id": "s", "op": "astype", "x": "r", "dtype": "float32"}],
 "outputs": [{"from": "s", "path": "mean.zarr"}]}
JSON
  "$bin" run "$work/mean.json" -q
fi
for kind in scalar broadcast; do
  d=2
  [ "$kind" = broadcast ] && d='"mean"'
  cat > "$work/$kind.json" <<JSON
{"inputs": {"x": "in.zarr", "mean": "mean.zarr"},
 "steps": [$chain
  {"id": "d", "op": "div", "x": "c", "y": $d},
  {"id": "y", "op": "astype", "x": "d", "dtype": "uint16"}],
 "outputs": [{"from": "y", "path": "$kind.out.zarr"}]}
JSON
done
declare -A times
for r in $(seq "$rounds"); do
  for kind in scalar broadcast; do
    rm -rf "$work/$kind.out.zarr"
    s=$(date +%s.%N)
    "$bin" run "$work/$kind.json" -q --threads "$threads"
    t=$(echo "$(date +%s.%N) - $s" | bc)
    times[$kind]+="$t "
    echo "round $r chunkwise $kind ${t}s"
  done
  rm -rf "$work/dask.out.zarr"
  out=$(python3 "$here/dask_broadcast.py" "$work/in.zarr" "$work/mean.zarr" "$work/dask.out.zarr" \
    "$threads")
  times[dask]+="${out#inside_seconds=} "
  echo "round $r dask broadcast ${out#inside_seconds=}s"
done
median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
s=$(median "${times[scalar]}") b=$(median "${times[broadcast]}") k=$(median "${times[dask]}")
echo "median chunkwise scalar ${s}s, broadcast ${b}s (x$(echo "scale=2; $b / $s" | bc)), dask broadcast ${k}s (x$(echo "scale=2; $k / $b" | bc) of chunkwise broadcast)"
