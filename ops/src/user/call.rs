//! Calling a user's function: what identifies it ([`Signature`]), a panic caught where it
//! happens and an error made of it that names the function and the region, and the returned
//! block checked against the shape the engine expects.

use std::fmt::Display;
use std::panic::{catch_unwind, AssertUnwindSafe};

use chunkwise_engine::exec::panic_message;
use chunkwise_engine::{DType, Element, Error, Result};
use ndarray::ArrayD;
use serde::Serialize;

use crate::user::UserFn;

/// A user function as the engine sees it, without its code.
///
/// Serialized into the op's parameters, so into the run's identity: kind, version and element
/// types (the name is the op's name, which the identity records beside the parameters). The
/// scratch estimate decides no result and stays out.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Signature {
    #[serde(skip)]
    pub name: String,
    /// `map_blocks`, `map_overlap` or `map_regions`.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The element type of the blocks the function takes.
    pub input: DType,
    /// The element type of the blocks it returns.
    pub output: DType,
    #[serde(skip)]
    pub scratch: u64,
}

impl Signature {
    /// The signature of a closure from `T` blocks to `U` blocks declared as `function`.
    ///
    /// # Errors
    /// [`Error::Invalid`] for an empty name, or when `U` is not the declared output type.
    pub fn new<T: Element, U: Element>(kind: &'static str, function: &UserFn) -> Result<Self> {
        let name = function.label(kind)?;
        function.check_output::<U>(&name)?;
        Ok(Self {
            name,
            kind,
            version: function.version.clone(),
            input: T::DTYPE,
            output: U::DTYPE,
            scratch: function.scratch,
        })
    }

    /// For `explain()`: `map_blocks, version 2, uint16 -> float32`.
    pub fn describe(&self) -> String {
        let version = self
            .version
            .as_ref()
            .map(|v| format!(", version {v}"))
            .unwrap_or_default();
        format!("{}{version}, {} -> {}", self.kind, self.input, self.output)
    }

    /// Runs `f` (a call of the user's closure), turning its error or panic into an
    /// [`Error::Invalid`] naming the function and `at` (`" for output region [0..8]"`). The
    /// panic is caught here, not only by the scheduler, so the message names the function
    /// rather than the whole fused stage, and the worker's buffers stay consistent.
    pub fn call<R, E: Display>(
        &self,
        at: &str,
        f: impl FnOnce() -> std::result::Result<R, E>,
    ) -> Result<R> {
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => Err(Error::Invalid(format!(
                "user function {} returned an error{at}: {e}",
                self.name
            ))),
            Err(panic) => Err(Error::Invalid(format!(
                "user function {} panicked{at}: {}",
                self.name,
                panic_message(panic.as_ref())
            ))),
        }
    }

    /// Checks a returned block's shape.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the expected and the received shape.
    pub fn check_shape<U>(&self, got: &ArrayD<U>, expected: &[usize], at: &str) -> Result<()> {
        if got.shape() != expected {
            return Err(Error::Invalid(format!(
                "user function {} returned a block of shape {:?}{at}; expected {expected:?}",
                self.name,
                got.shape()
            )));
        }
        Ok(())
    }
}

/// The elements of `a` in C order, without a copy when it is already laid out so.
pub(crate) fn into_c_order<U: Clone>(a: ArrayD<U>) -> Vec<U> {
    if !a.is_standard_layout() {
        return a.iter().cloned().collect();
    }
    let n = a.len();
    let (mut v, offset) = a.into_raw_vec_and_offset();
    // A standard-layout array is contiguous: its elements are `n` in a row from `offset`.
    let offset = offset.unwrap_or(0);
    if offset > 0 || v.len() != n {
        v.drain(..offset);
        v.truncate(n);
    }
    v
}
