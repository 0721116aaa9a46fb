//! NumPy scalars as the operators, `clip` and `where` meet them: strong (NEP 50), so their type
//! takes part in promotion (`uint8_array * np.float32(2)` is float32), where Python numbers are
//! weak. `chunkwise._strong` (Python, NumPy's own promotion) turns such a scalar into a cast of
//! the array and a weak number; the engine then runs its usual weak-scalar path. Python numbers
//! and arrays pass through untouched, without a call into Python.

use chunkwise::Array;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt};

use crate::array::LazyArray;

/// A Python object.
type Obj<'py> = Bound<'py, PyAny>;

/// True for what may be a NumPy scalar or 0-d array (anything but a chunkwise array or an
/// exact Python bool, int or float; `np.float64` is a subclass of `float`, so exact types).
fn maybe_strong(obj: &Bound<'_, PyAny>) -> bool {
    !(obj.is_exact_instance_of::<PyBool>()
        || obj.is_exact_instance_of::<PyInt>()
        || obj.is_exact_instance_of::<PyFloat>()
        || obj.is_none()
        || obj.cast::<LazyArray>().is_ok())
}

/// `chunkwise._strong`'s function `name` called with `args`.
fn helper<'py>(
    py: Python<'py>,
    name: &str,
    args: impl pyo3::call::PyCallArgs<'py>,
) -> PyResult<Obj<'py>> {
    py.import("chunkwise._strong")?.call_method1(name, args)
}

/// `x` and `other` for NumPy's function `name` (`add`, `less`, ...; the engine's `sub`, `mul`,
/// `div` too), `other` first when `reflected`: with a strong scalar, `x` cast to NumPy's loop
/// type and the scalar a weak number in it; else unchanged.
///
/// # Errors
/// NumPy's own, where it has no loop for the pair of types.
pub(crate) fn binary<'py>(
    py: Python<'py>,
    name: &str,
    x: &Array,
    other: &Obj<'py>,
    reflected: bool,
) -> PyResult<(Array, Obj<'py>)> {
    if !maybe_strong(other) {
        return Ok((x.clone(), other.clone()));
    }
    let me = Bound::new(py, LazyArray::new(x.clone()))?.into_any();
    let args = if reflected {
        (name, other.clone(), me)
    } else {
        (name, me, other.clone())
    };
    let (a, b): (Obj<'py>, Obj<'py>) = helper(py, "binary", args)?.extract()?;
    let (array, scalar) = if reflected { (b, a) } else { (a, b) };
    Ok((array.cast::<LazyArray>()?.get().inner.clone(), scalar))
}

/// `x`, `lo`, `hi` for `clip`: with a strong bound, `x` cast to the type `np.clip` gives and
/// strong bounds as weak numbers in it.
///
/// # Errors
/// NumPy's own, for bounds it refuses.
pub(crate) fn clip<'py>(
    py: Python<'py>,
    x: &Array,
    lo: Option<&Obj<'py>>,
    hi: Option<&Obj<'py>>,
) -> PyResult<(Array, Option<Obj<'py>>, Option<Obj<'py>>)> {
    if !lo.into_iter().chain(hi).any(maybe_strong) {
        return Ok((x.clone(), lo.cloned(), hi.cloned()));
    }
    let me = Bound::new(py, LazyArray::new(x.clone()))?.into_any();
    let (x, lo, hi): (Obj<'py>, Obj<'py>, Obj<'py>) =
        helper(py, "clip", (me, lo, hi))?.extract()?;
    let some = |b: Obj<'py>| (!b.is_none()).then_some(b);
    Ok((
        x.cast::<LazyArray>()?.get().inner.clone(),
        some(lo),
        some(hi),
    ))
}

/// `a`, `b` for `where(mask, a, b)`, and the type of the result NumPy gives when either is a
/// strong scalar (arrays cast to it, strong scalars weak numbers in it).
///
/// # Errors
/// NumPy's own, for a pair it cannot promote.
pub(crate) fn where_<'py>(
    py: Python<'py>,
    a: &Obj<'py>,
    b: &Obj<'py>,
) -> PyResult<(Obj<'py>, Obj<'py>, Option<Obj<'py>>)> {
    if !(maybe_strong(a) || maybe_strong(b)) {
        return Ok((a.clone(), b.clone(), None));
    }
    let (a, b, dtype): (Obj<'py>, Obj<'py>, Obj<'py>) = helper(py, "where", (a, b))?.extract()?;
    Ok((a, b, (!dtype.is_none()).then_some(dtype)))
}
