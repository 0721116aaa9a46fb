"""Indexing and manipulation from Python against NumPy: x[...] with NumPy's basic indexing, and
concat, stack, pad, flip, roll, permute_dims, moveaxis, expand_dims, squeeze, broadcast_to,
reshape, repeat, tile and rechunk, on shapes not dividing the chunks."""

import numpy as np
import pytest

import chunkwise as cw


@pytest.fixture
def a(rng):
    return rng.integers(0, 1000, (11, 7, 5)).astype("int32")


@pytest.fixture
def x(a):
    return cw.from_numpy(a, chunks=(4, 3, 2))


KEYS = [
    5,
    -1,
    (slice(2, 9), slice(None), slice(None, None, -2)),
    (Ellipsis, 3),
    (slice(None, None, 3), None, slice(1, -1)),
    (slice(-3, None), 2, slice(None, None, -1)),
    (slice(10, 2, -3),),
    (slice(100, 200),),
]


@pytest.mark.parametrize("key", KEYS, ids=repr)
def test_basic_indexing_matches_numpy(a, x, key):
    got = x[key].compute(threads=2)
    np.testing.assert_array_equal(got, a[key])


def test_bad_indices_are_index_errors_or_clear_errors(a, x):
    # NumPy's exception types and messages.
    for key in (11, -12, (0, 0, 9), (0, 0, 0, 0), (Ellipsis, 5)):
        with pytest.raises(IndexError) as want:
            a[key]
        with pytest.raises(IndexError) as got:
            x[key]
        assert str(got.value) == str(want.value), key
    with pytest.raises(IndexError, match="basic indexing"):
        x[[1, 2]]
    with pytest.raises(cw.ChunkwiseError):
        x[::0]


def test_join_and_pad(rng, a, x):
    b = rng.integers(0, 9, (4, 7, 5)).astype("int32")
    y = cw.from_numpy(b, chunks=(3, 7, 5))
    np.testing.assert_array_equal(cw.concat([x, y]).compute(), np.concatenate([a, b]))
    np.testing.assert_array_equal(cw.stack([x, x], axis=1).compute(), np.stack([a, a], axis=1))
    for mode in ["constant", "edge", "reflect", "symmetric", "wrap"]:
        kw = {"constant_values": 7} if mode == "constant" else {}
        got = cw.pad(x, ((1, 2), (0, 3), (2, 0)), mode=mode, **kw).compute()
        np.testing.assert_array_equal(got, np.pad(a, ((1, 2), (0, 3), (2, 0)), mode=mode, **kw))


def test_axes_and_shapes(a, x):
    cases = [
        (cw.flip(x, axis=(0, 2)), np.flip(a, axis=(0, 2))),
        (cw.flip(x), np.flip(a)),
        (cw.roll(x, 3, axis=1), np.roll(a, 3, axis=1)),
        (cw.roll(x, (2, -1), axis=(0, 2)), np.roll(a, (2, -1), axis=(0, 2))),
        (cw.permute_dims(x, (2, 0, 1)), np.transpose(a, (2, 0, 1))),
        (cw.moveaxis(x, 0, -1), np.moveaxis(a, 0, -1)),
        (cw.expand_dims(x, 1), np.expand_dims(a, 1)),
        (cw.squeeze(cw.expand_dims(x, 0), axis=0), a),
        (cw.broadcast_to(x[:, :, :1], (11, 7, 4)), np.broadcast_to(a[:, :, :1], (11, 7, 4))),
        (cw.reshape(x, (11, 35)), a.reshape(11, 35)),
        (cw.reshape(x, (11, 7, 5, 1)), a.reshape(11, 7, 5, 1)),
        (cw.repeat(x, 2, axis=2), np.repeat(a, 2, axis=2)),
        (cw.tile(x, (1, 2, 1)), np.tile(a, (1, 2, 1))),
        (cw.rechunk(x, (5, 7, 5)), a),
    ]
    for got, want in cases:
        np.testing.assert_array_equal(got.compute(), want)
    assert cw.rechunk(x, (5, 7, 5)).chunks == (5, 7, 5)


def test_bad_manipulation_arguments(x):
    with pytest.raises(cw.ChunkwiseError):
        cw.reshape(x, (10, 10))
    with pytest.raises(cw.ChunkwiseError):
        cw.pad(x, 1, mode="mirror-ish")
    with pytest.raises(cw.ChunkwiseError):
        cw.concat([x, x[:, :3]], axis=0)


@pytest.mark.parametrize("chunks", [(4, 3, 2), (11, 7, 5)])
def test_shape_methods_match_numpy(rng, chunks):
    """x.T, x.transpose(...) and x.reshape(...) as NumPy's, in every spelling NumPy takes."""
    a = rng.integers(-50, 50, (11, 7, 5)).astype("int16")
    x = cw.from_numpy(a, chunks=chunks)
    for got, want in [
        (x.T, a.T),
        (x.transpose(), a.transpose()),
        (x.transpose(2, 0, 1), a.transpose(2, 0, 1)),
        (x.transpose((1, 0, 2)), a.transpose((1, 0, 2))),
        (x.reshape(77, 5), a.reshape(77, 5)),
        (x.reshape((11, -1)), a.reshape((11, -1))),
    ]:
        np.testing.assert_array_equal(got.compute(), want)
    with pytest.raises(cw.ChunkwiseError, match="reshape"):
        x.reshape(5, 77)
    with pytest.raises((cw.ChunkwiseError, TypeError)):
        x.transpose(0, 1)
