"""Reductions from Python against NumPy: methods and functions, axes and keepdims, NaN
variants, histogram, exact quantiles, bincount and stats, several chunkings and threads."""

import numpy as np
import pytest

import chunkwise as cw

METHODS = ["sum", "prod", "mean", "min", "max", "var", "std", "any", "all", "argmin", "argmax"]


def data(rng, dtype, shape=(11, 7, 5)):
    if np.dtype(dtype).kind == "f":
        return (rng.random(shape) * 10 - 5).astype(dtype)
    return rng.integers(0, 9, shape).astype(dtype)


@pytest.mark.parametrize("dtype", ["uint8", "int16", "uint16", "float32", "float64"])
@pytest.mark.parametrize("axis", [None, 0, (1, 2), -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_match_numpy(rng, dtype, axis, keepdims):
    a = data(rng, dtype)
    x = cw.from_numpy(a, chunks=(4, 3, 2))
    for m in METHODS:
        if m in ("argmin", "argmax") and isinstance(axis, tuple):
            continue
        if m == "prod" and a.dtype.kind != "f":
            a_small = a % 3  # keep products in range
            got = getattr(cw.from_numpy(a_small, chunks=(4, 3, 2)), m)(axis=axis, keepdims=keepdims)
            want = getattr(np, m)(a_small, axis=axis, keepdims=keepdims)
        else:
            got = getattr(x, m)(axis=axis, keepdims=keepdims)
            want = getattr(np, m)(a, axis=axis, keepdims=keepdims)
        out = got.compute(threads=2)
        assert out.shape == np.shape(want), (m, out.shape, np.shape(want))
        if m in ("mean", "var", "std") or a.dtype.kind == "f":
            # chunkwise accumulates in float64; NumPy float32 in float32.
            np.testing.assert_allclose(out, want, rtol=1e-5, err_msg=m)
        else:
            np.testing.assert_array_equal(out, want, err_msg=m)
            assert out.dtype == np.asarray(want).dtype, (m, out.dtype)
    n = cw.count_nonzero(x, axis=axis, keepdims=keepdims).compute()
    np.testing.assert_array_equal(n, np.count_nonzero(a, axis=axis, keepdims=keepdims))


def test_ddof_and_the_same_bits_for_any_threads(rng):
    a = data(rng, "float64", (30, 17))
    want = np.std(a, ddof=1)
    for chunks in [(4, 5), (7, 17)]:
        x = cw.from_numpy(a, chunks=chunks)
        bits = {x.std(ddof=1).compute(threads=t).item() for t in (1, 2, 7)}
        assert len(bits) == 1, (chunks, bits)
        np.testing.assert_allclose(bits.pop(), want, rtol=1e-12)


def test_nan_variants(rng):
    a = data(rng, "float32")
    a[1, 2, 3] = np.nan
    x = cw.from_numpy(a, chunks=(4, 3, 2))
    assert np.isnan(x.max().compute())
    for name in ["nansum", "nanmean", "nanmin", "nanmax", "nanstd", "nanargmax"]:
        got = getattr(cw, name)(x, axis=None if "arg" in name else 0).compute()
        want = getattr(np, name)(a, axis=None if "arg" in name else 0)
        np.testing.assert_allclose(got, want, rtol=1e-5, err_msg=name)


def test_a_reduction_chains_lazily(rng):
    a = data(rng, "float32")
    x = cw.from_numpy(a, chunks=(4, 3, 2))
    y = x / x.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(y.compute(), a / a.mean(axis=(1, 2), keepdims=True), rtol=1e-5)
    mip = x.max(axis=0)
    assert mip.shape == (7, 5)


def test_bad_axes_fail_clearly(rng):
    x = cw.from_numpy(data(rng, "uint8"), chunks=4)
    with pytest.raises(cw.ChunkwiseError, match="axis 3 is out of range"):
        x.sum(axis=3)
    with pytest.raises(cw.ChunkwiseError, match="axis -4 is out of range"):
        x.sum(axis=-4)
    with pytest.raises(cw.ChunkwiseError, match="unknown reduction"):
        x.reduce("median")
    with pytest.raises(cw.ChunkwiseError, match="axis must be"):
        x.sum(axis="z")


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32", "float64"])
def test_histogram_quantiles_bincount_stats(rng, dtype):
    a = data(rng, dtype, (23, 19))
    x = cw.from_numpy(a, chunks=(5, 4))
    counts, edges = cw.histogram(x, bins=7, range=(1, 6))
    want_c, want_e = np.histogram(a, bins=7, range=(1, 6))
    np.testing.assert_array_equal(counts, want_c)
    np.testing.assert_array_equal(edges, want_e)
    counts, edges = cw.histogram(x, bins=5)
    want_c, want_e = np.histogram(a, bins=5)
    np.testing.assert_array_equal(counts, want_c)
    # From float32 data's own min and max NumPy 2 computes the edges in float32 (NEP 50);
    # chunkwise in float64, rounded to float32: one unit in the last place apart.
    np.testing.assert_allclose(edges, want_e, rtol=2.5e-7)
    qs = [0, 0.1, 0.5, 0.995, 1]
    np.testing.assert_array_equal(cw.quantile(x, qs), np.quantile(a, qs))
    assert cw.percentile(x, 50) == np.percentile(a, 50)
    if a.dtype.kind == "u":
        np.testing.assert_array_equal(cw.bincount(x), np.bincount(a.ravel()))
    s = cw.stats(x, bins=4, percentiles=[1, 99])
    assert s["count"] == a.size and s["min"] == a.min() and s["max"] == a.max()
    np.testing.assert_allclose(s["mean"], a.mean(dtype="float64"), rtol=1e-12)
    np.testing.assert_array_equal(s["histogram"], np.histogram(a, 4, range=(a.min(), a.max()))[0])
    assert s["percentiles"][99] == np.percentile(a, 99)


def test_bad_histogram_and_quantile_arguments(rng):
    x = cw.from_numpy(data(rng, "float32"), chunks=4)
    with pytest.raises(cw.ChunkwiseError, match="bins"):
        cw.histogram(x, bins=0)
    with pytest.raises(cw.ChunkwiseError):
        cw.histogram(x, bins=3, range=(2, 1))
    with pytest.raises(cw.ChunkwiseError, match="outside"):
        cw.quantile(x, 1.5)
    a = np.full((3, 3), np.nan, "float32")
    with pytest.raises(cw.ChunkwiseError, match="not finite"):
        cw.histogram(cw.from_numpy(a, chunks=2))
