"""The array API vocabulary from Python: every element-wise function and operator against
NumPy (results and result dtypes, NumPy 2 promotion), on shapes not dividing the chunks."""

import warnings

import numpy as np
import pytest

import chunkwise as cw
from chunkwise import _vocab

FLOATS = ["float32", "float64"]
INTS = ["uint8", "int16", "int32", "uint16"]


def sample(rng, shape, dtype, positive=False):
    if np.dtype(dtype).kind == "f":
        a = rng.random(shape) * (2 if positive else 4) - (0 if positive else 2)
        return a.astype(dtype)
    if np.dtype(dtype).kind == "b":
        return rng.random(shape) > 0.5
    info = np.iinfo(dtype)
    lo = 1 if positive else max(info.min, -50)
    return rng.integers(lo, min(info.max, 50), shape).astype(dtype)


def numpy_reference(fn, *arrays):
    """NumPy's result, with chunkwise's two documented differences: float functions of bool and
    8-bit integers give float32 (NumPy: float16, a type chunkwise does not use), and
    `reciprocal` is a float function for integers too (the array API standard's)."""
    want = fn(*arrays)
    if want.dtype == np.float16:
        want = fn(*(a.astype("float32") for a in arrays))
    elif fn is np.reciprocal and want.dtype.kind in "iu":
        wide = "float64" if want.dtype.itemsize > 2 else "float32"
        want = fn(*(a.astype(wide) for a in arrays))
    return want


def check(got, want):
    got = got.compute()
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, rtol=2e-6 if want.dtype == np.float32 else 1e-12)


def test_every_name_is_an_op_of_the_registry():
    names = set(cw._chunkwise._op_names())
    missing = [n for n in _vocab.UNARY + _vocab.BINARY if n not in names]
    assert not missing, missing


@pytest.mark.parametrize("name", _vocab.UNARY)
@pytest.mark.parametrize("dtype", FLOATS + ["int16", "uint8", "bool"])
def test_unary_functions_match_numpy(rng, name, dtype):
    positive = name in ("log", "log2", "log10", "sqrt", "acosh", "reciprocal")
    a = sample(rng, (13, 7), dtype, positive)
    if name == "acosh" and a.dtype.kind == "f":
        a = a + 1
    if name in ("asin", "acos", "atanh") and a.dtype.kind == "f":
        a = a / 2.5
    fn = getattr(np, {"bitwise_invert": "invert"}.get(name, name))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            want = numpy_reference(fn, a)
        except TypeError:
            # NumPy refuses this dtype: so must chunkwise, with a clear error.
            with pytest.raises((cw.ChunkwiseError, TypeError, ValueError)):
                getattr(cw, name)(cw.from_numpy(a, chunks=(4, 3))).compute()
            return
        x = cw.from_numpy(a, chunks=(4, 3))
        check(getattr(cw, name)(x), want)


@pytest.mark.parametrize("name", _vocab.BINARY)
@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("int16", "uint8"), ("uint8", "float64"), ("bool", "bool")])
def test_binary_functions_match_numpy_with_broadcasting(rng, name, dtypes):
    a = sample(rng, (9, 11, 5), dtypes[0], positive=True)
    b = sample(rng, (11, 1), dtypes[1], positive=True)
    np_name = {"bitwise_left_shift": "left_shift", "bitwise_right_shift": "right_shift"}.get(name, name)
    if "shift" in name and a.dtype.kind in "iu":
        b = b % 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            want = numpy_reference(getattr(np, np_name), a, b)
        except TypeError:
            with pytest.raises((cw.ChunkwiseError, TypeError, ValueError)):
                getattr(cw, name)(cw.from_numpy(a, chunks=(4, 4, 2)), cw.from_numpy(b, chunks=(5, 1))).compute()
            return
        got = getattr(cw, name)(cw.from_numpy(a, chunks=(4, 4, 2)), cw.from_numpy(b, chunks=(5, 1)))
        check(got, want)


def test_python_numbers_follow_numpy_2_scalar_rules(rng):
    a = sample(rng, (10, 6), "uint8")
    x = cw.from_numpy(a, chunks=4)
    check(cw.greater(x, 300), np.greater(a, 300))
    check(cw.add(x, 3), np.add(a, 3))
    check(cw.multiply(2.5, x), np.multiply(2.5, a))
    with pytest.raises(cw.ChunkwiseError):
        cw.add(x, 300)  # NumPy 2 raises OverflowError for uint8 + 300


