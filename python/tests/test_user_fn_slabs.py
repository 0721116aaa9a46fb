"""map_blocks(max_elements=...): each block cut into slabs along its first axis, `f` called once
per slab, against NumPy on the whole array, across dtypes, chunkings and thread counts."""

import numpy as np
import pytest

import chunkwise as cw


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("chunks", [(7, 5, 4), (16, 16, 16), (40, 3, 9)])
@pytest.mark.parametrize("max_elements", [1, 30, 100, 10**6])
@pytest.mark.parametrize("dtype", ["uint16", "int8", "float32", "float64"])
def test_slabs_give_what_whole_blocks_give(rng, threads, chunks, max_elements, dtype):
    a = (rng.random((37, 29, 11)) * 120).astype(dtype)
    x = cw.from_numpy(a, chunks=chunks)
    # NumPy 2: clip with Python floats gives float64, cast back to the declared type.
    y = x.map_blocks(lambda b: np.clip(b, 10.5, 90.0), dtype=dtype, max_elements=max_elements)
    want = np.clip(a, 10.5, 90.0).astype(dtype)
    np.testing.assert_array_equal(y.compute(threads=threads), want)
    # Another declared type, and a result of the block's own type (the copy without a cast).
    z = x.map_blocks(lambda b: b * 2, dtype="float64", max_elements=max_elements)
    np.testing.assert_array_equal(z.compute(threads=threads), (a * 2).astype("float64"))


def test_slabs_are_rows_of_a_block_with_at_most_max_elements(rng):
    a = rng.random((20, 6, 5))
    shapes = []
    x = cw.from_numpy(a, chunks=(8, 6, 5))
    x.map_blocks(lambda b: (shapes.append(b.shape), b)[1], max_elements=70).compute(threads=1)
    # 30 elements a row: two rows a slab; blocks of 8, 8 and 4 rows.
    assert sorted(shapes) == [(2, 6, 5)] * 10
    shapes.clear()
    x.map_blocks(lambda b: (shapes.append(b.shape), b)[1], max_elements=7).compute(threads=1)
    assert sorted(shapes) == [(1, 6, 5)] * 20  # at least one row


def test_slab_errors_are_clear_and_write_nothing(tmp_path, rng):
    x = cw.from_numpy(rng.random((20, 20)), chunks=8)
    # One thread, so the first block to fail is the first (8 rows, slabs of 5): with two, the
    # edge block (4 rows, one slab, checked by the engine in its own words) may fail first.
    with pytest.raises(cw.ChunkwiseError, match=r"returned a block of shape \(1, 8\) for a block of shape \(5, 8\)"):
        x.map_blocks(lambda b: b[:1], max_elements=40).to_zarr(tmp_path / "o.zarr", threads=1)
    assert not (tmp_path / "o.zarr").exists()
    with pytest.raises(cw.ChunkwiseError, match="shape"):
        x.map_blocks(lambda b: b.sum(), max_elements=40).compute()
    with pytest.raises(cw.ChunkwiseError, match="max_elements"):
        x.map_blocks(lambda b: b, max_elements=0)
    with pytest.raises(cw.ChunkwiseError, match="one or the other"):
        x.map_blocks(lambda b: b, max_elements=40, fuse=True)

    def broken(b):
        raise KeyError("slab")

    with pytest.raises(KeyError):
        x.map_blocks(broken, max_elements=40).compute()
