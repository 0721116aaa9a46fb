//! What the planner knows about an array before any data is read.

use serde::{Deserialize, Serialize};

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::geometry::ChunkGrid;

/// Shape, chunk shape and element type of an array (source, intermediate or output).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArrayMeta {
    /// Extent on each axis.
    pub shape: Vec<u64>,
    /// Chunk extent on each axis: the natural unit of work for this array.
    pub chunks: Vec<u64>,
    /// Element type.
    pub dtype: DType,
}

impl ArrayMeta {
    /// Validated metadata.
    ///
    /// # Errors
    /// [`Error::Invalid`] when `chunks` has another number of axes than `shape`, or a zero extent.
    pub fn new(shape: Vec<u64>, chunks: Vec<u64>, dtype: DType) -> Result<Self> {
        if shape.len() != chunks.len() {
            return Err(Error::Invalid(format!(
                "chunk shape {chunks:?} has {} axes but the array shape {shape:?} has {}",
                chunks.len(),
                shape.len()
            )));
        }
        if chunks.contains(&0) {
            return Err(Error::Invalid(format!(
                "chunk shape {chunks:?} has a zero extent; every chunk extent must be at least 1"
            )));
        }
        Ok(Self {
            shape,
            chunks,
            dtype,
        })
    }

    /// The chunk grid over this array.
    pub fn grid(&self) -> ChunkGrid {
        ChunkGrid::new(self.shape.clone(), self.chunks.clone())
    }

    /// Number of elements.
    pub fn num_elements(&self) -> u64 {
        self.shape.iter().product()
    }
}
