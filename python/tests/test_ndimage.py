"""cw.ndimage against scipy.ndimage, on shapes that do not divide the chunks."""

import numpy as np
import pytest
from scipy import ndimage as ndi

import chunkwise as cw

MODES = ["reflect", "mirror", "nearest", "wrap", "constant"]


@pytest.fixture
def volume(rng):
    return (rng.random((23, 19, 17)) * 1000).astype("float64")


def lazy(a, chunks=(8, 7, 6)):
    return cw.from_numpy(a, chunks=chunks)


@pytest.mark.parametrize("mode", MODES)
def test_gaussian_filter(volume, mode):
    got = cw.ndimage.gaussian_filter(lazy(volume), sigma=1.5, mode=mode, cval=3.0).compute()
    want = ndi.gaussian_filter(volume, sigma=1.5, mode=mode, cval=3.0)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


def test_gaussian_filter_per_axis_sigma_and_truncate(volume):
    got = cw.ndimage.gaussian_filter(lazy(volume), (0.5, 1, 2), truncate=3.0).compute()
    np.testing.assert_allclose(got, ndi.gaussian_filter(volume, (0.5, 1, 2), truncate=3.0), rtol=1e-9)


def test_default_output_type_is_float32_for_integers(volume):
    a = volume.astype("uint16")
    got = cw.ndimage.gaussian_filter(lazy(a), 1).compute()
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ndi.gaussian_filter(a.astype("float32"), 1), rtol=1e-4)
    got = cw.ndimage.gaussian_filter(lazy(a), 1, output="float64").compute()
    assert got.dtype == np.float64


@pytest.mark.parametrize("mode", MODES)
def test_uniform_filter(volume, mode):
    got = cw.ndimage.uniform_filter(lazy(volume), size=(3, 5, 2), mode=mode).compute()
    np.testing.assert_allclose(got, ndi.uniform_filter(volume, (3, 5, 2), mode=mode), rtol=1e-9)


@pytest.mark.parametrize("name", ["median_filter", "minimum_filter", "maximum_filter"])
def test_rank_filters(volume, name):
    ours, theirs = getattr(cw.ndimage, name), getattr(ndi, name)
    np.testing.assert_allclose(ours(lazy(volume), size=3).compute(), theirs(volume, size=3))
    fp = np.zeros((3, 3, 3), bool)
    fp[1] = True
    fp[:, 1, 1] = True
    np.testing.assert_allclose(
        ours(lazy(volume), footprint=fp, mode="nearest").compute(),
        theirs(volume, footprint=fp, mode="nearest"),
    )


@pytest.mark.parametrize("name", ["correlate", "convolve"])
def test_weights_filters(volume, rng, name):
    w = rng.random((3, 2, 3))
    got = getattr(cw.ndimage, name)(lazy(volume), w, mode="wrap").compute()
    np.testing.assert_allclose(got, getattr(ndi, name)(volume, w, mode="wrap"), rtol=1e-9)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_sobel(volume, axis):
    np.testing.assert_allclose(
        cw.ndimage.sobel(lazy(volume), axis=axis).compute(), ndi.sobel(volume, axis=axis), rtol=1e-9, atol=1e-9
    )


def test_laplace_and_gradient_magnitude(volume):
    np.testing.assert_allclose(cw.ndimage.laplace(lazy(volume)).compute(), ndi.laplace(volume), atol=1e-8)
    np.testing.assert_allclose(
        cw.ndimage.gaussian_gradient_magnitude(lazy(volume), 1.0).compute(),
        ndi.gaussian_gradient_magnitude(volume, 1.0),
        rtol=1e-8,
        atol=1e-8,
    )


def test_filters_chain_with_elementwise(volume):
    x = lazy(volume)
    got = cw.ndimage.gaussian_filter(x * 2 + 1, 1).clip(0, 1500).compute()
    want = np.clip(ndi.gaussian_filter(volume * 2 + 1, 1), 0, 1500)
    np.testing.assert_allclose(got, want, rtol=1e-9)
