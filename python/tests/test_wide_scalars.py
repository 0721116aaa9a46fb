"""The scalars at the edges of NumPy 2's rules, against NumPy for every array type chunkwise
has: uint64 values above the largest int64 (strong ``np.uint64`` and weak Python ints), float16
(which chunkwise does not have: a clear error where NumPy's result is float16 because of a
float16 scalar, float32 where NumPy picks float16 for 8-bit integers on its own), and NumPy
scalars passed to ``cw.apply`` (strong, as in the operators)."""

import operator

import numpy as np
import pytest
from test_strong_scalars import CHUNKS, SHAPE, TYPES, check, numpy_or_error, sample, scalar

import chunkwise as cw

ARITH = [operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv]
COMPARE = [operator.lt, operator.le, operator.eq, operator.ne, operator.gt, operator.ge]
# Above the largest int64: where a uint64 scalar used to fail.
BIG = [2**63, 2**63 + 5, 2**64 - 1]


@pytest.mark.parametrize("array_type", TYPES)
@pytest.mark.parametrize("value", BIG)
def test_uint64_scalars_above_int64_follow_numpy(rng, array_type, value):
    a = sample(rng, array_type)
    x = cw.from_numpy(a, chunks=CHUNKS)
    s = np.uint64(value)
    for op in ARITH + COMPARE:
        for reflected in (False, True):
            args = (s, a) if reflected else (a, s)
            want, err = numpy_or_error(op, *args)
            check(lambda: op(s, x) if reflected else op(x, s), want, err)
    m = rng.random(SHAPE) > 0.4
    mask = cw.from_numpy(m, chunks=(5, 2))
    want, err = numpy_or_error(np.where, m, a, s)
    check(lambda: cw.where(mask, x, s), want, err)
    want, err = numpy_or_error(np.where, m, s, np.float32(0.5))
    check(lambda: cw.where(mask, s, np.float32(0.5)), want, err)
    if array_type != "bool":
        for bounds in [(None, s), (s, None), (np.uint64(3), s)]:
            want, err = numpy_or_error(np.clip, a, *bounds)
            check(lambda: x.clip(*bounds), want, err)


@pytest.mark.parametrize("array_type", TYPES)
@pytest.mark.parametrize("value", BIG)
def test_python_ints_above_int64_follow_numpy(rng, array_type, value):
    """Weak: a uint64 array takes them (wrapping as NumPy's arithmetic does), a float array
    converts them, comparisons are exact, and the other integer types refuse arithmetic with
    them (NumPy's OverflowError)."""
    a = sample(rng, array_type)
    x = cw.from_numpy(a, chunks=CHUNKS)
    for op in ARITH + COMPARE:
        want, err = numpy_or_error(op, a, value)
        check(lambda: op(x, value), want, err)
        want, err = numpy_or_error(op, value, a)
        check(lambda: op(value, x), want, err)


def test_integers_beyond_uint64_name_the_range(rng):
    x = cw.from_numpy(sample(rng, "uint64"), chunks=CHUNKS)
    for value in (2**64, -(2**63) - 1):
        with pytest.raises(cw.ChunkwiseError, match="fits neither int64 nor uint64"):
            x + value


def test_uint64_maximum_is_exact_in_a_pipeline_file_value(rng):
    """The engine's scalar holds uint64's maximum, so the JSON the Python API sends keeps it."""
    a = sample(rng, "uint64")
    x = cw.from_numpy(a, chunks=CHUNKS)
    got = cw.apply("bitwise_xor", x=x, y=2**64 - 1).compute()
    np.testing.assert_array_equal(got, a ^ np.uint64(2**64 - 1))
    assert got.dtype == np.uint64


