"""The element-wise benchmark pipelines in Cubed (bounded memory, Zarr intermediates), threads
executor.

usage: python3 cubed_peer.py PIPELINE SRC OUT THREADS
Prints inside_seconds=, the time from opening the input to the output written (start-up and
imports excluded).
"""
import sys
import tempfile
import time

import cubed
import cubed.array_api as xp

pipe, src, out, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
spec = cubed.Spec(work_dir=tempfile.mkdtemp(), allowed_mem="2GB", executor_name="threads",
                  executor_options={"max_workers": threads})
start = time.perf_counter()
x = cubed.from_zarr(src, spec=spec)
if pipe == "clip":
    y = xp.clip(x, 10000, 40000)
elif pipe == "chain":
    y = xp.astype(xp.clip(xp.astype(x, xp.float32) * 1.5 + 100.0, 0, 65535) / 2.0, xp.uint16)
else:
    sys.exit(f"cubed_peer: no pipeline {pipe}")
cubed.to_zarr(y, out)
print(f"inside_seconds={time.perf_counter() - start:.6f}")
