"""Read chunk files large enough for chunkwise's direct-I/O writes (1 MiB and more) with
zarr-python and compare them with the values chunkwise was given (interop test, writer side).

usage: python3 check_large_chunks.py DIR

DIR holds values.bin (float32 with NaN and infinities, raw C-order little-endian) and cases.json: for each case, its
name (DIR/NAME.zarr), its shape and the values it must hold (the input, or its clip to [0, 0.5]).
Exits non-zero on the first mismatch with a message naming the case.
"""
import json
import pathlib
import sys

import numpy as np
import zarr

d = pathlib.Path(sys.argv[1])
cases = json.loads((d / "cases.json").read_text())
for case in cases:
    shape = tuple(case["shape"])
    values = np.frombuffer((d / "values.bin").read_bytes(), dtype="<f4").reshape(shape)
    want = np.clip(values, 0, 0.5) if case["clipped"] else values
    got = zarr.open_array(str(d / f"{case['name']}.zarr"), mode="r")[...]
    if got.dtype != want.dtype or got.shape != want.shape or not np.array_equal(got, want, equal_nan=True):
        sys.exit(f"{case['name']}: zarr-python reads {got.dtype}{got.shape}, not the values written")
print(f"{len(cases)} cases agree")
