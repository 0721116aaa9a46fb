"""Side-by-side timing of chunkwise against Dask, TensorStore and the zarrs_reencode I/O floor.

usage: python3 bench/compare.py [--size 512] [--chunk 128] [--threads 2] [--reps 5]
                                [--pipelines clip,chain,downsample,upsample,pyramid]
                                [--data DIR] [--json results.json]

Generates a tomography-like uint16 volume (smooth structure plus noise, Zarr v3, zstd level 1,
CHUNK^3 chunks) unless DATA/volume_zstd.zarr exists, then runs, alternating, for REPS rounds:

  copy        zarrs_reencode (the I/O floor: decode + encode every chunk), if on PATH
  clip        clip(x, 10000, 40000)
  chain       ((f32(x) * 1.5 + 100).clip(0, 65535) / 2) as u16
  downsample  2x2x2 mean (chunkwise and TensorStore round half to even; Dask's coarsen truncates)
  upsample    2x nearest
  gaussian    gaussian_filter sigma 2, reflect, float32 out (Dask: map_overlap + scipy.ndimage)
  seed        clip -> gaussian -> astype uint16 -> 2x mean downsample
  pyramid     chunkwise: OME-Zarr with level 0 plus 3 mean levels, all in one run; Dask: the 3
              downsampled levels only, each written then re-read (what the peer script does)
  each as chunkwise, dask-NAME (threaded scheduler, same threads) and, for downsample,
  tensorstore-downsample (same concurrency limits).

Every run is a separate process, started with no output present; wall time and peak RSS (GNU
time) are measured per process.
Before timing counts, chunkwise's outputs are compared with Dask's (they must be equal).
Prints a Markdown table of medians and ratios; --json saves every sample.
Needs: numpy, scipy, zarr>=3, dask[array]; the chunkwise binary (built by this script with cargo).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Output directory name of each run (the others write to a directory named after the run).
OUTPUT_OF = {name: f"cw-{name}" for name in
             ("clip", "chain", "downsample", "upsample", "gaussian", "seed", "pyramid")}
DASK_SCRIPT = """
import sys, numpy as np, dask, dask.array as da, zarr
pipe, src, out, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
x = da.from_zarr(zarr.open_array(src, mode="r"))

def store(y, path):
    z = zarr.create_array(store=path, shape=y.shape, chunks=x.chunksize, dtype=y.dtype,
                          compressors=[zarr.codecs.ZstdCodec(level=1)], overwrite=True)
    da.store(y.rechunk(x.chunksize), z, lock=False)

def gauss(a, sigma=2.0):
    from scipy import ndimage
    depth = int(4 * sigma + 0.5)
    return a.astype(np.float32).map_overlap(ndimage.gaussian_filter, depth=depth, boundary="reflect",
                                            sigma=sigma, mode="reflect", dtype=np.float32)

def down2(a):
    return da.coarsen(np.mean, a.astype(np.float32), {0: 2, 1: 2, 2: 2}, trim_excess=False).astype(np.uint16)

with dask.config.set(scheduler="threads", num_workers=threads):
    if pipe == "clip":
        store(da.clip(x, 10000, 40000), out)
    elif pipe == "chain":
        store(((x.astype(np.float32) * 1.5 + 100.0).clip(0, 65535) / 2.0).astype(np.uint16), out)
    elif pipe == "downsample":
        store(down2(x), out)
    elif pipe == "upsample":
        store(da.repeat(da.repeat(da.repeat(x, 2, axis=0), 2, axis=1), 2, axis=2), out)
    elif pipe == "gaussian":
        store(gauss(x), out)
    elif pipe == "seed":
        store(down2(gauss(da.clip(x, 10000, 40000)).astype(np.uint16)), out)
    elif pipe == "pyramid":
        level = x
        for k in (1, 2, 3):
            store(down2(level), f"{out}/{k}")
            level = da.from_zarr(zarr.open_array(f"{out}/{k}", mode="r"))
"""

TENSORSTORE_SCRIPT = """
import sys, tensorstore as ts
src, out, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
ctx = ts.Context({"data_copy_concurrency": {"limit": threads}, "file_io_concurrency": {"limit": 2 * threads}})
x = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": src}}, context=ctx).result()
y = ts.downsample(x, [2, 2, 2], "mean")
spec = {"driver": "zarr3", "kvstore": {"driver": "file", "path": out}, "metadata": {
    "shape": list(y.shape), "data_type": "uint16",
    "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(x.chunk_layout.read_chunk.shape)}},
    "codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
               {"name": "zstd", "configuration": {"level": 1}}]}}
