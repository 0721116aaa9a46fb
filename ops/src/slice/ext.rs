//! [`ManipulateExt`]: indexing and manipulation as methods on [`Array`], named as NumPy's and
//! the array API standard's functions (`x.slice("100:900, :, ::-2")?.flip(&[0])?`).

use chunkwise_engine::{Array, Result};

use super::slice;

/// Indexing and manipulation methods on [`Array`].
pub trait ManipulateExt {
    /// `x[index]` in NumPy's syntax; see [`slice`].
    ///
    /// # Errors
    /// See [`slice`].
    fn slice(&self, index: &str) -> Result<Array>;
}

impl ManipulateExt for Array {
    fn slice(&self, index: &str) -> Result<Array> {
        slice(self, index)
    }
}
