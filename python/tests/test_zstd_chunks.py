"""Arrays zarr-python wrote with zstd alone are decoded by chunkwise straight into typed buffers
(`store/src/zstd_direct.rs`); big-endian arrays, booleans, other codec chains and corrupt chunks
go through zarrs. Both paths are checked here against the array zarr-python wrote: whole chunks,
edge chunks, regions across chunks (the chunk cache), Zarr v2 and v3, checksummed frames."""

import numpy as np
import pytest
import zarr
from numcodecs import Zstd

import chunkwise as cw

SHAPE, CHUNKS = (37, 29, 23), (8, 16, 5)


def write(path, a, zarr_format, checksum=False, extra=()):
    if zarr_format == 2:
        compressors = Zstd(level=3, checksum=checksum)
        filters = list(extra) or None
        z = zarr.create_array(store=path, shape=a.shape, chunks=CHUNKS, dtype=a.dtype,
                              zarr_format=2, compressors=compressors, filters=filters)
    else:
        compressors = [*extra, zarr.codecs.ZstdCodec(level=3, checksum=checksum)]
        z = zarr.create_array(store=path, shape=a.shape, chunks=CHUNKS, dtype=a.dtype,
                              compressors=compressors)
    z[:] = a


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize("dtype", ["uint8", "int16", "uint16", "int32", "uint64", "float32",
                                   "float64", "bool"])
@pytest.mark.parametrize("checksum", [False, True])
def test_zstd_chunks_read_as_written(tmp_path, rng, zarr_format, dtype, checksum):
    a = (rng.random(SHAPE) * 1000 - (0 if dtype.startswith("u") or dtype == "bool" else 500))
    a = a.astype(dtype)
    path = str(tmp_path / "a.zarr")
    write(path, a, zarr_format, checksum)
    np.testing.assert_array_equal(cw.open(path).compute(), a)
    # A region across chunks: read through the chunk cache.
    np.testing.assert_array_equal(cw.open(path)[3:30, 5:27, 2:21].compute(), a[3:30, 5:27, 2:21])
    # A stencil reads halos across chunk edges.
    got = cw.ndimage.uniform_filter(cw.open(path).astype("float64"), size=3).compute()
    assert got.shape == SHAPE and np.isfinite(got).all()


def test_big_endian_and_checksummed_chunks_go_through_zarrs(tmp_path, rng):
    a = (rng.random(SHAPE) * 60000).astype(">u2")
    write(str(tmp_path / "be.zarr"), a, 2)
    np.testing.assert_array_equal(cw.open(str(tmp_path / "be.zarr")).compute(), a.astype("<u2"))
    b = (rng.random(SHAPE) * 60000).astype("uint16")
    write(str(tmp_path / "crc.zarr"), b, 3, extra=[zarr.codecs.Crc32cCodec()])
    np.testing.assert_array_equal(cw.open(str(tmp_path / "crc.zarr")).compute(), b)


def test_a_corrupt_zstd_chunk_is_named(tmp_path, rng):
    a = (rng.random(SHAPE) * 60000).astype("uint16")
    path = tmp_path / "a.zarr"
    write(str(path), a, 3)
    chunk = path / "c" / "1" / "1" / "2"
    chunk.write_bytes(chunk.read_bytes()[:40])
    with pytest.raises(cw.ChunkwiseError, match=r"chunk \[1, 1, 2\]"):
        cw.open(str(path)).compute()
    # Read through the chunk cache (halos across chunk edges): named the same way.
    with pytest.raises(cw.ChunkwiseError, match=r"chunk \[1, 1, 2\]"):
        cw.ndimage.uniform_filter(cw.open(str(path)), size=3).compute()
