"""Filters with ``mode="constant"`` and a NaN or infinite ``cval``, against SciPy where SciPy
computes each window directly, and against a direct reference (the array padded with ``cval``,
every window reduced on its own) where SciPy's running sums and sliding extremes carry a
non-finite value along the whole line (``uniform_filter``; ``minimum_filter`` and
``maximum_filter`` with NaN, which chunkwise ignores in a window as documented)."""

import numpy as np
import pytest
from scipy import ndimage as ndi

import chunkwise as cw

NONFINITE = [np.nan, np.inf, -np.inf]
CHUNKINGS = [(8, 7, 6), (23, 19, 17), (5, 19, 4)]


@pytest.fixture
def volume(rng):
    return ((rng.random((23, 19, 17)) - 0.5) * 1000).astype("float64")


def lazy(a, chunks):
    return cw.from_numpy(a, chunks=chunks)


def same(got, want):
    """Equal within rounding, with NaN and the infinities at the same places."""
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9, equal_nan=True)


def windows(a, size, cval, reduce):
    """Each output value reduced over its own window of `a` padded with `cval` (direct)."""
    padded = np.pad(a, [(s // 2, s - 1 - s // 2) for s in size], constant_values=cval)
    view = np.lib.stride_tricks.sliding_window_view(padded, size)
    return reduce(view.reshape(*a.shape, -1), axis=-1)


@pytest.mark.parametrize("cval", NONFINITE)
@pytest.mark.parametrize("chunks", CHUNKINGS)
def test_linear_filters_match_scipy(volume, cval, chunks):
    x = lazy(volume, chunks)
    same(
        cw.ndimage.gaussian_filter(x, 1.5, mode="constant", cval=cval).compute(),
        ndi.gaussian_filter(volume, 1.5, mode="constant", cval=cval),
    )
    w = np.random.default_rng(3).random((3, 2, 3))
    for name in ("correlate", "convolve"):
        same(
            getattr(cw.ndimage, name)(x, w, mode="constant", cval=cval).compute(),
            getattr(ndi, name)(volume, w, mode="constant", cval=cval),
        )
    same(
        cw.ndimage.laplace(x, mode="constant", cval=cval).compute(),
        ndi.laplace(volume, mode="constant", cval=cval),
    )


@pytest.mark.parametrize("cval", NONFINITE)
@pytest.mark.parametrize("chunks", CHUNKINGS)
def test_uniform_filter_is_direct(volume, cval, chunks):
    got = cw.ndimage.uniform_filter(lazy(volume, chunks), 3, mode="constant", cval=cval).compute()
    with np.errstate(invalid="ignore"):
        want = windows(volume, (3, 3, 3), cval, np.mean)
    same(got, want)
    # SciPy's running sum puts NaN on every line that meets the edge (all of them here):
    # the NaN chunkwise gives are a subset of SciPy's.
    theirs = ndi.uniform_filter(volume, 3, mode="constant", cval=cval)
    assert np.isnan(theirs[np.isnan(got)]).all()


@pytest.mark.parametrize("cval", [np.inf, -np.inf])
@pytest.mark.parametrize("name", ["median_filter", "minimum_filter", "maximum_filter"])
@pytest.mark.parametrize("chunks", CHUNKINGS)
def test_rank_filters_with_infinite_cval_match_scipy(volume, cval, name, chunks):
    x = lazy(volume.astype("float32"), chunks)
    ours, theirs = getattr(cw.ndimage, name), getattr(ndi, name)
    same(ours(x, size=3, mode="constant", cval=cval).compute(),
         theirs(volume.astype("float32"), size=3, mode="constant", cval=cval))
    fp = np.zeros((3, 3, 3), bool)
    fp[1] = True
    fp[:, 1, 1] = True
    same(ours(x, footprint=fp, mode="constant", cval=cval).compute(),
         theirs(volume.astype("float32"), footprint=fp, mode="constant", cval=cval))


@pytest.mark.parametrize("name,reduce", [("minimum_filter", np.nanmin), ("maximum_filter", np.nanmax),
                                         ("median_filter", None)])
@pytest.mark.parametrize("chunks", CHUNKINGS)
def test_rank_filters_with_nan_cval_follow_the_nan_rules(volume, name, reduce, chunks):
    """minimum/maximum ignore NaN in a window, median sorts it after every number (README)."""
    got = getattr(cw.ndimage, name)(lazy(volume, chunks), size=3, mode="constant", cval=np.nan)
    if reduce is None:  # NaN sorts last: the median of the window with NaN as +inf, NaN kept
        want = windows(volume, (3, 3, 3), np.inf, np.median)
        want[np.isinf(want)] = np.nan
    else:
        want = windows(volume, (3, 3, 3), np.nan, reduce)
    same(got.compute(), want)


def test_integer_input_takes_nonfinite_cval_only_where_computed_in_float(volume):
    a = np.abs(volume).astype("uint16")
    x = lazy(a, (8, 7, 6))
    got = cw.ndimage.gaussian_filter(x, 1, mode="constant", cval=np.nan, output="float64").compute()
    same(got, ndi.gaussian_filter(a, 1, mode="constant", cval=np.nan, output=np.float64))
    with pytest.raises(cw.ChunkwiseError, match="cval nan does not fit the uint16 input"):
        cw.ndimage.median_filter(x, 3, mode="constant", cval=np.nan)


def test_nonfinite_cval_through_a_pipeline_op():
    a = np.arange(60, dtype="float32").reshape(6, 10)
    got = cw.apply("gaussian_filter", x=cw.from_numpy(a, chunks=4), sigma=1.0, mode="constant",
                   cval=np.nan).compute()
    same(got, ndi.gaussian_filter(a, 1.0, mode="constant", cval=np.nan))