ts.open(spec, create=True, context=ctx).result().write(y).result()
"""


def make_volume(path: Path, size: int, chunk: int) -> None:
    import numpy as np
    import zarr
    from scipy import ndimage

    rng = np.random.default_rng(42)
    coarse = rng.normal(size=(max(size // 16, 2),) * 3).astype(np.float32)
    field = ndimage.zoom(coarse, size / coarse.shape[0], order=1)[:size, :size, :size]
    vol = (field - field.min()) / (field.max() - field.min())
    vol = (vol * 40000 + 5000 + rng.normal(scale=800, size=vol.shape)).clip(0, 65535).astype(np.uint16)
    z = zarr.create_array(store=str(path), shape=vol.shape, chunks=(chunk,) * 3, dtype=vol.dtype,
                          compressors=[zarr.codecs.ZstdCodec(level=1)], overwrite=True, zarr_format=3)
    z[:] = vol


def pipeline_file(work: Path, name: str, src: Path, out: Path) -> Path:
    steps = {
        "clip": [{"id": "y", "op": "clip", "x": "x", "min": 10000, "max": 40000}],
        "downsample": [{"id": "y", "op": "downsample", "x": "x", "factors": [2, 2, 2], "method": "mean"}],
        "upsample": [{"id": "y", "op": "upsample", "x": "x", "factors": [2, 2, 2], "method": "nearest"}],
        "gaussian": [{"id": "y", "op": "gaussian_filter", "x": "x", "sigma": [2.0, 2.0, 2.0]}],
        "seed": [
            {"id": "c", "op": "clip", "x": "x", "min": 10000, "max": 40000},
            {"id": "g", "op": "gaussian_filter", "x": "c", "sigma": [2.0, 2.0, 2.0]},
            {"id": "u", "op": "astype", "x": "g", "dtype": "uint16"},
            {"id": "y", "op": "downsample", "x": "u", "factors": [2, 2, 2], "method": "mean"},
        ],
        "chain": [
            {"id": "f", "op": "astype", "x": "x", "dtype": "float32"},
            {"id": "m", "op": "mul", "x": "f", "y": 1.5},
            {"id": "a", "op": "add", "x": "m", "y": 100},
            {"id": "c", "op": "clip", "x": "a", "min": 0, "max": 65535},
            {"id": "d", "op": "div", "x": "c", "y": 2},
            {"id": "y", "op": "astype", "x": "d", "dtype": "uint16"},
        ],
    }[name]
    spec = {"inputs": {"x": str(src)}, "steps": steps,
            "outputs": [{"from": "y", "path": str(out), "codec": {"name": "zstd", "level": 1}}]}
    p = work / f"{name}.json"
    p.write_text(json.dumps(spec))
    return p


def timed(cmd: list[str]) -> tuple[float, float]:
    """Runs cmd, returns (wall seconds, peak RSS MiB) of that process alone.

    Peak RSS comes from GNU time, not from this process's wait4: a child forked from a large
    Python parent inherits the parent's high-water mark."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss_file:
        t = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file.name, *cmd],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wall = time.perf_counter() - t
        if proc.returncode != 0:
            sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr.decode()}")
        rss_kib = float(rss_file.read().strip().splitlines()[-1])
    return wall, rss_kib / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--chunk", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--memory-limit", default="2GiB")
    ap.add_argument("--pipelines", default="clip,chain,downsample,upsample,gaussian,seed,pyramid")
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "chunkwise-bench")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "chunkwise"], cwd=ROOT, check=True)
    cw = str(ROOT / "target" / "release" / "chunkwise")
    data = args.data / f"{args.size}_{args.chunk}"
    src = data / "volume_zstd.zarr"
    if not (src / "zarr.json").exists():
        print(f"generating {src} ...", file=sys.stderr)
        data.mkdir(parents=True, exist_ok=True)
        make_volume(src, args.size, args.chunk)
    work = Path(tempfile.mkdtemp(prefix="chunkwise-compare-"))
    out = lambda name: work / f"{name}.zarr"  # noqa: E731

    pipelines = args.pipelines.split(",")
    dask_py = work / "dask_pipe.py"
    dask_py.write_text(DASK_SCRIPT)
    ts_py = work / "ts_pipe.py"
    ts_py.write_text(TENSORSTORE_SCRIPT)
    have_ts = subprocess.run([sys.executable, "-c", "import tensorstore"], capture_output=True).returncode == 0
    common = ["--quiet", "--threads", str(args.threads), "--memory-limit", args.memory_limit]
    runners = {}
    if shutil.which("zarrs_reencode"):
        runners["copy"] = ["zarrs_reencode", str(src), str(out("copy")), "--concurrent-chunks", str(args.threads)]
    else:
        print("zarrs_reencode not on PATH: copy (I/O floor) skipped; cargo install zarrs_tools", file=sys.stderr)
    for name in pipelines:
        if name == "pyramid":
            runners[name] = [cw, "pyramid", str(src), str(out(OUTPUT_OF[name])), "--levels", "3", *common]
        else:
            p = pipeline_file(work, name, src, out(OUTPUT_OF[name]))
            runners[name] = [cw, "run", str(p), *common]
        runners[f"dask-{name}"] = [sys.executable, str(dask_py), name, str(src), str(out(f"dask-{name}")),
                                   str(args.threads)]
        if name == "downsample":
            if have_ts:
                runners["tensorstore-downsample"] = [sys.executable, str(ts_py), str(src),
                                                     str(out("tensorstore-downsample")), str(args.threads)]
            else:
                print("tensorstore not installed: tensorstore-downsample skipped", file=sys.stderr)

    samples: dict[str, list[tuple[float, float]]] = {k: [] for k in runners}
    for rep in range(args.reps):
        for name, cmd in runners.items():
            # Every tool starts from no output, with the previous run's dirty pages already on
            # disk (writeback of 2 GiB would otherwise slow whoever runs next): not timed.
            shutil.rmtree(out(OUTPUT_OF.get(name, name)), ignore_errors=True)
            os.sync()
            samples[name].append(timed(cmd))
        if rep == 0:
            check_outputs(out, runners)
        print(f"round {rep + 1}/{args.reps} done", file=sys.stderr)

    med = {k: statistics.median(w for w, _ in v) for k, v in samples.items()}
    rss = {k: max(r for _, r in v) for k, v in samples.items()}
    mib = args.size ** 3 * 2 / 2 ** 20
    print(f"\n{args.size}^3 uint16 zstd-1, {args.chunk}^3 chunks, {args.threads} threads, "
          f"{args.reps} alternating rounds, median wall time\n")
    print("| run | median s | MiB/s of input | peak RSS MiB | ratios |")
    print("|---|---|---|---|---|")
    for k in runners:
        ratios = []
        for peer in (f"dask-{k}", f"tensorstore-{k}"):
            if peer in med:
                ratios.append(f"{peer.split('-')[0]}/chunkwise = {med[peer] / med[k]:.2f}x")
        if k in ("clip", "chain") and "copy" in med:
            ratios.append(f"{k}/copy = {med[k] / med['copy']:.2f}x")
        if k == "chain" and "clip" in med:
            ratios.append(f"chain/clip = {med['chain'] / med['clip']:.2f}x")
        print(f"| {k} | {med[k]:.3f} | {mib / med[k]:.0f} | {rss[k]:.0f} | {', '.join(ratios)} |")
    print(f"\nmemory limit given to chunkwise: {args.memory_limit}")
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                         "samples": samples, "median_s": med, "peak_rss_mib": rss}, indent=1))
    shutil.rmtree(work, ignore_errors=True)


