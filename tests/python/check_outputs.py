"""Read what chunkwise wrote with zarr-python and compare with NumPy 2 computing the same
pipelines (interop test, writer side, and NumPy as the reference for type promotion).

usage: python3 check_outputs.py DIR

DIR holds a.bin (uint16), b.bin (int8), f.bin (float32), each of shape SHAPE, raw C-order
little-endian, plus one CASE.zarr per case below written by chunkwise. Exits non-zero on the first
mismatch with a message naming the case.
"""
import json
import pathlib
import sys

import numpy as np
import zarr

d = pathlib.Path(sys.argv[1])
meta = json.loads((d / "inputs.json").read_text())
shape = tuple(meta["shape"])
a = np.frombuffer((d / "a.bin").read_bytes(), dtype="<u2").reshape(shape)
b = np.frombuffer((d / "b.bin").read_bytes(), dtype="<i1").reshape(shape)
f = np.frombuffer((d / "f.bin").read_bytes(), dtype="<f4").reshape(shape)

with np.errstate(all="ignore"):
    cases = {
        "chain": ((a.astype(np.float32) * 1.5 + 100).clip(0, 65535) / 2).astype(np.uint16),
        "clip": np.clip(a, 10000, 40000),
        "threshold": (a > 30000).astype(np.uint8),
        "add_float": a + 1.5,
        "mixed": a + b,
        "div_int": b / 3,
        "sqrt_u16": np.sqrt(a),
        "where": np.where(a > 30000, a, b),
        "minimum_f": np.minimum(f, 0.5),
        "clip_f": np.clip(f, 0, 1),
        "exp_f": np.exp(f / 100),
        "abs_i8": np.abs(b),
        "sub_first": 100 - b,
        "max_arrays": np.maximum(a, b),
    }
# Transcendental functions may differ by an ulp between libm implementations.
approx = {"sqrt_u16", "exp_f"}

failures = []
for name, want in cases.items():
    z = zarr.open_array(str(d / f"{name}.zarr"), mode="r")
    got = z[...]
    if got.dtype != want.dtype:
        failures.append(f"{name}: dtype {got.dtype}, NumPy gives {want.dtype}")
        continue
    if got.shape != want.shape:
        failures.append(f"{name}: shape {got.shape}, want {want.shape}")
        continue
    if name in approx:
        ok = np.allclose(got, want, rtol=2e-7 if want.dtype == np.float64 else 1e-6, equal_nan=True)
    else:
        ok = np.array_equal(got, want, equal_nan=want.dtype.kind == "f")
        if ok and want.dtype.kind == "f":
            # Signed zeros must match too (np.clip keeps -0.0, np.maximum may not).
            numbers = ~np.isnan(want)
            ok = np.array_equal(np.signbit(got[numbers]), np.signbit(want[numbers]))
    if not ok:
        bad = np.argwhere(~((got == want) | (np.isnan(got) & np.isnan(want)) if want.dtype.kind == "f" else (got == want)))
        i = tuple(bad[0]) if len(bad) else ()
        failures.append(f"{name}: {len(bad)} elements differ, first at {i}: got {got[i]!r}, NumPy {want[i]!r}")

if failures:
    print("\n".join(failures))
    sys.exit(1)
print(f"{len(cases)} passed, 0 failed")
