"""map_blocks / map_overlap with NumPy functions, across thread counts and chunkings, and how
their failures surface."""

import numpy as np
import pytest
from scipy import ndimage as ndi

import chunkwise as cw


@pytest.mark.parametrize("fuse", [False, True])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("chunks", [(7, 5), (16, 16), (40, 3)])
def test_map_blocks_matches_numpy(rng, threads, chunks, fuse):
    a = rng.integers(0, 60000, (37, 29)).astype("uint16")
    x = cw.from_numpy(a, chunks=chunks)
    y = x.astype("float32").map_blocks(lambda b: np.clip(b, 1e4, 4e4), fuse=fuse) * 2
    np.testing.assert_array_equal(y.compute(threads=threads), np.clip(a.astype("float32"), 1e4, 4e4) * 2)


def test_map_blocks_hands_whole_blocks_unless_fused(rng):
    a = rng.random((20, 12))
    shapes = []
    x = cw.from_numpy(a, chunks=(8, 12))
    x.map_blocks(lambda b: (shapes.append(b.shape), b)[1]).compute(threads=1)
    assert sorted(shapes) == [(4, 12), (8, 12), (8, 12)]
    shapes.clear()
    x.map_blocks(lambda b: (shapes.append(b.shape), b)[1], fuse=True).compute(threads=1)
    assert all(len(s) == 1 for s in shapes)


def test_map_blocks_changes_dtype(rng):
    a = rng.random((20, 20))
    got = cw.from_numpy(a, chunks=6).map_blocks(lambda b: b > 0.5, dtype="uint8").compute()
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, (a > 0.5).astype("uint8"))
    # What f returns is cast to the declared dtype (np.sqrt gives float64 here).
    got = cw.from_numpy(a, chunks=6).map_blocks(np.sqrt, dtype=np.float32).compute()
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, np.sqrt(a).astype("float32"))


def test_map_blocks_name_shows_in_explain(rng):
    def denoise(b):
        return b

    x = cw.from_numpy(np.zeros((8, 8)), chunks=4).map_blocks(denoise)
    assert "denoise" in x.explain()
    assert "mine" in x.map_blocks(denoise, name="mine", version="2").explain()


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("mode", ["reflect", "nearest", "wrap", "mirror"])
def test_map_overlap_matches_scipy_on_the_whole_array(rng, threads, mode):
    a = rng.random((31, 26))
    x = cw.from_numpy(a, chunks=(8, 9))
    f = lambda b: ndi.uniform_filter(b, 5, mode=mode)  # noqa: E731
    got = x.map_overlap(f, depth=2, mode=mode).compute(threads=threads)
    np.testing.assert_allclose(got, ndi.uniform_filter(a, 5, mode=mode), rtol=1e-12)


def test_map_overlap_constant_and_inner_result(rng):
    a = rng.random((12, 10)).astype("float32")
    x = cw.from_numpy(a, chunks=5)
    # Returning only the inner block (halo trimmed by f) is accepted too.
    got = x.map_overlap(lambda b: ndi.maximum_filter(b, 3, mode="constant")[1:-1, 1:-1], depth=1, mode="constant", cval=0).compute()
    np.testing.assert_array_equal(got, ndi.maximum_filter(a, 3, mode="constant", cval=0))
    with pytest.raises(cw.ChunkwiseError, match="cval"):
        x.map_overlap(lambda b: b, depth=1, cval=3)


def test_map_overlap_per_axis_depth_in_3d(rng):
    a = rng.random((10, 13, 9))
    got = cw.from_numpy(a, chunks=4).map_overlap(lambda b: ndi.uniform_filter(b, (1, 3, 5)), depth=(0, 1, 2)).compute()
    np.testing.assert_allclose(got, ndi.uniform_filter(a, (1, 3, 5)), rtol=1e-12)


def test_exception_in_f_propagates_with_region(tmp_path, rng):
    def broken(b):
        raise KeyError("no such label")

    x = cw.from_numpy(rng.random((20, 20)), chunks=8)
    with pytest.raises(KeyError, match="no such label") as info:
        x.map_overlap(broken, depth=1).compute()
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "broken" in notes and "[" in notes  # the function's name and the output region
    out = tmp_path / "o.zarr"
    with pytest.raises(KeyError):
        x.map_blocks(broken).to_zarr(out)
    assert not out.exists()  # nothing half-written


