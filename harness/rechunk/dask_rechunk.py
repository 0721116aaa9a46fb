"""Dask's rechunk + to_zarr of a Zarr array into cubic chunks (the peer of rechunk.sh).

usage: python3 dask_rechunk.py SRC OUT CHUNK THREADS
Writes Zarr v3, zstd level 1, chunks CHUNK^3. Prints inside_seconds=, the time from opening the
input to the output written (start-up and imports excluded).
"""
import sys
import time

import dask
import dask.array as da
import zarr

src, out, chunk, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
start = time.perf_counter()
x = da.from_zarr(zarr.open_array(src, mode="r"))
y = x.rechunk((chunk, chunk, chunk))
z = zarr.create_array(store=out, shape=y.shape, chunks=(chunk,) * 3, dtype=y.dtype,
                      compressors=[zarr.codecs.ZstdCodec(level=1)], overwrite=True)
with dask.config.set(scheduler="threads", num_workers=threads):
    da.store(y, z, lock=False)
print(f"inside_seconds={time.perf_counter() - start:.6f}")
