"""NumPy's element-wise functions and reductions as functions of chunkwise arrays.

Each element-wise function builds the pipeline-file op of the same name (``cw.sin(x)`` is
``{"op": "sin", "x": ...}``), so results, type promotion (NumPy 2, NEP 50), broadcasting and
errors are the engine's, the same from Python, Rust and pipeline files. Arguments are chunkwise
arrays or Python/NumPy numbers (NumPy scalars strong, Python numbers weak: see ``_strong``); NaN
and the infinities, which JSON cannot hold, go to the engine as the pipeline files write them,
``"nan"``, ``"inf"`` and ``"-inf"``.
"""

from __future__ import annotations

import json
import math

from . import _strong
from ._chunkwise import Array, _op

UNARY = (
    "abs", "acos", "acosh", "asin", "asinh", "atan", "atanh", "bitwise_invert", "ceil", "cos",
    "cosh", "exp", "expm1", "floor", "isfinite", "isinf", "isnan", "log", "log10", "log1p",
    "log2", "logical_not", "negative", "positive", "reciprocal", "round", "sign", "signbit",
    "sin", "sinh", "sqrt", "square", "tan", "tanh", "trunc",
)

BINARY = (
    "add", "atan2", "bitwise_and", "bitwise_left_shift", "bitwise_or", "bitwise_right_shift",
    "bitwise_xor", "copysign", "divide", "equal", "floor_divide", "greater", "greater_equal",
    "hypot", "less", "less_equal", "logaddexp", "logical_and", "logical_or", "logical_xor",
    "maximum", "minimum", "multiply", "not_equal", "pow", "remainder", "subtract",
)

REDUCTIONS = (
    "sum", "prod", "mean", "min", "max", "var", "std", "count_nonzero", "any", "all", "argmin",
    "argmax", "nansum", "nanprod", "nanmean", "nanmin", "nanmax", "nanvar", "nanstd",
    "nanargmin", "nanargmax",
)


def _param(value, name, arrays):
    """A parameter as the pipeline file spells it: arrays by a name in ``arrays``, sequences
    element by element."""
    if isinstance(value, Array):
        arrays[name] = value
        return name
    if isinstance(value, (list, tuple)):
        return [_param(v, f"{name}_{i}", arrays) for i, v in enumerate(value)]
    if isinstance(value, str):
        return value
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()  # NumPy scalars
    if isinstance(value, bool) or isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    raise TypeError(f"expected a chunkwise Array or a number, got {type(value).__name__}")


def apply(op: str, **params) -> Array:
    """Any op of the pipeline files by name, arrays and numbers as its parameters:
    ``cw.apply("clip", x=a, min=0, max=1)``; ``None`` leaves a parameter at its default.
    NumPy scalars are strong as in the operators: ``cw.apply("add", x=a, y=np.float32(2))``
    is ``a + np.float32(2)``."""
    params, dtype = _strong.params(op, params)
    arrays: dict = {}
    spec = {k: _param(v, k, arrays) for k, v in params.items() if v is not None}
    out = _op(op, arrays, json.dumps(spec))
    return out if dtype is None or out.dtype == dtype else out.astype(dtype)


def clip(x, min=None, max=None):  # noqa: A002 - NumPy 2's keyword names
    """``np.clip(x, min, max)``; either bound may be None (absent), NaN or infinite."""
    return apply("clip", x=x, min=min, max=max)


def concat(arrays, axis=0):
    """``np.concatenate`` (the array API's ``concat``); inputs may have different chunks."""
    return apply("concat", arrays=list(arrays), axis=axis)


def stack(arrays, axis=0):
    """``np.stack``: the arrays along a new axis."""
    return apply("stack", arrays=list(arrays), axis=axis)


def pad(x, pad_width, mode="constant", constant_values=None):
    """``np.pad`` with modes constant, edge, reflect, symmetric and wrap."""
    return apply("pad", x=x, pad_width=pad_width, mode=mode, constant_values=constant_values)


def flip(x, axis=None):
    """``np.flip``."""
    return apply("flip", x=x, axis=axis)


def roll(x, shift, axis=None):
    """``np.roll``."""
    return apply("roll", x=x, shift=shift, axis=axis)


def permute_dims(x, axes):
    """``np.transpose(x, axes)`` (the array API's ``permute_dims``)."""
    return apply("permute_dims", x=x, axes=axes)


def moveaxis(x, source, destination):
    """``np.moveaxis``."""
    return apply("moveaxis", x=x, source=source, destination=destination)


def expand_dims(x, axis):
    """``np.expand_dims``."""
    return apply("expand_dims", x=x, axis=axis)


def squeeze(x, axis=None):
    """``np.squeeze``."""
    return apply("squeeze", x=x, axis=axis)


def broadcast_to(x, shape):
    """``np.broadcast_to``: read, never materialized."""
    return apply("broadcast_to", x=x, shape=shape)


def reshape(x, shape):
    """``np.reshape`` where it maps to regions (splits and merges of neighbouring axes)."""
    return apply("reshape", x=x, shape=shape)


def repeat(x, repeats, axis=None):
    """``np.repeat``."""
    return apply("repeat", x=x, repeats=repeats, axis=axis)


def tile(x, reps):
    """``np.tile``."""
    return apply("tile", x=x, reps=reps)


def rechunk(x, chunks, max_mem=None):
    """The same values in other chunks (with an intermediate when a direct rechunk would read
    too much per task); ``max_mem`` bounds a task's memory (bytes or text such as ``"1GiB"``)."""
    return apply("rechunk", x=x, chunks=chunks, max_mem=max_mem)


MANIPULATION = {
    f.__name__: f
    for f in (concat, stack, pad, flip, roll, permute_dims, moveaxis, expand_dims, squeeze,
              broadcast_to, reshape, repeat, tile, rechunk)
}


def _unary(name):
    def f(x):
        return apply(name, x=x)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"NumPy's ``{name}(x)``, element-wise and lazy."
    return f


def _binary(name):
    def f(x, y):
        return apply(name, x=x, y=y)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"NumPy's ``{name}(x, y)``, element-wise and lazy; either may be a number."
    return f


def _reduction(name):
    def f(x, axis=None, keepdims=False, **kw):
        return x.reduce(name, axis=axis, keepdims=keepdims, **kw)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"NumPy's ``{name}(x, axis=None, keepdims=False)``, lazy (``.compute()`` it)."
    return f


FUNCTIONS = {
    "clip": clip,
    **MANIPULATION,
    **{n: _unary(n) for n in UNARY},
    **{n: _binary(n) for n in BINARY},
    **{n: _reduction(n) for n in REDUCTIONS},
}
