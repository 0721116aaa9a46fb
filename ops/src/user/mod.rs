//! The user's own function on every chunk, with every guarantee a built-in op has: it enters
//! through the same door ([`chunkwise_engine::Op`]), so it is planned, fused, held, counted
//! against the memory limit and named in errors exactly as the built-in ops are.
//!
//! - [`UserFnExt::map_blocks`] (and [`map_blocks_n`] for several inputs): an element-wise op whose
//!   kernel is the closure, so it fuses with the element-wise ops before and after it into one
//!   pass over the data.
//! - [`UserFnExt::map_overlap`]: a stencil whose kernel is the closure; the block arrives with a
//!   halo gathered by the built-in stencils' own code (boundary modes, decoded-chunk cache).
//!   [`UserFnExt::map_overlap_owned`] hands the closure that block's buffer to keep.
//! - [`map_regions`]: a region op whose chunk mapping is a closure too: the general form.
//!
//! # What identifies a user function
//!
//! A run's identity (`--resume`, [`chunkwise_engine::identity`]) covers the function's name,
//! version, element types and parameters (depth, boundary mode, output shape), given with
//! [`UserFn`]. The closure's code itself cannot be fingerprinted: change what the function
//! computes and keep its name and version, and a resumed run mixes old and new results. Bump
//! the version ([`UserFn::named`]) whenever the code changes what it returns.

mod blocks;
mod call;
mod overlap;
mod regions;

use std::fmt::Display;

use chunkwise_engine::{Array, DType, Element, Error, Region, Result, Scalar};
use ndarray::{ArrayD, ArrayViewD};

pub use blocks::map_blocks_n;
pub use regions::map_regions;

use crate::stencil::BoundaryMode;

/// What the engine knows of a user's function besides its code: the element type it returns,
/// its name and version (shown in `explain()`, DOT and errors, and part of the run's
/// identity), and the working memory it allocates beyond its input and output blocks.
///
/// A [`DType`] converts into one, so `x.map_blocks(DType::Float32, f)` needs no more.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserFn {
    /// The element type of the blocks the function returns.
    pub output: DType,
    /// The function's name; the kind of call (`map_blocks`) when not given.
    pub name: Option<String>,
    /// The function's version; none when not given.
    pub version: Option<String>,
    /// Extra bytes the function allocates per call, for the projected-memory model.
    pub scratch: u64,
}

impl UserFn {
    /// A function returning elements of `output`, unnamed, with no scratch memory.
    pub fn new(output: DType) -> Self {
        Self {
            output,
            name: None,
            version: None,
            scratch: 0,
        }
    }

    /// Names the function and its version (`""` for none): `denoise`, version `2`. Both enter
    /// the run's identity, so `--resume` refuses an output a differently named or versioned
    /// function started. Bump the version when the code changes what it computes: the
    /// closure itself cannot be fingerprinted.
    pub fn named(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.name = Some(name.into());
        let version = version.into();
        self.version = (!version.is_empty()).then_some(version);
        self
    }

    /// Declares `bytes` of working memory the function allocates per call (beyond its input
    /// and output blocks), so the planner counts it against the memory limit.
    pub fn with_scratch(mut self, bytes: u64) -> Self {
        self.scratch = bytes;
        self
    }

    /// The name shown everywhere: the given one, or the kind of call.
    fn label(&self, kind: &str) -> Result<String> {
        match &self.name {
            None => Ok(kind.to_string()),
            Some(n) if n.trim().is_empty() || n.chars().any(char::is_control) => {
                Err(Error::Invalid(format!(
                    "{kind}: a function name must be non-empty text, got {n:?}"
                )))
            }
            Some(n) => Ok(n.clone()),
        }
    }

    /// Checks the closure's output element type against the declared one.
    fn check_output<U: Element>(&self, name: &str) -> Result<()> {
        if U::DTYPE != self.output {
            return Err(Error::Invalid(format!(
                "{name}: the function returns {} blocks but the output type was declared {}",
                U::DTYPE,
                self.output
            )));
        }
        Ok(())
    }
}

impl From<DType> for UserFn {
    fn from(output: DType) -> Self {
        UserFn::new(output)
    }
}

/// How [`UserFnExt::map_overlap`] extends the array beyond its edges: one of the built-in
/// stencils' boundary modes, with the value for [`BoundaryMode::Constant`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Boundary {
    /// reflect, mirror, nearest, wrap or constant (scipy.ndimage's names and semantics).
    pub mode: BoundaryMode,
    /// The value beyond the edges in constant mode; it must fit the array's type.
    pub cval: Scalar,
}

impl Boundary {
    /// Constant mode with `cval` beyond the edges.
    pub fn constant(cval: impl Into<Scalar>) -> Self {
        Self {
            mode: BoundaryMode::Constant,
            cval: cval.into(),
        }
    }
}

impl From<BoundaryMode> for Boundary {
    fn from(mode: BoundaryMode) -> Self {
        Self {
            mode,
            cval: Scalar::Int(0),
        }
    }
}

