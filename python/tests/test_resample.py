"""downsample / upsample against NumPy references."""

import numpy as np
import pytest

import chunkwise as cw


def test_downsample_mean_float(rng):
    a = rng.random((16, 12))
    got = cw.from_numpy(a, chunks=(5, 7)).downsample(2).compute()
    np.testing.assert_allclose(got, a.reshape(8, 2, 6, 2).mean(axis=(1, 3)))


@pytest.mark.parametrize("method,reduce", [("min", np.min), ("max", np.max)])
def test_downsample_min_max_per_axis(rng, method, reduce):
    a = rng.integers(0, 60000, (12, 9)).astype("uint16")
    got = cw.from_numpy(a, chunks=4).downsample((2, 3), method=method).compute()
    assert got.dtype == np.uint16
    np.testing.assert_array_equal(got, reduce(a.reshape(6, 2, 3, 3), axis=(1, 3)))


def test_downsample_shape_not_dividing(rng):
    a = rng.random((15, 11))
    got = cw.from_numpy(a, chunks=4).downsample(2).compute()
    assert got.shape == (8, 6)
    np.testing.assert_allclose(got[:7, :5], a[:14, :10].reshape(7, 2, 5, 2).mean(axis=(1, 3)))


def test_upsample_nearest(rng):
    a = rng.integers(0, 255, (7, 5)).astype("uint8")
    got = cw.from_numpy(a, chunks=3).upsample((2, 3)).compute()
    np.testing.assert_array_equal(got, np.repeat(np.repeat(a, 2, axis=0), 3, axis=1))


def test_upsample_linear_matches_scipy_zoom(rng):
    from scipy import ndimage as ndi

    a = rng.random((6, 7))
    got = cw.from_numpy(a, chunks=4).upsample(2, method="linear").compute()
    want = ndi.zoom(a, 2, order=1, grid_mode=True, mode="nearest")
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_unknown_method():
    with pytest.raises(cw.ChunkwiseError, match="method"):
        cw.from_numpy(np.zeros((4, 4))).downsample(2, method="bogus")
