"""NumPy scalars are strong, Python numbers weak (NumPy 2, NEP 50).

A Python ``bool``, ``int`` or ``float`` takes the array's type: ``uint8_array * 2`` stays uint8.
A NumPy scalar or 0-d array (``np.float32(2)``, ``np.int16(3)``, ``np.float64(1.5)``) keeps its
own type and takes part in promotion as an array would: ``uint8_array * np.float32(2)`` is
float32, ``float32_array + np.float64(1)`` float64, ``int8_array + np.int16(3)`` int16.

The engine takes scalars as weak ones. These helpers turn a strong scalar into what NumPy does
with it: they ask NumPy for the types of the loop it would run (``ufunc.resolve_dtypes``, or
the function itself on a one-element sample), cast the array to its side's type and pass the
scalar's value in that type, which holds it exactly, as a weak number. NumPy is the rule book,
so the rules cannot drift from its own.
"""

from __future__ import annotations

import numpy as np

# The engine's names of arithmetic ops where NumPy's differ.
_NUMPY_NAMES = {"sub": "subtract", "mul": "multiply", "div": "divide"}


def is_strong(value) -> bool:
    """True for a NumPy scalar or 0-d array: a number whose type takes part in promotion."""
    return isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0)


def _is_array(value) -> bool:
    from ._chunkwise import Array

    return isinstance(value, Array)


def _weak(scalar, dtype):
    """A strong scalar's value in ``dtype`` (which holds it exactly) as a Python number."""
    return np.asarray(scalar).astype(dtype)[()].item()


def _sample(value):
    """What stands for ``value`` when NumPy is asked for a result type: a one-element array of
    a chunkwise array's type, a strong scalar as is, a Python number as is (weak)."""
    return np.zeros(1, value.dtype) if _is_array(value) else value


def binary(name: str, x, y):
    """``(x, y)`` for NumPy's element-wise function ``name`` with a strong scalar replaced by a
    weak number and the array cast to the loop type NumPy picks; anything else unchanged.

    Raises NumPy's own error where NumPy has no loop for the pair (``bitwise_and`` of a float).
    """
    if _is_array(x) and is_strong(y):
        x, y = _with_scalar(name, x, y, scalar_first=False)
    elif _is_array(y) and is_strong(x):
        y, x = _with_scalar(name, y, x, scalar_first=True)
    return x, y


def _with_scalar(name, array, scalar, scalar_first):
    ufunc = getattr(np, _NUMPY_NAMES.get(name, name))
    own = np.asarray(scalar).dtype
    loop = ufunc.resolve_dtypes((own, array.dtype, None) if scalar_first else (array.dtype, own, None))
    at_array, at_scalar = (loop[1], loop[0]) if scalar_first else (loop[0], loop[1])
    if at_array == np.float16:
        if loop[2] == np.float16 and own == np.float16:
            _refuse_float16(name)
        # Comparisons with a float16 scalar: float32 holds both sides exactly, so the answer is
        # float16's. NumPy's float functions of 8-bit integers and bools (atan2, hypot, ...)
        # run in float16; chunkwise's in float32 (as its own `atan2(uint8, uint8)` does).
        at_array = at_scalar = np.dtype(np.float32)
    if at_array == at_scalar:
        if array.dtype != at_array:
            array = array.astype(at_array)
        return array, _weak(scalar, at_scalar)
    if at_array.kind in "iu" and at_scalar.kind in "iu":
        # NumPy's loops mixing signed and unsigned 64-bit integers (comparisons) compare the
        # values exactly, as the engine compares an array with a Python int.
        return array, int(scalar)
    raise TypeError(f"{name}: NumPy's loop {loop} for these types has no chunkwise equivalent")


def where(a, b):
    """``(a, b, dtype)`` for ``where(mask, a, b)``: strong scalars as weak numbers in the
    result type NumPy gives, arrays cast to it; ``dtype`` is that type (the engine's ``where``
    of two scalars must be cast to it), or None when neither is strong."""
    if not (is_strong(a) or is_strong(b)):
        return a, b, None
    dtype = np.where(True, _sample(a), _sample(b)).dtype
    if dtype == np.float16:
        _refuse_float16("where")
    return _cast(a, dtype), _cast(b, dtype), dtype


def clip(x, lo, hi):
    """``(x, lo, hi)`` for ``clip``: with a strong bound, ``x`` cast to the type ``np.clip``
    gives and strong bounds as weak numbers in it; anything else unchanged."""
    if not (is_strong(lo) or is_strong(hi)):
        return x, lo, hi
    dtype = np.clip(np.zeros(1, x.dtype), lo, hi).dtype
    if dtype == np.float16:
        _refuse_float16("clip")
    return _cast(x, dtype), _cast(lo, dtype), _cast(hi, dtype)


def params(op: str, values: dict):
    """``(values, dtype)`` for ``apply(op, **values)``: the parameters with strong scalars
    resolved as the operators resolve them (binary functions, ``clip``, ``where``,
    ``threshold``), and the type the result must be cast to (``where`` of two scalars) or None.
    Other ops take a NumPy scalar parameter (a ``cval``, a ``pad`` value) by its value."""
    if not any(is_strong(v) for v in values.values()):
        return values, None
    values = dict(values)
    if op == "clip" and _is_array(values.get("x")):
        values["x"], values["min"], values["max"] = clip(
            values["x"], values.get("min"), values.get("max"))
    elif op == "where":
        values["a"], values["b"], dtype = where(values.get("a"), values.get("b"))
        return values, dtype
    elif op == "threshold" and _is_array(values.get("x")):
        values["x"], values["value"] = binary("greater", values["x"], values.get("value"))
    elif _is_binary_ufunc(op) and "x" in values and "y" in values:
        values["x"], values["y"] = binary(op, values["x"], values["y"])
    return values, None


def _is_binary_ufunc(op):
    return getattr(getattr(np, _NUMPY_NAMES.get(op, op), None), "nin", None) == 2


def _refuse_float16(name):
    from ._chunkwise import ChunkwiseError

    raise ChunkwiseError(
        f"{name}: NumPy gives float16 here (a float16 scalar with 8-bit integers or bool), a "
        "type chunkwise does not have; pass the scalar as np.float32(...) for a float32 result"
    )


def _cast(value, dtype):
    if _is_array(value):
        return value if value.dtype == dtype else value.astype(dtype)
    if is_strong(value):
        return _weak(value, dtype)
    return value