/// The user-function methods on [`Array`].
pub trait UserFnExt {
    /// Applies `f` to the array block by block: an element-wise op, so it fuses with the
    /// element-wise ops before and after it (`open -> astype -> map_blocks -> clip -> write` is
    /// one read and one write per chunk).
    ///
    /// `f` must be element-wise: it may be called on any piece of the array, in any order and
    /// on several threads at once — today runs of a few thousand elements in C order, handed
    /// over as 1-D views, so the data stays in cache between fused ops; whole chunks or other
    /// shapes in future. It must return a block of the shape it was given. (Dask documents the
    /// same freedom for its `map_blocks`.) Use [`UserFnExt::map_overlap`] or [`map_regions`]
    /// when the result depends on neighbours or positions.
    ///
    /// # Errors
    /// At build time, [`Error::Invalid`] when `T` is not the array's type or `U` not the
    /// declared output type. While running, an error naming the function and the output chunk
    /// when `f` returns `Err`, panics, or returns a block of another shape.
    fn map_blocks<T, U, E, F>(&self, function: impl Into<UserFn>, f: F) -> Result<Array>
    where
        T: Element,
        U: Element,
        E: Display,
        F: Fn(ArrayViewD<'_, T>) -> std::result::Result<ArrayD<U>, E> + Send + Sync + 'static;

    /// Applies `f` to each output region extended by `depth` elements on each side of each axis
    /// (one value per axis, or one for all), positions beyond the array's edges filled by
    /// `boundary` as the built-in stencils fill them (same code: halo gathering, decoded-chunk
    /// cache, wrap mode reading both ends). `f` returns the inner block — the region without
    /// its halo — or, as Dask's `map_overlap` does, the whole extended block, which is trimmed.
    ///
    /// Like every stencil, `f` may be called on any region of the array (a chunk, a block of
    /// chunks, a chunk grown by a consumer's halo when chains are recomputed); the result must
    /// not depend on where the region's edges fall.
    ///
    /// # Errors
    /// At build time, [`Error::Invalid`] for a type mismatch (as [`UserFnExt::map_blocks`]), a
    /// depth not given per axis or too large, or a `cval` outside the array's type. While
    /// running, as [`UserFnExt::map_blocks`], naming the output region.
    fn map_overlap<T, U, E, F>(
        &self,
        depth: &[usize],
        boundary: impl Into<Boundary>,
        function: impl Into<UserFn>,
        f: F,
    ) -> Result<Array>
    where
        T: Element,
        U: Element,
        E: Display,
        F: Fn(ArrayViewD<'_, T>) -> std::result::Result<ArrayD<U>, E> + Send + Sync + 'static;

    /// [`UserFnExt::map_overlap`] with `f` owning the extended block: the buffer the engine
    /// gathered it into, moved, so `f` can keep it or hand it on without a copy (the Python
    /// package moves it into a NumPy array, which the user's function may keep).
    ///
    /// # Errors
    /// As [`UserFnExt::map_overlap`].
    fn map_overlap_owned<T, U, E, F>(
        &self,
        depth: &[usize],
        boundary: impl Into<Boundary>,
        function: impl Into<UserFn>,
        f: F,
    ) -> Result<Array>
    where
        T: Element,
        U: Element,
        E: Display,
        F: Fn(ArrayD<T>) -> std::result::Result<ArrayD<U>, E> + Send + Sync + 'static;
}

impl UserFnExt for Array {
    fn map_blocks<T, U, E, F>(&self, function: impl Into<UserFn>, f: F) -> Result<Array>
    where
        T: Element,
        U: Element,
        E: Display,
        F: Fn(ArrayViewD<'_, T>) -> std::result::Result<ArrayD<U>, E> + Send + Sync + 'static,
    {
        blocks::map_blocks(self, function.into(), f)
    }

    fn map_overlap<T, U, E, F>(
        &self,
        depth: &[usize],
        boundary: impl Into<Boundary>,
        function: impl Into<UserFn>,
        f: F,
    ) -> Result<Array>
    where
        T: Element,
        U: Element,
        E: Display,
        F: Fn(ArrayViewD<'_, T>) -> std::result::Result<ArrayD<U>, E> + Send + Sync + 'static,
    {
        let f = move |block: ArrayD<T>| f(block.view());
        overlap::map_overlap(self, depth, boundary.into(), function.into(), f)
    }

    fn map_overlap_owned<T, U, E, F>(
        &self,
        depth: &[usize],
        boundary: impl Into<Boundary>,
        function: impl Into<UserFn>,
        f: F,
    ) -> Result<Array>
    where
        T: Element,
        U: Element,
        E: Display,
        F: Fn(ArrayD<T>) -> std::result::Result<ArrayD<U>, E> + Send + Sync + 'static,
    {
        overlap::map_overlap(self, depth, boundary.into(), function.into(), f)
    }
}

/// Checks that every input has the closure's element type `T`.
fn check_inputs<T: Element>(name: &str, inputs: &[&Array]) -> Result<()> {
    if let Some((k, x)) = inputs
        .iter()
        .enumerate()
        .find(|(_, x)| x.dtype() != T::DTYPE)
    {
        return Err(Error::Invalid(format!(
            "{name}: the function takes {} blocks but input {k} is {}; cast it first with astype",
            T::DTYPE,
            x.dtype()
        )));
    }
    Ok(())
}

/// A region as a user reads it: `[0..64, 128..192]`.
pub(crate) fn region_text(r: &Region) -> String {
    let axes: Vec<String> = r
        .start
        .iter()
        .zip(&r.shape)
        .map(|(s, n)| format!("{s}..{}", s + n))
        .collect();
    format!("[{}]", axes.join(", "))
}
