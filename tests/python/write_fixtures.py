"""Write Zarr arrays with zarr-python for chunkwise to read (interop test, reader side).

usage: python3 write_fixtures.py OUT_DIR

For each array NAME it writes NAME.zarr (by zarr-python), NAME.bin (the same values, raw C-order
little-endian bytes) and one manifest.json listing name, dtype and shape.
"""
import json
import pathlib
import sys

import numpy as np
import zarr
from numcodecs import Blosc, GZip, Zstd

out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(7)


def data(dtype, shape):
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if np.dtype(dtype).kind == "f":
        v = rng.normal(scale=1000, size=shape).astype(dtype)
        v.flat[::17] = np.nan
        return v
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)


cases = [
    # name, zarr_format, dtype, shape, chunks, compressor/codec, shards
    ("v2_zstd_u16", 2, "uint16", (37, 23, 11), (8, 8, 8), Zstd(level=3), None),
    ("v2_blosc_f32", 2, "float32", (30, 17), (7, 5), Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE), None),
    ("v2_gzip_i8", 2, "int8", (101,), (10,), GZip(level=4), None),
    ("v2_none_bool", 2, "bool", (9, 9, 9), (4, 4, 4), None, None),
    ("v3_zstd_u16", 3, "uint16", (37, 23, 11), (8, 8, 8), zarr.codecs.ZstdCodec(level=1), None),
    ("v3_gzip_f64", 3, "float64", (13, 5, 7, 3), (4, 2, 3, 2), zarr.codecs.GzipCodec(level=5), None),
    ("v3_blosc_i32", 3, "int32", (50, 21), (16, 8), zarr.codecs.BloscCodec(cname="zstd", clevel=3), None),
    ("v3_sharded_u64", 3, "uint64", (40, 30), (5, 5), zarr.codecs.ZstdCodec(level=1), (20, 10)),
    ("v3_none_i64", 3, "int64", (11, 3), (4, 2), None, None),
]

manifest = []
for name, fmt, dtype, shape, chunks, comp, shards in cases:
    values = data(dtype, shape)
    kwargs = dict(store=str(out / f"{name}.zarr"), shape=shape, chunks=chunks, dtype=dtype,
                  zarr_format=fmt, overwrite=True)
    kwargs["compressors"] = [comp] if comp is not None else None
    if shards is not None:
        kwargs["shards"] = shards
    z = zarr.create_array(**kwargs)
    z[...] = values
    (out / f"{name}.bin").write_bytes(values.astype(values.dtype.newbyteorder("<")).tobytes())
    manifest.append({"name": name, "dtype": dtype, "shape": list(shape)})

(out / "manifest.json").write_text(json.dumps(manifest, indent=1))
print(f"wrote {len(manifest)} arrays")