@pytest.mark.parametrize("dtype", ["float32", "float64", "uint16", "int8"])
def test_nan_and_infinite_arguments_work_as_in_numpy(rng, dtype):
    """NaN and the infinities reach the engine as the pipeline files write them ("nan", "inf",
    "-inf": JSON has no literal for them), so every function takes them as NumPy does."""
    a = sample(rng, (11, 7), dtype)
    if a.dtype.kind == "f":
        a[2, 3], a[5, 1] = np.nan, -np.inf
    x = cw.from_numpy(a, chunks=(4, 3))
    m = cw.from_numpy(a > 0, chunks=(5, 2))
    nan, inf = np.nan, np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        check(cw.clip(x, -inf, nan), np.clip(a, -inf, nan))
        check(cw.clip(x, min=-inf), np.clip(a, -inf, None))
        check(cw.clip(x, None, inf), np.clip(a, None, inf))
        check(x.clip(nan, None), np.clip(a, nan, None))
        check(cw.add(x, nan), np.add(a, nan))
        check(x + nan, a + nan)
        check(cw.maximum(x, nan), np.maximum(a, nan))
        check(cw.minimum(-inf, x), np.minimum(-inf, a))
        check(cw.greater(x, -inf), np.greater(a, -inf))
        check(cw.equal(x, nan), np.equal(a, nan))
        check(cw.where(m, x, nan), np.where(a > 0, a, nan))
        check(cw.apply("where", mask=m, a=inf, b=x), np.where(a > 0, inf, a))
        check(cw.apply("threshold", x=x, value=-inf), (a > -inf).astype("uint8"))


@pytest.mark.parametrize("dtype", ["int16", "uint8", "int32"])
def test_operators_match_numpy(rng, dtype):
    a = sample(rng, (8, 9), dtype, positive=True)
    b = sample(rng, (8, 9), dtype, positive=True)
    x, y = cw.from_numpy(a, chunks=(3, 4)), cw.from_numpy(b, chunks=(5, 2))
    check(x // y, a // b)
    check(x % y, a % b)
    check(x**2, a**2)
    check(2**(x % 5), 2 ** (a % 5))
    check(x & y, a & b)
    check(x | 3, a | 3)
    check(5 ^ x, 5 ^ a)
    check(x << 1, a << 1)
    check(x >> 1, a >> 1)
    check(~x, ~a)
    check(-x, -a)
    check(+x, +a)
    check(100 // x, 100 // a)
    check(100 % x, 100 % a)


def test_bool_operators_are_logical(rng):
    a, b = rng.random((7, 5)) > 0.5, rng.random((7, 5)) > 0.3
    x, y = cw.from_numpy(a, chunks=3), cw.from_numpy(b, chunks=2)
    check((x & y) | ~x, (a & b) | ~a)
    check(x ^ y, a ^ b)
    t = sample(rng, (7, 5), "float32")
    xt = cw.from_numpy(t, chunks=3)
    check((xt > -0.5) & (xt < 0.5), (t > -0.5) & (t < 0.5))


def test_float_bitwise_is_refused_as_numpy_does(rng):
    x = cw.from_numpy(sample(rng, (4, 4), "float32"), chunks=2)
    with pytest.raises(cw.ChunkwiseError):
        x & x
    with pytest.raises(cw.ChunkwiseError):
        ~x


def test_apply_reaches_any_pipeline_op(rng):
    a = sample(rng, (10, 10), "float32")
    x = cw.from_numpy(a, chunks=4)
    check(cw.apply("clip", x=x, min=-0.5, max=0.5), np.clip(a, -0.5, 0.5).astype("float32"))
    with pytest.raises(cw.ChunkwiseError, match="unknown"):
        cw.apply("no_such_op", x=x)
    with pytest.raises(TypeError):
        cw.add(x, object())
    with pytest.raises(cw.ChunkwiseError, match="unknown name"):
        cw.add(x, "3")  # a string names an array, as in pipeline files