def test_wrong_shape_from_f_is_a_clear_error(tmp_path, rng):
    x = cw.from_numpy(rng.random((20, 20)), chunks=8)
    with pytest.raises(cw.ChunkwiseError, match="shape"):
        x.map_blocks(lambda b: b[:1]).compute()
    with pytest.raises(cw.ChunkwiseError, match="shape"):
        x.map_overlap(lambda b: b[:3, :3], depth=2).to_zarr(tmp_path / "o.zarr")
    assert not (tmp_path / "o.zarr").exists()


def test_bad_user_fn_arguments():
    x = cw.from_numpy(np.zeros((8, 8)), chunks=4)
    with pytest.raises(cw.ChunkwiseError, match="depth"):
        x.map_overlap(lambda b: b, depth=(1, 2, 3))
    with pytest.raises(cw.ChunkwiseError, match="mode"):
        x.map_overlap(lambda b: b, depth=1, mode="bogus")
    with pytest.raises(cw.ChunkwiseError, match="dtype"):
        x.map_blocks(lambda b: b, dtype="complex128")


def test_f_owns_its_blocks_and_may_keep_them(rng):
    """Blocks are the engine's buffers moved into NumPy, not views into memory the engine
    frees: blocks kept past the run still hold their chunks' values."""
    a = rng.integers(0, 1000, (37, 29)).astype("int32")
    kept = []

    def keep(b):
        kept.append(b)
        return b * 2

    got = cw.from_numpy(a, chunks=(16, 10)).map_blocks(keep).compute(threads=2)
    np.testing.assert_array_equal(got, a * 2)
    churn = [cw.from_numpy(a, chunks=(16, 10)).map_blocks(lambda b: -b).compute() for _ in range(3)]
    assert len(kept) == 9 and all(b.flags.writeable for b in kept)
    np.testing.assert_array_equal(
        np.sort(np.concatenate([b.ravel() for b in kept])), np.sort(a.ravel())
    )
    np.testing.assert_array_equal(churn[-1], -a)


@pytest.mark.parametrize("threads", [1, 2])
def test_f_may_change_its_block_in_place_and_return_it(rng, threads):
    a = rng.random((37, 29)).astype("float32")

    def clip_in_place(b):
        np.clip(b, 0.2, 0.7, out=b)
        return b

    x = cw.from_numpy(a, chunks=(7, 5))
    want = np.clip(a, 0.2, 0.7)
    np.testing.assert_array_equal(x.map_blocks(clip_in_place).compute(threads=threads), want)
    # The extended block, changed in place and returned whole, is trimmed.
    got = x.map_overlap(clip_in_place, depth=2, mode="wrap").compute(threads=threads)
    np.testing.assert_array_equal(got, want)


def strided(b):
    """b + 1 as a view with gaps between its rows (not C-contiguous)."""
    wide = np.zeros((b.shape[0], b.shape[1] * 2), b.dtype)
    wide[:, ::2] = b + 1
    return wide[:, ::2]


@pytest.mark.parametrize(
    "f, want",
    [
        (lambda b: np.asfortranarray(b + 1), lambda a: a + 1),
        (strided, lambda a: a + 1),
        (lambda b: (b + 1)[::-1, ::-1][::-1, ::-1], lambda a: a + 1),
        (lambda b: b + 1.75, lambda a: (a + 1.75).astype("int16")),  # float64, cast as astype
        (lambda b: b > 50, lambda a: (a > 50).astype("int16")),
        (lambda b: (b - 1).tolist(), lambda a: a - 1),  # not an array at all
    ],
    ids=["fortran", "strided", "reversed-view", "float64", "bool", "list"],
)
def test_results_of_any_layout_and_type_are_cast_to_the_declared_dtype(rng, f, want):
    a = rng.integers(-100, 100, (20, 13)).astype("int16")
    got = cw.from_numpy(a, chunks=(6, 5)).map_blocks(f, dtype="int16").compute(threads=2)
    assert got.dtype == np.int16
    np.testing.assert_array_equal(got, want(a))
