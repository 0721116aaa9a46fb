"""The benchmark pipelines TensorStore can express: copy, 2x mean downsample and a 3-level
pyramid (each level written, then read back for the next).

usage: python3 tensorstore_peer.py PIPELINE SRC OUT THREADS
Prints inside_seconds=, the time from opening the input to the output written (start-up and
imports excluded).
"""
import sys
import time

import tensorstore as ts

pipe, src, out, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ctx = ts.Context({"data_copy_concurrency": {"limit": threads}, "file_io_concurrency": {"limit": 2 * threads}})


def open_input(path):
    return ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": path}}, context=ctx).result()


def write(y, path, chunks):
    spec = {"driver": "zarr3", "kvstore": {"driver": "file", "path": path}, "metadata": {
        "shape": list(y.shape), "data_type": "uint16",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": chunks}},
        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                   {"name": "zstd", "configuration": {"level": 1}}]}}
    ts.open(spec, create=True, context=ctx).result().write(y).result()


start = time.perf_counter()
x = open_input(src)
chunks = list(x.chunk_layout.read_chunk.shape)
if pipe == "copy":
    write(x, out, chunks)
elif pipe == "downsample":
    write(ts.downsample(x, [2, 2, 2], "mean"), out, chunks)
elif pipe == "pyramid":
    level = x
    for k in (1, 2, 3):
        write(ts.downsample(level, [2, 2, 2], "mean"), f"{out}/{k}", chunks)
        level = open_input(f"{out}/{k}")
else:
    sys.exit(f"tensorstore_peer: no pipeline {pipe}")
print(f"inside_seconds={time.perf_counter() - start:.6f}")
