"""The Python package's benchmarks (issue 16), reported in docs/benchmarks/2026-11-28-python/report.md:

1. the seed chain (astype float32, *1.5, +100, clip, /2, astype uint16) through the Python API
   against the CLI running the same pipeline file;
2. map_blocks with a NumPy function against Dask's map_blocks with the same function, both
   writing zstd level 1 Zarr v3 chunks, at 1 and 2 threads (time inside the process).

    python3 python/bench/compare.py VOLUME.zarr CHUNKWISE_BINARY [--repeats 3]

VOLUME.zarr: the demo volume (`chunkwise generate` or `chunkwise demo`).
"""

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

import chunkwise as cw

CHAIN = [
    {"id": "f", "op": "astype", "x": "vol", "dtype": "float32"},
    {"id": "s", "op": "mul", "x": "f", "y": 1.5},
    {"id": "a", "op": "add", "x": "s", "y": 100},
    {"id": "c", "op": "clip", "x": "a", "min": 0, "max": 65535},
    {"id": "h", "op": "div", "x": "c", "y": 2},
    {"id": "out", "op": "astype", "x": "h", "dtype": "uint16"},
]


def f(block):
    return np.clip(block, 10000, 40000)


def best(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("volume")
    p.add_argument("binary")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    volume = Path(args.volume).resolve()
    work = Path(tempfile.mkdtemp(prefix="cw-bench-"))
    results = {}
    try:
        pipe = work / "chain.json"
        pipe.write_text(json.dumps({"inputs": {"vol": str(volume)}, "steps": CHAIN,
                                    "outputs": [{"from": "out", "path": str(work / "cli.zarr")}]}))
        results["chain_cli_s"] = best(
            lambda: subprocess.run([args.binary, "run", str(pipe), "--overwrite", "--quiet"], check=True),
            args.repeats)
        x = cw.open(volume)
        chain = ((x.astype("float32") * 1.5 + 100).clip(0, 65535) / 2).astype("uint16")
        results["chain_python_s"] = best(
            lambda: chain.to_zarr(work / "py.zarr", overwrite=True, progress=False), args.repeats)

        import dask
        import dask.array as da
        import zarr

        src = zarr.open_array(volume, mode="r")
        for threads in (1, 2):
            results[f"map_blocks_chunkwise_{threads}t_s"] = best(
                lambda: x.map_blocks(f).to_zarr(work / "mb.zarr", overwrite=True, threads=threads,
                                                progress=False), args.repeats)

            def run_dask():
                out = zarr.create_array(work / "dask.zarr", shape=src.shape, chunks=src.chunks,
                                        dtype=src.dtype, compressors=zarr.codecs.ZstdCodec(level=1),
                                        overwrite=True)
                d = da.from_zarr(src).map_blocks(f, dtype=src.dtype)
                with dask.config.set(scheduler="threads", num_workers=threads):
                    da.store(d, out, lock=False)

            results[f"map_blocks_dask_{threads}t_s"] = best(run_dask, args.repeats)
        print(json.dumps(results, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
