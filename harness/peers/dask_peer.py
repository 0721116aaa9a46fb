"""The benchmark pipelines in Dask (threaded scheduler), with SciPy for the filters.

usage: python3 dask_peer.py PIPELINE SRC OUT THREADS
Writes Zarr v3, zstd level 1, with the input's chunks. The pyramid writes OUT/1..3, each level
written and then re-read for the next. The reductions (sum, min, max, mean, histogram,
percentiles) write their numbers to OUT as a JSON list or number; the percentiles are exact,
through Dask's best exact path for uint16 data: one 65536-bin `da.histogram` (one bin per
value), then NumPy's linear interpolation between order statistics found in its cumulative sum. Prints inside_seconds=, the time from opening the input to
the output written (start-up and imports excluded).
"""
import json
import sys
import time

import dask
import dask.array as da
import numpy as np
import zarr
from scipy import ndimage

pipe, src, out, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
start = time.perf_counter()
x = da.from_zarr(zarr.open_array(src, mode="r"))


def store(y, path):
    chunks = x.chunksize[x.ndim - y.ndim:]
    z = zarr.create_array(store=path, shape=y.shape, chunks=chunks, dtype=y.dtype,
                          compressors=[zarr.codecs.ZstdCodec(level=1)], overwrite=True)
    da.store(y.rechunk(chunks), z, lock=False)


def dump(value, path):
    with open(path, "w") as f:
        json.dump(np.asarray(value).tolist(), f)


def exact_percentiles(a, ps):
    """np.percentile(a, ps) (linear) for uint16 data, from its per-value histogram."""
    counts, _ = da.histogram(a, bins=65536, range=(0, 65536))
    cum = np.cumsum(counts.compute())
    n = int(cum[-1])
    out = []
    for p in ps:
        pos = p / 100.0 * (n - 1)
        k = int(np.floor(pos))
        lo = np.searchsorted(cum, k, side="right")
        hi = np.searchsorted(cum, min(k + 1, n - 1), side="right")
        out.append(float(lo) + (pos - k) * (float(hi) - float(lo)))
    return out


def gauss(a, sigma=2.0):
    depth = int(4 * sigma + 0.5)
    return a.astype(np.float32).map_overlap(ndimage.gaussian_filter, depth=depth, boundary="reflect",
                                            sigma=sigma, mode="reflect", dtype=np.float32)


def down2(a):
    return da.coarsen(np.mean, a.astype(np.float32), {0: 2, 1: 2, 2: 2}, trim_excess=False).astype(np.uint16)


with dask.config.set(scheduler="threads", num_workers=threads):
    if pipe == "copy":
        store(x, out)
    elif pipe == "clip":
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
    elif pipe in ("sum", "min", "max", "mean"):
        dump(getattr(x, pipe)().compute(), out)
    elif pipe == "histogram":
        dump(da.histogram(x, bins=256, range=(0, 65536))[0].compute(), out)
    elif pipe == "percentiles":
        dump(exact_percentiles(x, [0.5, 50.0, 99.5]), out)
    elif pipe == "mip":
        store(x.max(axis=0), out)
    else:
        sys.exit(f"dask_peer: no pipeline {pipe}")
print(f"inside_seconds={time.perf_counter() - start:.6f}")
