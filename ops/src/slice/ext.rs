//! [`ManipulateExt`]: indexing and manipulation as methods on [`Array`], named as NumPy's and
//! the array API standard's functions (`x.slice("100:900, :, ::-2")?.flip(Some(&[0]))?`).

use chunkwise_engine::{Array, Result, Scalar};

use super::{
    broadcast_to, expand_dims, flip, moveaxis, pad, permute_dims, rechunk, repeat, reshape, roll,
    slice, squeeze, tile, PadMode,
};

/// Indexing and manipulation methods on [`Array`] (`concat` and `stack`, which take several
/// arrays, are functions: [`super::concat`], [`super::stack`]).
pub trait ManipulateExt {
    /// `x[index]` in NumPy's syntax; see [`slice`].
    ///
    /// # Errors
    /// See [`slice`].
    fn slice(&self, index: &str) -> Result<Array>;
    /// See [`flip`].
    ///
    /// # Errors
    /// See [`flip`].
    fn flip(&self, axis: Option<&[i64]>) -> Result<Array>;
    /// See [`roll`].
    ///
    /// # Errors
    /// See [`roll`].
    fn roll(&self, shift: &[i64], axis: Option<&[i64]>) -> Result<Array>;
    /// See [`permute_dims`].
    ///
    /// # Errors
    /// See [`permute_dims`].
    fn permute_dims(&self, axes: &[i64]) -> Result<Array>;
    /// See [`moveaxis`].
    ///
    /// # Errors
    /// See [`moveaxis`].
    fn moveaxis(&self, source: &[i64], destination: &[i64]) -> Result<Array>;
    /// See [`expand_dims`].
    ///
    /// # Errors
    /// See [`expand_dims`].
    fn expand_dims(&self, axis: &[i64]) -> Result<Array>;
    /// See [`squeeze`].
    ///
    /// # Errors
    /// See [`squeeze`].
    fn squeeze(&self, axis: Option<&[i64]>) -> Result<Array>;
    /// See [`broadcast_to`].
    ///
    /// # Errors
    /// See [`broadcast_to`].
    fn broadcast_to(&self, shape: &[u64]) -> Result<Array>;
    /// See [`rechunk`].
    ///
    /// # Errors
    /// See [`rechunk`].
    fn rechunk(&self, chunks: &[u64], max_mem: u64) -> Result<Array>;
    /// See [`reshape`].
    ///
    /// # Errors
    /// See [`reshape`].
    fn reshape(&self, shape: &[i64]) -> Result<Array>;
    /// See [`repeat`].
    ///
    /// # Errors
    /// See [`repeat`].
    fn repeat(&self, repeats: i64, axis: Option<i64>) -> Result<Array>;
    /// See [`tile`].
    ///
    /// # Errors
    /// See [`tile`].
    fn tile(&self, reps: &[i64]) -> Result<Array>;
    /// See [`pad`].
    ///
    /// # Errors
    /// See [`pad`].
    fn pad(
        &self,
        pad_width: &[[i64; 2]],
        mode: PadMode,
        constant_values: Option<Scalar>,
    ) -> Result<Array>;
}

impl ManipulateExt for Array {
    fn slice(&self, index: &str) -> Result<Array> {
        slice(self, index)
    }
    fn flip(&self, axis: Option<&[i64]>) -> Result<Array> {
        flip(self, axis)
    }
    fn roll(&self, shift: &[i64], axis: Option<&[i64]>) -> Result<Array> {
        roll(self, shift, axis)
    }
    fn permute_dims(&self, axes: &[i64]) -> Result<Array> {
        permute_dims(self, axes)
    }
    fn moveaxis(&self, source: &[i64], destination: &[i64]) -> Result<Array> {
        moveaxis(self, source, destination)
    }
    fn expand_dims(&self, axis: &[i64]) -> Result<Array> {
        expand_dims(self, axis)
    }
    fn squeeze(&self, axis: Option<&[i64]>) -> Result<Array> {
        squeeze(self, axis)
    }
    fn broadcast_to(&self, shape: &[u64]) -> Result<Array> {
        broadcast_to(self, shape)
    }
    fn rechunk(&self, chunks: &[u64], max_mem: u64) -> Result<Array> {
        rechunk(self, chunks, max_mem)
    }
    fn reshape(&self, shape: &[i64]) -> Result<Array> {
        reshape(self, shape)
    }
    fn repeat(&self, repeats: i64, axis: Option<i64>) -> Result<Array> {
        repeat(self, repeats, axis)
    }
    fn tile(&self, reps: &[i64]) -> Result<Array> {
        tile(self, reps)
    }
    fn pad(
        &self,
        pad_width: &[[i64; 2]],
        mode: PadMode,
        constant_values: Option<Scalar>,
    ) -> Result<Array> {
        pad(self, pad_width, mode, constant_values)
    }
}