def check_outputs(out, runners) -> None:
    """Chunkwise must equal the peer that shares its semantics exactly; Dask's coarsen truncates
    its float mean where TensorStore and chunkwise round, so against Dask a mean may differ by 1
    per level."""
    import numpy as np
    import zarr

    def read(name, sub=""):
        return zarr.open_array(str(out(name)) + sub, mode="r")[...]

    def compare(label, a, b, tolerance):
        if a.shape != b.shape or a.dtype != b.dtype:
            sys.exit(f"MISMATCH {label}: {a.shape} {a.dtype} vs {b.shape} {b.dtype}")
        if a.dtype.kind == "f":
            if not np.allclose(a, b, rtol=1e-5, atol=1e-5 * float(np.abs(b).max())):
                sys.exit(f"MISMATCH {label}: max difference {float(np.abs(a - b).max())}")
            print(f"checked {label}: within 1e-5", file=sys.stderr)
            return
        worst = int(np.abs(a.astype(np.int64) - b.astype(np.int64)).max()) if a.size else 0
        if worst > tolerance:
            sys.exit(f"MISMATCH {label}: differs by up to {worst} (allowed {tolerance})")
        print(f"checked {label}: max difference {worst}", file=sys.stderr)

    for name in ("clip", "chain", "upsample"):
        if name in runners:
            compare(f"{name} vs dask", read(f"cw-{name}"), read(f"dask-{name}"), 0)
    if "downsample" in runners:
        if "tensorstore-downsample" in runners:
            compare("downsample vs tensorstore", read("cw-downsample"), read("tensorstore-downsample"), 0)
        compare("downsample vs dask", read("cw-downsample"), read("dask-downsample"), 1)
    if "gaussian" in runners:
        compare("gaussian vs dask+scipy", read("cw-gaussian"), read("dask-gaussian"), 0)
    if "seed" in runners:
        compare("seed vs dask+scipy", read("cw-seed"), read("dask-seed"), 2)
    if "pyramid" in runners:
        for k in (1, 2, 3):
            compare(f"pyramid level {k} vs dask", read("cw-pyramid", f"/{k}"), read("dask-pyramid", f"/{k}"), k)


if __name__ == "__main__":
    main()
