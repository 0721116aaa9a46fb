"""NumPy scalars are strong (NumPy 2, NEP 50): their type takes part in promotion, where Python
numbers take the array's. Operators, the element-wise functions, ``where`` and ``clip`` against
NumPy for every pair of an array type and a NumPy scalar type chunkwise supports."""

import operator
import warnings

import numpy as np
import pytest

import chunkwise as cw

TYPES = ["bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
         "float32", "float64"]
SHAPE, CHUNKS = (9, 7), (4, 3)


def sample(rng, dtype, shape=SHAPE):
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if np.dtype(dtype).kind == "f":
        return ((rng.random(shape) - 0.3) * 90).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -40), min(info.max, 90), shape).astype(dtype)


def scalar(dtype):
    """A NumPy scalar of `dtype` whose value is not exact in every type (so a wrong cast
    shows): 3 for integers (1 for bool), 2.7 for floats (not exact in float32)."""
    if dtype == "bool":
        return np.bool_(True)
    return np.dtype(dtype).type(2.7 if np.dtype(dtype).kind == "f" else 3)


def numpy_or_error(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(*args), None
        except (TypeError, ValueError, OverflowError) as e:
            return None, e


def check(got_fn, want, err):
    """`got_fn()` computes what NumPy gave as `want`, or raises too where NumPy raised `err`."""
    if err is not None:
        with pytest.raises((TypeError, ValueError, OverflowError)):
            got_fn().compute()
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = got_fn().compute()
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    if want.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=1e-6 if want.dtype == np.float32 else 1e-13)
    else:
        np.testing.assert_array_equal(got, want)


ARITH = [operator.add, operator.sub, operator.mul, operator.truediv]


@pytest.mark.parametrize("array_type", TYPES)
@pytest.mark.parametrize("scalar_type", TYPES)
def test_arithmetic_with_numpy_scalars_promotes_as_numpy(rng, array_type, scalar_type):
    a = sample(rng, array_type)
    x = cw.from_numpy(a, chunks=CHUNKS)
    s = scalar(scalar_type)
    for op in ARITH:
        for reflected in (False, True):
            args = (s, a) if reflected else (a, s)
            want, err = numpy_or_error(op, *args)
            check(lambda: op(s, x) if reflected else op(x, s), want, err)


@pytest.mark.parametrize("array_type", TYPES)
@pytest.mark.parametrize("scalar_type", TYPES)
def test_comparisons_with_numpy_scalars_match_numpy(rng, array_type, scalar_type):
    a = sample(rng, array_type)
    x = cw.from_numpy(a, chunks=CHUNKS)
    s = scalar(scalar_type)
    for op in (operator.lt, operator.le, operator.eq, operator.ne, operator.gt, operator.ge):
        want, err = numpy_or_error(op, a, s)
        check(lambda: op(x, s), want, err)
        # The scalar first: NumPy's scalar defers to chunkwise's reflected comparison.
        want, err = numpy_or_error(op, s, a)
        check(lambda: op(s, x), want, err)
        # Values the array's own type cannot hold compare exactly, as in NumPy.
        if np.dtype(array_type).kind in "iu" and np.dtype(scalar_type).kind in "iu":
            big = np.dtype(scalar_type).type(np.iinfo(scalar_type).max)
            want, err = numpy_or_error(op, a, big)
            check(lambda: op(x, big), want, err)


@pytest.mark.parametrize("array_type", TYPES)
@pytest.mark.parametrize("scalar_type", TYPES)
def test_where_with_numpy_scalars_matches_numpy(rng, array_type, scalar_type):
    a = sample(rng, array_type)
    m = rng.random(SHAPE) > 0.4
    x, mask = cw.from_numpy(a, chunks=CHUNKS), cw.from_numpy(m, chunks=(5, 2))
    s = scalar(scalar_type)
    want, err = numpy_or_error(np.where, m, a, s)
    check(lambda: cw.where(mask, x, s), want, err)
    want, err = numpy_or_error(np.where, m, s, a)
    check(lambda: cw.where(mask, s, x), want, err)
    # Two scalars: the result type is theirs, as NumPy's.
    other = np.float32(0.5) if scalar_type != "float32" else np.int16(-2)
    want, err = numpy_or_error(np.where, m, s, other)
    check(lambda: cw.where(mask, s, other), want, err)


@pytest.mark.parametrize("array_type", TYPES[1:])
@pytest.mark.parametrize("bound_type", TYPES[1:])
def test_clip_with_numpy_scalars_matches_numpy(rng, array_type, bound_type):
    a = sample(rng, array_type)
    x = cw.from_numpy(a, chunks=CHUNKS)
    lo = scalar(bound_type)
    for bounds in [(lo, 50), (None, lo), (lo, np.float32(40.5)), (-5, lo)]:
        want, err = numpy_or_error(np.clip, a, *bounds)
        check(lambda: x.clip(*bounds), want, err)
        check(lambda: cw.clip(x, *bounds), want, err)


@pytest.mark.parametrize(
    "name", ["add", "subtract", "multiply", "divide", "maximum", "minimum", "floor_divide",
             "remainder", "pow", "atan2", "hypot", "copysign", "less", "greater_equal",
             "logical_and", "bitwise_and", "bitwise_left_shift"]
)
@pytest.mark.parametrize("types", [("uint8", "float32"), ("float32", "float64"), ("int8", "int16"),
                                   ("uint16", "int8"), ("int64", "uint64"), ("bool", "uint8")])
def test_functions_with_numpy_scalars_match_numpy(rng, name, types):
    a = np.abs(sample(rng, types[0])) if types[0] != "bool" else sample(rng, "bool")
    x = cw.from_numpy(a, chunks=CHUNKS)
    s = np.dtype(types[1]).type(2)
    fn = getattr(np, name)
    for args, ours in [((a, s), (x, s)), ((s, a), (s, x))]:
        want, err = numpy_or_error(fn, *args)
        if err is None and want.dtype == np.float16:
            # chunkwise has no float16: its float functions of 8-bit types run in float32.
            want, err = numpy_or_error(fn, *(np.asarray(v).astype(np.float32) for v in args))
        check(lambda: getattr(cw, name)(*ours), want, err)


def test_python_numbers_stay_weak_and_zero_d_arrays_are_strong(rng):
    a = sample(rng, "uint8")
    x = cw.from_numpy(a, chunks=CHUNKS)
    assert (x * 2).dtype == np.uint8
    assert (x * 2.0).dtype == np.float64
    assert (x * np.float32(2)).dtype == np.float32
    assert (x + np.array(3, dtype="int16")).dtype == np.int16
    f = cw.from_numpy(sample(rng, "float32"), chunks=CHUNKS)
    assert (f + 1.0).dtype == np.float32
    assert (f + np.float64(1)).dtype == np.float64
    # np.float64 is a subclass of Python's float, and strong all the same.
    np.testing.assert_allclose((f + np.float64(0.1)).compute(), f.compute() + np.float64(0.1))


def test_numpy_refusals_stay_refusals(rng):
    x = cw.from_numpy(sample(rng, "float32"), chunks=CHUNKS)
    with pytest.raises(TypeError):
        x & np.int8(1)  # NumPy has no bitwise_and for floats
    with pytest.raises(TypeError):
        x < np.str_("a")
