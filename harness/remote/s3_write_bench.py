"""S3 to S3: a Zarr volume read from and written to a local S3 server (moto) behind the loopback
proxy of s3_bench.py, which adds a fixed delay to every request. Copy: chunkwise (whole process,
default I/O concurrency and --io-concurrency 1) vs TensorStore's s3 driver (timed inside its
process, from opening the input to the output written) vs chunkwise on local files. The seed
chain (clip, gaussian sigma 2, astype uint16, 2x mean downsample; TensorStore has no gaussian):
chunkwise S3 to S3 vs on local files. Runs alternate round by round.

usage: python3 s3_write_bench.py CHUNKWISE_BIN VOLUME.zarr WORKDIR [--rounds 3] [--delay-ms 20]
       [--threads 2]
Needs moto[server], boto3 and tensorstore (pip). Prints one line per round and a median table.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from s3_bench import bench_bucket, run_chunkwise  # noqa: E402


TS_PEER = r"""
import sys, time
import tensorstore as ts
endpoint, bucket, key, out_key, threads = sys.argv[1:6]
ctx = ts.Context({"data_copy_concurrency": {"limit": int(threads)}})
kv = {"driver": "s3", "bucket": bucket, "endpoint": endpoint, "aws_region": "us-east-1"}
start = time.perf_counter()
x = ts.open({"driver": "zarr3", "kvstore": dict(kv, path=key + "/")}, context=ctx).result()
spec = {"driver": "zarr3", "kvstore": dict(kv, path=out_key + "/"), "metadata": {
    "shape": list(x.shape), "data_type": "uint16",
    "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(x.chunk_layout.read_chunk.shape)}},
    "codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
               {"name": "zstd", "configuration": {"level": 1}}]}}
ts.open(spec, create=True, delete_existing=True, context=ctx).result().write(x).result()
print(time.perf_counter() - start)
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("chunkwise")
    ap.add_argument("volume")
    ap.add_argument("workdir")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--delay-ms", type=float, default=20)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    work = os.path.abspath(a.workdir)

    moto, env, proxied = bench_bucket(a.volume, a.delay_ms / 1000)
    try:
        steps = {
            "copy": [{"id": "y", "op": "astype", "x": "x", "dtype": "uint16"}],
            "seed": [{"id": "c", "op": "clip", "x": "x", "min": 10000, "max": 40000},
                     {"id": "g", "op": "gaussian_filter", "x": "c", "sigma": 2.0},
                     {"id": "u", "op": "astype", "x": "g", "dtype": "uint16"},
                     {"id": "y", "op": "downsample", "x": "u", "factors": [2, 2, 2],
                      "method": "mean"}],
        }
        where = {"s3": ("s3://bench/vol.zarr", "s3://bench/out-{pipe}.zarr"),
                 "local": (os.path.abspath(a.volume), os.path.join(work, "out-{pipe}.zarr"))}
        pipelines = {}
        for name, (src, dst) in where.items():
            for pipe, chain in steps.items():
                p = {"inputs": {"x": src}, "steps": chain,
                     "outputs": [{"from": "y", "path": dst.format(pipe=pipe),
                                  "codec": {"name": "zstd", "level": 1}}]}
                path = os.path.join(work, f"{pipe}-{name}.json")
                with open(path, "w") as f:
                    json.dump(p, f)
                pipelines[f"{pipe} {name}"] = path
        peer = os.path.join(work, "ts_s3_write_peer.py")
        with open(peer, "w") as f:
            f.write(TS_PEER)

        times = {"copy: chunkwise s3->s3": [], "copy: chunkwise s3->s3 io 1": [],
                 "copy: tensorstore s3->s3": [], "copy: chunkwise local": [],
                 "seed: chunkwise s3->s3": [], "seed: chunkwise local": []}
        for r in range(a.rounds):
            times["copy: chunkwise s3->s3"].append(
                run_chunkwise(a.chunkwise, pipelines["copy s3"], env, a.threads))
            out = subprocess.run([sys.executable, peer, proxied, "bench", "vol.zarr", "out-ts.zarr",
                                  str(a.threads)],
                                 check=True, env=env, capture_output=True, text=True).stdout
            times["copy: tensorstore s3->s3"].append(float(out.strip().splitlines()[-1]))
            times["copy: chunkwise s3->s3 io 1"].append(
                run_chunkwise(a.chunkwise, pipelines["copy s3"], env, a.threads,
                              ["--io-concurrency", "1"]))
            times["copy: chunkwise local"].append(
                run_chunkwise(a.chunkwise, pipelines["copy local"], env, a.threads))
            for name in ("s3", "local"):
                key = f"seed: chunkwise {'s3->s3' if name == 's3' else name}"
                times[key].append(run_chunkwise(a.chunkwise, pipelines[f"seed {name}"], env,
                                                a.threads))
            print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()),
                  flush=True)
        print(f"\nmedians over {a.rounds} rounds, {a.delay_ms:g} ms added per request, "
              f"--threads {a.threads}:")
        med = {k: statistics.median(v) for k, v in times.items()}
        for k, v in med.items():
            print(f"  {k:30s} {v:6.2f} s")
        print(f"  copy: tensorstore / chunkwise (s3->s3) = "
              f"{med['copy: tensorstore s3->s3'] / med['copy: chunkwise s3->s3']:.2f}x")
        for pipe in ("copy", "seed"):
            print(f"  {pipe}: chunkwise s3->s3 / local = "
                  f"{med[f'{pipe}: chunkwise s3->s3'] / med[f'{pipe}: chunkwise local']:.2f}x")
    finally:
        moto.kill()
        moto.wait()
        for pipe in steps:
            shutil.rmtree(os.path.join(work, f"out-{pipe}.zarr"), ignore_errors=True)


if __name__ == "__main__":
    main()
