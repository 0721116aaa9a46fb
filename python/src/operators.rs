//! The rest of Python's operators on `chunkwise.Array`, each NumPy's function of the same
//! meaning (NumPy 2 promotion and scalar rules, broadcasting): `//`, `%`, `**`, `&`, `|`, `^`,
//! `<<`, `>>` with their reflected forms, and unary `-`, `+`, `~`.

use chunkwise::ops::elementwise::{
    binary, bitwise, bitwise_invert, positive, unary, Arith, BitOp, UnaryFn,
};
use pyo3::prelude::*;

use crate::array::LazyArray;

#[pymethods]
impl LazyArray {
    fn __floordiv__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary_with(py, other, false, Arith::FloorDivide.name(), |a, b| {
            binary(Arith::FloorDivide, a, b)
        })
    }
    fn __rfloordiv__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary_with(py, other, true, Arith::FloorDivide.name(), |a, b| {
            binary(Arith::FloorDivide, a, b)
        })
    }
    fn __mod__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary_with(py, other, false, Arith::Remainder.name(), |a, b| {
            binary(Arith::Remainder, a, b)
        })
    }
    fn __rmod__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary_with(py, other, true, Arith::Remainder.name(), |a, b| {
            binary(Arith::Remainder, a, b)
        })
    }
    /// `x ** y` (`pow(x, y, mod)` with a modulus is not supported, as in NumPy).
    fn __pow__(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        if modulo.is_some_and(|m| !m.is_none()) {
            return Ok(py.NotImplemented());
        }
        self.binary_with(py, other, false, Arith::Pow.name(), |a, b| {
            binary(Arith::Pow, a, b)
        })
    }
    fn __rpow__(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        if modulo.is_some_and(|m| !m.is_none()) {
            return Ok(py.NotImplemented());
        }
        self.binary_with(py, other, true, Arith::Pow.name(), |a, b| {
            binary(Arith::Pow, a, b)
        })
    }
    /// `x & y`: bitwise and of integers, logical and of bools.
    fn __and__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary_with(py, other, false, BitOp::And.name(), |a, b| {
            bitwise(BitOp::And, a, b)
        })
    }
    fn __rand__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary_with(py, other, true, BitOp::And.name(), |a, b| {
            bitwise(BitOp::And, a, b)
        })
    }
    fn __or__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary_with(py, other, false, BitOp::Or.name(), |a, b| {
            bitwise(BitOp::Or, a, b)
        })
    }
    fn __ror__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary_with(py, other, true, BitOp::Or.name(), |a, b| {
            bitwise(BitOp::Or, a, b)
        })
    }
    fn __xor__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary_with(py, other, false, BitOp::Xor.name(), |a, b| {
            bitwise(BitOp::Xor, a, b)
        })
    }
    fn __rxor__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary_with(py, other, true, BitOp::Xor.name(), |a, b| {
            bitwise(BitOp::Xor, a, b)
        })
    }
    fn __lshift__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary_with(py, other, false, BitOp::LeftShift.name(), |a, b| {
            bitwise(BitOp::LeftShift, a, b)
        })
    }
    fn __rlshift__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary_with(py, other, true, BitOp::LeftShift.name(), |a, b| {
            bitwise(BitOp::LeftShift, a, b)
        })
    }
    fn __rshift__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary_with(py, other, false, BitOp::RightShift.name(), |a, b| {
            bitwise(BitOp::RightShift, a, b)
        })
    }
    fn __rrshift__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary_with(py, other, true, BitOp::RightShift.name(), |a, b| {
            bitwise(BitOp::RightShift, a, b)
        })
    }
    fn __neg__(&self, py: Python<'_>) -> PyResult<LazyArray> {
        Self::wrap(py, unary(UnaryFn::Negative, &self.inner))
    }
    fn __pos__(&self, py: Python<'_>) -> PyResult<LazyArray> {
        Self::wrap(py, positive(&self.inner))
    }
    /// `~x`: bitwise not of integers, logical not of bools.
    fn __invert__(&self, py: Python<'_>) -> PyResult<LazyArray> {
        Self::wrap(py, bitwise_invert(&self.inner))
    }
}
