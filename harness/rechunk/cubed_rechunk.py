"""Cubed's rechunk + to_zarr of a Zarr array into cubic chunks (the peer of rechunk.sh).

usage: python3 cubed_rechunk.py SRC OUT CHUNK THREADS ALLOWED_MEM WORK_DIR
Cubed plans the rechunk with the rechunker algorithm under ALLOWED_MEM per task (e.g. "256MiB"),
its intermediates in WORK_DIR (Zarr, Cubed's default codec), run by its threads executor with
THREADS workers. The output is Zarr v3, zstd level 1, chunks CHUNK^3, created here so that it is
encoded as chunkwise's and Dask's are. Prints inside_seconds=, the time from opening the input
to the output written (start-up and imports excluded).
"""
import sys
import time

import cubed
import zarr

src, out, chunk, threads, allowed_mem, work_dir = sys.argv[1:7]
chunk, threads = int(chunk), int(threads)
# Cubed reads SI sizes only ("256MB"); chunkwise's limit is binary ("256MiB"): pass bytes.
units = {"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}
suffix = allowed_mem[-3:]
allowed_mem = int(allowed_mem[:-3]) * units[suffix] if suffix in units else allowed_mem
start = time.perf_counter()
spec = cubed.Spec(work_dir=work_dir, allowed_mem=allowed_mem, executor_name="threads",
                  executor_options={"max_workers": threads})
x = cubed.from_zarr(src, spec=spec)
y = x.rechunk((chunk, chunk, chunk))
z = zarr.create_array(store=out, shape=y.shape, chunks=(chunk,) * 3, dtype=y.dtype,
                      compressors=[zarr.codecs.ZstdCodec(level=1)], overwrite=True)
cubed.to_zarr(y, z)
print(f"inside_seconds={time.perf_counter() - start:.6f}")
