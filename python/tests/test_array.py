"""The lazy array: construction, attributes, NumPy-like operators, against NumPy."""

import numpy as np
import pytest

import chunkwise as cw

DTYPES = ["uint8", "uint16", "int16", "int32", "float32", "float64"]


def sample(rng, shape, dtype):
    if np.dtype(dtype).kind == "f":
        return (rng.random(shape) * 100).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -1000), min(info.max, 1000), shape).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES + ["bool", "int8", "uint32", "int64", "uint64"])
def test_round_trip_with_shapes_not_dividing_chunks(rng, dtype):
    a = sample(rng, (37, 23), dtype) if dtype != "bool" else rng.random((37, 23)) > 0.5
    x = cw.from_numpy(a, chunks=(8, 5))
    out = x.compute()
    assert out.dtype == a.dtype
    np.testing.assert_array_equal(out, a)


def test_attributes_and_repr(rng):
    x = cw.from_numpy(np.zeros((10, 20, 30), "uint16"), chunks=8)
    assert x.shape == (10, 20, 30)
    assert x.ndim == 3
    assert x.dtype == np.dtype("uint16")
    assert x.chunks == (8, 8, 8)
    assert x.size == 6000 and x.nbytes == 12000
    assert len(x) == 10
    r = repr(x)
    assert "shape=(10, 20, 30)" in r and "uint16" in r and "chunks=(8, 8, 8)" in r
    html = x._repr_html_()
    assert html.startswith("<table>") and "10 × 20 × 30" in html and "uint16" in html


def test_non_contiguous_input(rng):
    a = sample(rng, (30, 40), "float32")[::2, ::3]
    np.testing.assert_array_equal(cw.from_numpy(a, chunks=7).compute(), a)


@pytest.mark.parametrize("dtype", DTYPES)
def test_seed_chain_matches_numpy(rng, dtype):
    a = sample(rng, (33, 17), dtype)
    x = cw.from_numpy(a, chunks=(10, 6))
    got = (x.astype("float32") * 1.5 + 100).clip(0, 200).compute()
    want = np.clip(a.astype("float32") * 1.5 + 100, 0, 200)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("dtype", ["uint16", "int16", "float32", "float64"])
@pytest.mark.parametrize(
    "f",
    [
        lambda x: x + 3,
        lambda x: 3 + x,
        lambda x: x - 2,
        lambda x: 500 - x,
        lambda x: x * 2,
        lambda x: 2 * x,
        lambda x: x / 4,
        lambda x: 8 / (x + 1),
        lambda x: x * 1.5,
        lambda x: abs(x),
        lambda x: x.clip(10, 50),
        lambda x: x.clip(None, 50),
        lambda x: x > 40,
        lambda x: 40 < x,
        lambda x: x.astype("int32"),
    ],
)
def test_operators_and_promotion_match_numpy(rng, dtype, f):
    a = sample(rng, (21, 13), dtype)
    want = f(a)
    got = f(cw.from_numpy(a, chunks=(5, 4))).compute()
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_unary_functions(rng):
    a = sample(rng, (12, 9), "float64") + 1
    x = cw.from_numpy(a, chunks=4)
    np.testing.assert_allclose(x.sqrt().compute(), np.sqrt(a))
    np.testing.assert_allclose(x.log().compute(), np.log(a))
    np.testing.assert_allclose((x / 50).exp().compute(), np.exp(a / 50))


def test_two_arrays_promote_as_numpy(rng):
    a = sample(rng, (19, 11), "int16")
    b = sample(rng, (19, 11), "float32")
    x, y = cw.from_numpy(a, chunks=5), cw.from_numpy(b, chunks=(4, 7))
    for f in [lambda p, q: p + q, lambda p, q: p * q, lambda p, q: q - p, lambda p, q: p / (q + 1)]:
        got, want = f(x, y).compute(), f(a, b)
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-6)
    np.testing.assert_array_equal(x.minimum(y).compute(), np.minimum(a, b))
    np.testing.assert_array_equal(x.maximum(y).compute(), np.maximum(a, b))


def test_where(rng):
    a = sample(rng, (14, 15), "float32")
    x = cw.from_numpy(a, chunks=6)
    np.testing.assert_array_equal(cw.where(x > 50, x, 0).compute(), np.where(a > 50, a, 0))
    b = sample(rng, (14, 15), "float32")
    y = cw.from_numpy(b, chunks=4)
    np.testing.assert_array_equal(cw.where(x > 50, x, y).compute(), np.where(a > 50, a, b))


def test_numpy_interop(rng):
    a = sample(rng, (9, 8), "float32")
    x = cw.from_numpy(a, chunks=4)
    np.testing.assert_array_equal(np.asarray(x), a)
    # ndarray + chunkwise array defers to chunkwise (the numpy array is a scalar to nobody).
    with pytest.raises(TypeError):
        a + x


def test_comparisons_match_numpy(rng):
    import operator

    ops = [operator.lt, operator.le, operator.eq, operator.ne, operator.gt, operator.ge]
    for dtype in ["uint8", "int16", "float32"]:
        a = sample(rng, (9, 11), dtype)
        b = sample(rng, (1, 11), dtype)  # broadcast against a
        x, y = cw.from_numpy(a, chunks=4), cw.from_numpy(b, chunks=(1, 5))
        for op in ops:
            # Python ints out of the array's range compare exactly, as in NumPy 2.
            for other in [3, 300, -1, 2.5]:
                got = op(x, other).compute()
                assert got.dtype == np.bool_
                np.testing.assert_array_equal(got, op(a, other), err_msg=f"{dtype} {op} {other}")
            np.testing.assert_array_equal(op(x, y).compute(), op(a, b), err_msg=f"{dtype} {op}")
    with pytest.raises(TypeError):
        x < "text"


def test_bad_arguments_raise_chunkwise_error():
    x = cw.from_numpy(np.zeros((4, 4), "uint8"), chunks=2)
    with pytest.raises(cw.ChunkwiseError, match="dtype"):
        x.astype("complex64")
    with pytest.raises(ValueError):  # ChunkwiseError is a ValueError
        cw.from_numpy(np.zeros((4, 4)), chunks=(2, 2, 2))
    with pytest.raises(cw.ChunkwiseError, match="chunk"):
        cw.from_numpy(np.zeros((4, 4)), chunks=(0, 2))
    with pytest.raises(cw.ChunkwiseError):
        cw.from_numpy(np.zeros((4, 4)), chunks=2) + cw.from_numpy(np.zeros((4, 5)), chunks=2)
    with pytest.raises(cw.ChunkwiseError, match="mode"):
        cw.ndimage.gaussian_filter(x, 1, mode="bogus")
    with pytest.raises(TypeError):
        x + "text"
    assert issubclass(cw.ChunkwiseError, ValueError)


def test_scalar_out_of_range_keeps_its_message():
    x = cw.from_numpy(np.zeros((4, 4), "int64"), chunks=2)
    with pytest.raises(cw.ChunkwiseError, match="fits neither int64 nor uint64"):
        x + 2**70


def test_where_broadcasts_as_numpy(rng):
    m = rng.random((6, 5, 4)) > 0.5
    a = rng.random((5, 1)).astype("float32")
    b = rng.integers(0, 9, (4,)).astype("int16")
    got = cw.where(cw.from_numpy(m, chunks=(4, 2, 3)), cw.from_numpy(a, chunks=2),
                   cw.from_numpy(b, chunks=3)).compute()
    want = np.where(m, a, b)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