@pytest.mark.parametrize("array_type", TYPES)
def test_float16_scalars_give_numpy_result_or_one_clear_error(rng, array_type):
    """chunkwise has no float16. A float16 scalar with a wider type promotes as NumPy's (float32,
    float64); where NumPy's result would be float16, one line names float16 and the fix."""
    a = sample(rng, array_type)
    x = cw.from_numpy(a, chunks=CHUNKS)
    h = np.float16(2.5)
    m = rng.random(SHAPE) > 0.4
    mask = cw.from_numpy(m, chunks=(5, 2))
    cases = [(op, (a, h), lambda op=op: op(x, h)) for op in ARITH + COMPARE]
    cases += [(op, (h, a), lambda op=op: op(h, x)) for op in ARITH]
    cases += [
        (np.where, (m, a, h), lambda: cw.where(mask, x, h)),
        (np.atan2, (a, h), lambda: cw.atan2(x, h)),
        (np.add, (a, h), lambda: cw.apply("add", x=x, y=h)),
    ]
    if array_type != "bool":
        cases.append((np.clip, (a, h, 40), lambda: x.clip(h, 40)))
    for fn, args, ours in cases:
        want, err = numpy_or_error(fn, *args)
        if err is None and want.dtype == np.float16:
            with pytest.raises(cw.ChunkwiseError) as raised:
                ours()
            message = str(raised.value)
            assert "float16" in message and "np.float32" in message and "\n" not in message
        else:
            check(ours, want, err)


def test_float16_arrays_and_casts_say_to_use_float32(rng):
    x = cw.from_numpy(sample(rng, "float32"), chunks=CHUNKS)
    for build in (
        lambda: cw.from_numpy(np.zeros(SHAPE, np.float16)),
        lambda: x.astype("float16"),
        lambda: x.astype(np.float16),
        lambda: x.map_blocks(lambda b: b, dtype=np.float16),
    ):
        with pytest.raises(cw.ChunkwiseError, match=r"no float16; use float32"):
            build()


@pytest.mark.parametrize("name", ["atan2", "hypot", "copysign", "logaddexp"])
@pytest.mark.parametrize("array_type", ["bool", "int8", "uint8"])
@pytest.mark.parametrize("scalar_type", ["bool", "int8", "uint8"])
def test_float_functions_of_8_bit_types_run_in_float32(rng, name, array_type, scalar_type):
    """NumPy runs these in float16; chunkwise in float32, for a strong scalar as for an array
    of the scalar's type (its rule for float functions of 8-bit integers)."""
    a = sample(rng, array_type)
    x = cw.from_numpy(a, chunks=CHUNKS)
    s = scalar(scalar_type)
    fn = getattr(np, name)
    assert fn(a, s).dtype == np.float16  # what NumPy does, and why this test exists
    got = getattr(cw, name)(x, s).compute()
    also = getattr(cw, name)(x, cw.from_numpy(np.full(SHAPE, s), chunks=CHUNKS)).compute()
    want = fn(a.astype(np.float32), np.float32(s))
    assert got.dtype == also.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-6)
    np.testing.assert_array_equal(got, also)


@pytest.mark.parametrize("array_type", TYPES)
@pytest.mark.parametrize("scalar_type", TYPES)
def test_apply_takes_numpy_scalars_as_strong(rng, array_type, scalar_type):
    """``cw.apply`` by op name gives what the operators and NumPy give."""
    a = sample(rng, array_type)
    x = cw.from_numpy(a, chunks=CHUNKS)
    s = scalar(scalar_type)
    for name, fn in [("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                     ("divide", np.divide), ("greater", np.greater), ("maximum", np.maximum)]:
        want, err = numpy_or_error(fn, a, s)
        check(lambda: cw.apply(name, x=x, y=s), want, err)
        want, err = numpy_or_error(fn, s, a)
        check(lambda: cw.apply(name, x=s, y=x), want, err)
    m = rng.random(SHAPE) > 0.4
    mask = cw.from_numpy(m, chunks=(5, 2))
    want, err = numpy_or_error(np.where, m, s, a)
    check(lambda: cw.apply("where", mask=mask, a=s, b=x), want, err)
    other = np.float32(0.5) if scalar_type != "float32" else np.int16(-2)
    want, err = numpy_or_error(np.where, m, s, other)
    check(lambda: cw.apply("where", mask=mask, a=s, b=other), want, err)
    if array_type != "bool":
        want, err = numpy_or_error(np.clip, a, s, 50)
        check(lambda: cw.apply("clip", x=x, min=s, max=50), want, err)
        want, err = numpy_or_error(lambda v: (v > s).astype(np.uint8), a)
        check(lambda: cw.apply("threshold", x=x, value=s), want, err)
