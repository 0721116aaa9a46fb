"""Dask's 5-op chain divided by a per-slice mean (the peer of broadcast.sh).

usage: python3 dask_broadcast.py SRC MEAN OUT THREADS
((f32(x) * 1.5 + 100).clip(0, 65535) / mean).astype(uint16), `mean` of shape (z, 1, 1) float32
broadcast against the (z, y, x) volume; Zarr v3, zstd level 1, the input's chunks. Prints
inside_seconds= (from opening the inputs to the output written).
"""
import sys
import time

import dask
import dask.array as da
import numpy as np
import zarr

src, mean, out, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
start = time.perf_counter()
x = da.from_zarr(zarr.open_array(src, mode="r"))
m = da.from_zarr(zarr.open_array(mean, mode="r"))
y = ((x.astype(np.float32) * 1.5 + 100.0).clip(0, 65535) / m).astype(np.uint16)
z = zarr.create_array(store=out, shape=y.shape, chunks=x.chunksize, dtype=y.dtype,
                      compressors=[zarr.codecs.ZstdCodec(level=1)], overwrite=True)
with dask.config.set(scheduler="threads", num_workers=threads):
    da.store(y.rechunk(x.chunksize), z, lock=False)
print(f"inside_seconds={time.perf_counter() - start:.6f}")
