"""The Python package's benchmarks (issue 16):

1. the seed chain (clip 10000..40000 -> gaussian_filter sigma 2 -> astype uint16 -> 2x mean
   downsample, the harness's `seed` pipeline) through the Python API against the CLI running
   the same pipeline file;
2. `x.map_blocks(f)` with `f = lambda b: np.clip(b, 1e4, 4e4)` against Dask's `map_blocks` with
   the same function (+ `da.store` into a zstd-1 Zarr v3 array), at 1 and 2 threads, and
   chunkwise again with `max_elements=2**17` (f on slabs of 8 rows of a chunk, `*_slabs`);
3. (`--only floor`) what map_blocks cannot go below: chunkwise copying the volume without `f`
   (read, decode, encode, write) at 1 and 2 threads, `f` plus the cast of its result on every
   block in memory, and (`overlap_chunkwise`, 2 threads) the seconds during which two calls of
   `f` ran at once beside the seconds spent in `f` (in the wall and CPU columns).

Every measurement is its own process (`--one CASE`), so no run inherits another's allocator or
page cache state beyond the machine's; the cases alternate, in an order rotated every round, and
the report gives medians. The Python cases are timed inside the process, from opening the input
to the output written (interpreter start-up and imports excluded); the CLI as a whole process.
Beside the wall time each case reports the CPU time its process used over the same span (user +
system, all threads): on a shared, overloaded machine wall times stretch with the load, CPU
times much less, so both are given.
`--before DIR` adds the chunkwise cases run with another build of the package (a directory
holding a `chunkwise/` package, put first on PYTHONPATH), for before/after figures.

    python3 python/bench/compare.py VOLUME.zarr --cli target/release/chunkwise \\
        [--rounds 5] [--before DIR] [--log rounds.jsonl]

VOLUME.zarr: the demo volume (`chunkwise generate VOLUME.zarr --size 512 --chunk 128`).
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEED = [
    {"id": "c", "op": "clip", "x": "vol", "min": 10000, "max": 40000},
    {"id": "g", "op": "gaussian_filter", "x": "c", "sigma": 2.0},
    {"id": "u", "op": "astype", "x": "g", "dtype": "uint16"},
    {"id": "y", "op": "downsample", "x": "u", "factors": [2, 2, 2], "method": "mean"},
]
ZSTD1 = {"name": "zstd", "level": 1}
# Elements per call of f in `mb_chunkwise_slabs` (`map_blocks(max_elements=...)`); --max-elements.
SLAB = 2**17


def clip_block(b):
    import numpy as np

    return np.clip(b, 1e4, 4e4)


def cpu_seconds(who=resource.RUSAGE_SELF):
    """User + system CPU time of this process (all threads), or of its finished children."""
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def one(case, volume, out, threads, slab=SLAB):
    """Runs one case in this process: its wall and CPU seconds inside the process, from opening
    the input to the output written."""
    if case == "seed_python":
        import chunkwise as cw

        start, cpu = time.perf_counter(), cpu_seconds()
        x = cw.open(volume)
        y = cw.ndimage.gaussian_filter(x.clip(10000, 40000), sigma=2.0).astype("uint16")
        y.downsample(2).to_zarr(out, codec=ZSTD1, threads=threads, progress=False)
        return time.perf_counter() - start, cpu_seconds() - cpu
    if case == "mb_chunkwise":
        import chunkwise as cw

        start, cpu = time.perf_counter(), cpu_seconds()
        x = cw.open(volume)
        x.map_blocks(clip_block, dtype="uint16").to_zarr(
            out, codec=ZSTD1, threads=threads, progress=False
        )
        return time.perf_counter() - start, cpu_seconds() - cpu
    if case == "mb_chunkwise_slabs":
        # The same with f called on slabs of at most `slab` elements (2**17: 8 rows of a 128^3
        # chunk).
        import chunkwise as cw

        start, cpu = time.perf_counter(), cpu_seconds()
        x = cw.open(volume)
        x.map_blocks(clip_block, dtype="uint16", max_elements=slab).to_zarr(
            out, codec=ZSTD1, threads=threads, progress=False
        )
        return time.perf_counter() - start, cpu_seconds() - cpu
    if case == "copy_chunkwise":
        # The floor without f: read, decode, encode and write the same volume.
        import chunkwise as cw

        start, cpu = time.perf_counter(), cpu_seconds()
        cw.open(volume).to_zarr(out, codec=ZSTD1, threads=threads, progress=False)
        return time.perf_counter() - start, cpu_seconds() - cpu
    if case == "f_alone":
        # f and the cast of its result to uint16 on every 128^3 block, in memory (one thread).
        import numpy as np
        import zarr

        data = zarr.open_array(volume, mode="r")[...]
        c = 128
        blocks = [np.ascontiguousarray(data[z:z + c, y:y + c, x:x + c])
                  for z in range(0, data.shape[0], c) for y in range(0, data.shape[1], c)
                  for x in range(0, data.shape[2], c)]
        start, cpu = time.perf_counter(), cpu_seconds()
        for b in blocks:
            clip_block(b).astype(data.dtype)
        return time.perf_counter() - start, cpu_seconds() - cpu
    if case == "overlap_chunkwise":
        # Seconds during which two calls of f were running at once (2 threads), then the total
        # seconds inside f, instead of wall and CPU time.
        import threading

        import chunkwise as cw

        spans, lock = [], threading.Lock()

        def timed(b):
            t0 = time.perf_counter()
            r = clip_block(b)
            with lock:
                spans.append((t0, time.perf_counter()))
            return r

        cw.open(volume).map_blocks(timed, dtype="uint16").to_zarr(
            out, codec=ZSTD1, threads=threads, progress=False)
        events = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
        both, running, last = 0.0, 0, None
        for t, d in events:
            if running >= 2:
                both += t - last
            running, last = running + d, t
        return both, sum(b - a for a, b in spans)
    if case == "mb_dask":
        import dask
        import dask.array as da
        import zarr

        start, cpu = time.perf_counter(), cpu_seconds()
        src = zarr.open_array(volume, mode="r")
        dst = zarr.create_array(out, shape=src.shape, chunks=src.chunks, dtype=src.dtype,
                                compressors=zarr.codecs.ZstdCodec(level=1))
        d = da.from_zarr(src).map_blocks(clip_block, dtype=src.dtype)
        with dask.config.set(scheduler="threads", num_workers=threads):
            da.store(d, dst, lock=False)
        return time.perf_counter() - start, cpu_seconds() - cpu
    raise SystemExit(f"unknown case {case}")


def check_output(case, volume, out):
    """After the timed span: a map_blocks output has the input's shape and type (uint16), so
    both tools wrote the same bytes' worth (NumPy 2's `np.clip` of uint16 with Python floats
    returns float64, cast back to uint16 by chunkwise and by zarr-python for Dask)."""
    if not case.startswith("mb_"):
        return
    import zarr

    src, dst = zarr.open_array(volume, mode="r"), zarr.open_array(out, mode="r")
    if (dst.shape, dst.dtype) != (src.shape, src.dtype):
        raise SystemExit(f"{case} wrote {dst.shape} {dst.dtype}, not {src.shape} {src.dtype}")


def measure(case, args, work, threads, env=None):
    """One run of `case` in a fresh process: (wall seconds, CPU seconds)."""
    out = work / f"{case}.zarr"
    shutil.rmtree(out, ignore_errors=True)
    if case == "seed_cli":
        pipe = work / "seed.json"
        pipe.write_text(json.dumps({
            "inputs": {"vol": str(Path(args.volume).resolve())},
            "steps": SEED,
            "outputs": [{"from": "y", "path": str(out), "codec": ZSTD1}],
        }))
        start, cpu = time.perf_counter(), cpu_seconds(resource.RUSAGE_CHILDREN)
        subprocess.run([args.cli, "run", str(pipe), "--quiet", "--threads", str(threads)],
                       check=True)
        seconds = time.perf_counter() - start
        cpu = cpu_seconds(resource.RUSAGE_CHILDREN) - cpu
    else:
        run = subprocess.run(
            [sys.executable, __file__, "--one", case.removesuffix("_before"), args.volume,
             "--out", str(out), "--threads", str(threads),
             "--max-elements", str(args.max_elements)],
            check=True, capture_output=True, text=True, env=env,
        )
        seconds, cpu = map(float, run.stdout.strip().splitlines()[-1].split())
    shutil.rmtree(out, ignore_errors=True)
    return seconds, cpu


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("volume")
    p.add_argument("--cli", help="the chunkwise binary (release build) for the seed chain")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--before", help="a directory holding another build's chunkwise/ package")
    p.add_argument("--log", help="append each measurement to this JSON-lines file")
    p.add_argument("--only", choices=["map_blocks", "seed", "floor"],
                   help="run one comparison (floor: chunkwise's copy without f, f alone, and "
                        "how long two calls of f overlap at 2 threads)")
    p.add_argument("--max-elements", type=int, default=SLAB,
                   help="elements per call of f in the mb_chunkwise_slabs case")
    p.add_argument("--one", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=2, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        seconds, cpu = one(args.one, args.volume, args.out, args.threads, args.max_elements)
        check_output(args.one, args.volume, args.out)
        print(seconds, cpu)
        return

    cases = []
    if args.only == "floor":
        cases += [("copy_chunkwise", 1), ("copy_chunkwise", 2), ("f_alone", 1),
                  ("overlap_chunkwise", 2)]
    elif args.only != "seed":
        cases += [("mb_chunkwise", 1), ("mb_dask", 1), ("mb_chunkwise", 2), ("mb_dask", 2),
                  ("mb_chunkwise_slabs", 1), ("mb_chunkwise_slabs", 2)]
    if args.cli and args.only in (None, "seed"):
        cases += [("seed_cli", 2), ("seed_python", 2)]
    before_env = None
    if args.before and args.only in (None, "map_blocks"):
        before_env = dict(os.environ, PYTHONPATH=str(Path(args.before).resolve()))
        cases += [("mb_chunkwise_before", 1), ("mb_chunkwise_before", 2)]
    work = Path(tempfile.mkdtemp(prefix="cw-bench-"))
    times = {c: [] for c in cases}
    cpus = {c: [] for c in cases}
    log = open(args.log, "a") if args.log else None
    try:
        for r in range(args.rounds):
            order = cases[r % len(cases):] + cases[:r % len(cases)]
            for case, threads in order:
                env = before_env if case.endswith("_before") else None
                s, cpu = measure(case, args, work, threads, env)
                times[(case, threads)].append(s)
                cpus[(case, threads)].append(cpu)
                record = {"round": r, "case": case, "threads": threads, "seconds": round(s, 4),
                          "cpu_seconds": round(cpu, 4), "load": round(os.getloadavg()[0], 2)}
                print(json.dumps(record), flush=True)
                if log:
                    log.write(json.dumps(record) + "\n")
                    log.flush()
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if log:
            log.close()

    med = {c: statistics.median(t) for c, t in times.items()}
    cpu = {c: statistics.median(t) for c, t in cpus.items()}
    print("\n| case | threads | median wall s | median CPU s | rounds wall (s) |")
    print("|---|---|---|---|---|")
    for (case, threads), t in times.items():
        rounds = ", ".join(f"{v:.2f}" for v in t)
        print(f"| {case} | {threads} | {med[(case, threads)]:.3f} | {cpu[(case, threads)]:.3f} "
              f"| {rounds} |")
    print()

    def ratio(a, b):
        return f"wall {med[a] / med[b]:.2f}x, CPU {cpu[a] / cpu[b]:.2f}x"

    for threads in (1, 2) if ("mb_dask", 1) in med else ():
        print(f"map_blocks, {threads} thread(s), Dask / chunkwise: "
              + ratio(("mb_dask", threads), ("mb_chunkwise", threads)))
        print(f"map_blocks, {threads} thread(s), Dask / chunkwise max_elements={args.max_elements}: "
              + ratio(("mb_dask", threads), ("mb_chunkwise_slabs", threads)))
        if ("mb_chunkwise_before", threads) in med:
            print(f"map_blocks, {threads} thread(s), before / after: "
                  + ratio(("mb_chunkwise_before", threads), ("mb_chunkwise", threads)))
    for tool in ("mb_chunkwise", "mb_chunkwise_slabs", "mb_dask") if ("mb_dask", 1) in med else ():
        print(f"{tool}: 1 -> 2 threads, wall speed-up {med[(tool, 1)] / med[(tool, 2)]:.2f}x")
    if ("seed_cli", 2) in med:
        print("seed chain, 2 threads, Python API / CLI: "
              + ratio(("seed_python", 2), ("seed_cli", 2)))


if __name__ == "__main__":
    main()
