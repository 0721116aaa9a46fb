"""Zarr in and out: to_zarr, open (paths and zarr-python arrays), Pipeline, write_pyramid,
interop with zarr-python both ways, and the errors that belong to files."""

import json
import os

import numpy as np
import pytest
import zarr

import chunkwise as cw


def test_to_zarr_read_back_with_zarr_python(tmp_path, rng):
    a = rng.integers(0, 4000, (30, 25)).astype("uint16")
    out = tmp_path / "out.zarr"
    stats = (cw.from_numpy(a, chunks=8) * 2).to_zarr(out, chunks=(16, 16))
    assert stats["tasks"] > 0
    z = zarr.open_array(str(out), mode="r")
    assert z.chunks == (16, 16) and z.dtype == np.uint16
    np.testing.assert_array_equal(z[:], a * 2)


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize("codec", ["zstd", "gzip", "none", {"name": "blosc", "cname": "lz4", "clevel": 5}])
def test_formats_and_codecs(tmp_path, rng, zarr_format, codec):
    a = rng.random((20, 9)).astype("float32")
    out = tmp_path / "o.zarr"
    cw.from_numpy(a, chunks=7).to_zarr(out, codec=codec, zarr_format=zarr_format)
    z = zarr.open_array(str(out), mode="r")
    assert z.metadata.zarr_format == zarr_format
    np.testing.assert_array_equal(z[:], a)


def test_zarr_python_written_array_is_processed(tmp_path, rng):
    a = rng.integers(0, 1000, (33, 21)).astype("int32")
    src = tmp_path / "in.zarr"
    z = zarr.create_array(str(src), shape=a.shape, chunks=(10, 10), dtype="int32")
    z[:] = a
    by_path = cw.open(src)
    by_array = cw.open(zarr.open_array(str(src), mode="r"))
    assert by_path.shape == by_array.shape == a.shape
    assert by_path.chunks == (10, 10)
    np.testing.assert_array_equal((by_array + 1).compute(), a + 1)
    cw.ndimage.uniform_filter(by_path, 3, output="float64").to_zarr(tmp_path / "f.zarr")
    from scipy import ndimage as ndi

    np.testing.assert_allclose(
        zarr.open_array(str(tmp_path / "f.zarr"))[:], ndi.uniform_filter(a.astype("float64"), 3)
    )


def test_zarr_array_in_a_group(tmp_path, rng):
    a = rng.random((8, 8))
    g = zarr.open_group(str(tmp_path / "g.zarr"), mode="w")
    z = g.create_array("inner", shape=a.shape, chunks=(4, 4), dtype="float64")
    z[:] = a
    np.testing.assert_array_equal(cw.open(g["inner"]).compute(), a)


def test_open_rejects_non_local_arrays():
    with pytest.raises(TypeError, match="local store"):
        cw.open(zarr.zeros((4, 4), store=zarr.storage.MemoryStore()))


def test_missing_and_existing_paths(tmp_path):
    with pytest.raises(FileNotFoundError):
        cw.open(tmp_path / "nothing.zarr")
    x = cw.from_numpy(np.ones((4, 4), "uint8"), chunks=2)
    out = tmp_path / "o.zarr"
    x.to_zarr(out)
    with pytest.raises(FileExistsError):
        x.to_zarr(out)
    (x * 3).to_zarr(out, overwrite=True)
    np.testing.assert_array_equal(cw.open(out).compute(), np.full((4, 4), 3, "uint8"))
    with pytest.raises(cw.ChunkwiseError, match="not both"):
        x.to_zarr(out, overwrite=True, resume=True)
    with pytest.raises(cw.ChunkwiseError, match="codec"):
        x.to_zarr(tmp_path / "p.zarr", codec="lzma")
    with pytest.raises(cw.ChunkwiseError):
        x.to_zarr(tmp_path / "q.zarr", zarr_format=4)
    assert not (tmp_path / "p.zarr").exists() and not (tmp_path / "q.zarr").exists()


def test_pipeline_several_outputs(tmp_path, rng):
    a = rng.random((20, 20))
    x = cw.from_numpy(a, chunks=6)
    p = cw.Pipeline()
    p.to_zarr(x * 2, tmp_path / "a.zarr")
    p.to_zarr(x + 1, tmp_path / "b.zarr", zarr_format=2)
    assert len(p) == 2
    p.run()
    np.testing.assert_allclose(zarr.open_array(str(tmp_path / "a.zarr"))[:], a * 2)
    np.testing.assert_allclose(zarr.open_array(str(tmp_path / "b.zarr"))[:], a + 1)
    with pytest.raises(cw.ChunkwiseError, match="no outputs"):
        cw.Pipeline().run()


def test_write_pyramid(tmp_path, rng):
    a = rng.integers(0, 60000, (32, 24, 20)).astype("uint16")
    out = tmp_path / "pyr.zarr"
    cw.write_pyramid(cw.from_numpy(a, chunks=16), out, levels=2, unit="micrometer", scale=(2.0, 1.0, 1.0))
    g = zarr.open_group(str(out), mode="r")
    assert [g[str(k)].shape for k in range(3)] == [(32, 24, 20), (16, 12, 10), (8, 6, 5)]
    np.testing.assert_array_equal(g["0"][:], a)
    want1 = np.round(a.reshape(16, 2, 12, 2, 10, 2).astype("float64").mean(axis=(1, 3, 5)))
    np.testing.assert_allclose(g["1"][:], want1, atol=1)
    meta = json.loads((out / "zarr.json").read_text())
    assert "ome" in meta["attributes"]
    with pytest.raises(FileExistsError):
        cw.write_pyramid(cw.from_numpy(a, chunks=16), out)
    with pytest.raises(cw.ChunkwiseError, match="level"):
        cw.write_pyramid(cw.from_numpy(a, chunks=16), tmp_path / "none.zarr", levels=0)
    assert not os.path.exists(tmp_path / "none.zarr")
