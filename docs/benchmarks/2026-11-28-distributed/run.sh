#!/usr/bin/env bash
# Issue 14's benchmarks for distributed runs; writes results.txt beside this script.
#   1. planning and writing the plan of a 10^6-task pipeline (metadata-only 16384x16384x8192
#      uint16 input, 128^3 chunks), clip and clip -> gaussian -> downsample, and the seed chain
#      on a metadata-only 16384^3 input: `chunkwise plan` (the local planner) beside
#      `chunkwise submit --dry-run` (the distributed plan), time and peak RSS from GNU time;
#   2. run-task's per-job overhead on a 1-task range of clip on the 512^3 volume and of the
#      10^6-task metadata-only plan (its chunks read as fill value): an element
#      that computes its one task, and the same element again (its task stored: only start,
#      plan, pipeline and arrays opened);
#   3. the seed chain on the 512^3 volume through the local Slurm (2 CPUs, 1 thread per job,
#      8 tasks per job) against `chunkwise run --threads 2`, alternating, 3 rounds.
# Usage: run.sh CHUNKWISE_BINARY [WORK_DIR]
set -euo pipefail
bin=$(realpath "$1"); work=${2:-/tmp/chunkwise-distributed-bench}
here=$(cd "$(dirname "$0")" && pwd); repo=$(cd "$here/../../.." && pwd)
out=$here/results.txt
mkdir -p "$work"; cd "$work"
: > "$out"
say() { echo "$*" | tee -a "$out"; }

meta() { # meta DIR Z Y X: a metadata-only uint16 Zarr v3 array, 128^3 chunks, zstd
  mkdir -p "$1"
  cat > "$1/zarr.json" <<JSON
{"zarr_format":3,"node_type":"array","shape":[$2,$3,$4],"data_type":"uint16",
 "chunk_grid":{"name":"regular","configuration":{"chunk_shape":[128,128,128]}},
 "chunk_key_encoding":{"name":"default","configuration":{"separator":"/"}},"fill_value":0,
 "codecs":[{"name":"bytes","configuration":{"endian":"little"}},{"name":"zstd","configuration":{"level":1,"checksum":false}}],
 "attributes":{}}
JSON
}
pipeline() { # pipeline FILE INPUT KIND OUTPUT
  case $3 in
    clip) steps='[{"id":"c","op":"clip","x":"vol","min":10000,"max":40000}]'; last=c ;;
    seed) steps='[{"id":"c","op":"clip","x":"vol","min":10000,"max":40000},{"id":"g","op":"gaussian_filter","x":"c","sigma":2},{"id":"d","op":"downsample","x":"g","factors":[2,2,2],"method":"mean"}]'; last=d ;;
  esac
  echo "{\"inputs\":{\"vol\":\"$2\"},\"steps\":$steps,\"outputs\":[{\"from\":\"$last\",\"path\":\"$4\"}]}" > "$1"
}
# t LABEL CMD...: runs CMD, appends its wall time and peak RSS (GNU time) to the results.
t() { local label=$1; shift; /usr/bin/time -f "%e %M" -o time.txt "$@" > /dev/null 2> err.txt || { cat err.txt; exit 1; }
  read -r secs kb < time.txt; say "$(printf '%-62s %7.2f s %8.1f MiB' "$label" "$secs" "$(echo "scale=1; $kb/1024" | bc)")"; }

say "== 1. plans (machine shared with other sessions; $(nproc) cores)"
meta m1m.zarr 16384 16384 8192; meta m16k.zarr 16384 16384 16384
for kind in clip seed; do
  pipeline p1m_$kind.json m1m.zarr $kind out1m/$kind.zarr
  for r in 1 2 3; do
    t "submit --dry-run, 16384x16384x8192 $kind, round $r" "$bin" submit p1m_$kind.json --backend slurm --dry-run --overwrite --tasks-per-job 64
  done
  plan=out1m/p1m_$kind.chunkwise-run/plan.json
  say "   plan file: $(stat -c %s "$plan") bytes; tasks per stage: $(python3 -c "import json;print([s['tasks'] for s in json.load(open('$plan'))['stages']])")"
done
pipeline p16k_seed.json m16k.zarr seed out16k/seed.zarr
for r in 1 2 3; do
  t "plan (local planner), 16384^3 seed, round $r" "$bin" plan p16k_seed.json --memory-limit 8GiB
  t "submit --dry-run, 16384^3 seed, round $r" "$bin" submit p16k_seed.json --backend slurm --dry-run --overwrite --tasks-per-job 64
done

say "== 2. run-task overhead, 1-task ranges of clip on 512^3 (128^3 chunks)"
[ -d vol512.zarr ] || "$bin" generate vol512.zarr --size 512 --chunk 128 -q
pipeline clip512.json vol512.zarr clip out512/clip.zarr
"$bin" submit clip512.json --backend slurm --dry-run --overwrite --tasks-per-job 1 > /dev/null
plan=out512/clip512.chunkwise-run/plan.json
for i in 0 9 18 27 36; do t "run-task, 1 task computed (element $i)" "$bin" run-task $plan --stage 0 --index $i; done
for i in 0 9 18 27 36; do t "run-task, 1 task already stored (element $i)" "$bin" run-task $plan --stage 0 --index $i; done
"$bin" submit p1m_clip.json --backend slurm --dry-run --overwrite --tasks-per-job 1 > /dev/null
plan=out1m/p1m_clip.chunkwise-run/plan.json
for i in 0 1000 500000; do t "run-task, 1 task of the 1048576-task clip plan (element $i)" "$bin" run-task $plan --stage 0 --index $i; done
for i in 0 1000 500000; do t "run-task, same, already stored (element $i)" "$bin" run-task $plan --stage 0 --index $i; done
pipeline clip512_local.json vol512.zarr clip local512/clip.zarr
for r in 1 2 3; do t "run --threads 1, whole clip (64 tasks), round $r" "$bin" run clip512_local.json --threads 1 -q --overwrite; done

say "== 3. seed chain on 512^3: local Slurm (2 CPUs, 1 thread and 8 tasks per job) vs chunkwise run --threads 2"
export SLURM_LOCAL_CPUS=2
"$repo/.ci/slurm-local" start "$work/slurm" > /dev/null
trap '"$repo/.ci/slurm-local" stop "$work/slurm"' EXIT
export SLURM_CONF=$work/slurm/slurm.conf
pipeline seed512.json vol512.zarr seed slurm512/seed.zarr
pipeline seed512_local.json vol512.zarr seed local512/seed.zarr
for r in 1 2 3; do
  t "chunkwise run --threads 2, round $r" "$bin" run seed512_local.json --threads 2 -q --overwrite
  start=$(date +%s.%N)
  ids=$("$bin" submit seed512.json --backend slurm --overwrite --tasks-per-job 8 --mem-per-job 1GiB | sed -n 's/.*: job \([0-9]*\).*/\1/p' | paste -sd,)
  for _ in $(seq 600); do squeue -h -j "$ids" | grep -q . || break; sleep 0.2; done
  end=$(date +%s.%N)
  "$bin" status slurm512/seed512.chunkwise-run/plan.json | grep -q complete || { echo "slurm run incomplete"; exit 1; }
  say "$(printf '%-62s %7.2f s' "through Slurm (submit to finalized), round $r" "$(echo "$end - $start" | bc)")"
  python3 - <<PY | tee -a "$out"
import zarr, numpy as np
a = zarr.open("slurm512/seed.zarr")[:]; b = zarr.open("local512/seed.zarr")[:]
print("   same bits as the local run:", np.array_equal(a.view(np.uint32), b.view(np.uint32)))
PY
done
