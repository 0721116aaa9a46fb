"""Side-by-side timing of chunkwise against Dask and the zarrs_reencode I/O floor.

usage: python3 bench/compare.py [--size 512] [--chunk 128] [--threads 2] [--reps 5]
                                [--data DIR] [--json results.json]

Generates a tomography-like uint16 volume (smooth structure plus noise, Zarr v3, zstd level 1,
CHUNK^3 chunks) unless DATA/volume_zstd.zarr exists, then runs, alternating, for REPS rounds:

  copy      zarrs_reencode (the I/O floor: decode + encode every chunk), if on PATH
  clip      chunkwise run: clip(x, 10000, 40000)
  chain     chunkwise run: ((f32(x) * 1.5 + 100).clip(0, 65535) / 2) as u16
  dask-clip, dask-chain   the same pipelines in dask.array (threaded scheduler, same threads)

Every run is a separate process, started with no output present; wall time and peak RSS (GNU
time) are measured per process.
Before timing counts, chunkwise's outputs are compared with Dask's (they must be equal).
Prints a Markdown table of medians and ratios; --json saves every sample.
Needs: numpy, scipy, zarr>=3, dask[array]; the chunkwise binary (built by this script with cargo).
"""
import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Output directory name of each run (the others write to a directory named after the run).
OUTPUT_OF = {"clip": "cw-clip", "chain": "cw-chain"}
DASK_SCRIPT = """
import sys, numpy as np, dask, dask.array as da, zarr
pipe, src, out, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
x = da.from_zarr(zarr.open_array(src, mode="r"))
if pipe == "clip":
    y = da.clip(x, 10000, 40000)
else:
    y = ((x.astype(np.float32) * 1.5 + 100.0).clip(0, 65535) / 2.0).astype(np.uint16)
z = zarr.create_array(store=out, shape=y.shape, chunks=x.chunksize, dtype=y.dtype,
                      compressors=[zarr.codecs.ZstdCodec(level=1)], overwrite=True)
with dask.config.set(scheduler="threads", num_workers=threads):
    da.store(y, z, lock=False)
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

    runners = {}
    for name in ("clip", "chain"):
        p = pipeline_file(work, name, src, out(f"cw-{name}"))
        runners[name] = [cw, "run", str(p), "--quiet", "--threads", str(args.threads),
                         "--memory-limit", args.memory_limit]
        dask_py = work / "dask_pipe.py"
        dask_py.write_text(DASK_SCRIPT)
        runners[f"dask-{name}"] = [sys.executable, str(dask_py), name, str(src), str(out(f"dask-{name}")),
                                   str(args.threads)]
    if shutil.which("zarrs_reencode"):
        runners["copy"] = ["zarrs_reencode", str(src), str(out("copy")), "--concurrent-chunks", str(args.threads)]
    else:
        print("zarrs_reencode not on PATH: copy (I/O floor) skipped; cargo install zarrs_tools", file=sys.stderr)

    samples: dict[str, list[tuple[float, float]]] = {k: [] for k in runners}
    for rep in range(args.reps):
        for name, cmd in runners.items():
            # Every tool starts from no output: deleting the last round's files is not timed.
            shutil.rmtree(out(OUTPUT_OF.get(name, name)), ignore_errors=True)
            samples[name].append(timed(cmd))
        if rep == 0:
            check_equal(out)
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
        if k in ("clip", "chain"):
            ratios.append(f"dask/{k} = {med['dask-' + k] / med[k]:.2f}x")
            if "copy" in med:
                ratios.append(f"{k}/copy = {med[k] / med['copy']:.2f}x")
        if k == "chain":
            ratios.append(f"chain/clip = {med['chain'] / med['clip']:.2f}x")
        print(f"| {k} | {med[k]:.3f} | {mib / med[k]:.0f} | {rss[k]:.0f} | {', '.join(ratios)} |")
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                         "samples": samples, "median_s": med, "peak_rss_mib": rss}, indent=1))
    shutil.rmtree(work, ignore_errors=True)


def check_equal(out) -> None:
    import numpy as np
    import zarr

    for name in ("clip", "chain"):
        a = zarr.open_array(str(out(f"cw-{name}")), mode="r")[...]
        b = zarr.open_array(str(out(f"dask-{name}")), mode="r")[...]
        if a.dtype != b.dtype or not np.array_equal(a, b):
            sys.exit(f"MISMATCH: chunkwise {name} differs from dask ({(a != b).sum()} elements)")
    print("outputs equal to dask's: clip, chain", file=sys.stderr)


if __name__ == "__main__":
    main()
