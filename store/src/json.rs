//! A sink for small results (a full reduction's value, a histogram): the array collected in
//! memory and written, once the run has succeeded, as one JSON document
//! `{"dtype": ..., "shape": [...], "value": ...}` — `value` a number for a 0-d array, nested
//! lists otherwise, NaN and infinities as `null` (JSON has none).

use std::path::PathBuf;

use serde_json::{json, Value};

use chunkwise_engine::dispatch;
use chunkwise_engine::store::{IoContext, MemorySink, Sink};
use chunkwise_engine::{ArrayMeta, Buffer, ChunkGrid, Error, Region, Result};

use crate::Overwrite;

/// The largest array a JSON output takes: it is held in memory and meant to be read by people.
pub const JSON_MAX_ELEMENTS: u64 = 1 << 20;

/// Writes an array to a JSON file (see the [module documentation](self)).
#[derive(Debug)]
pub struct JsonSink {
    path: PathBuf,
    overwrite: Overwrite,
    memory: MemorySink,
}

impl JsonSink {
    /// A JSON output of an array of `meta` at `path`.
    ///
    /// # Errors
    /// [`Error::Invalid`] when the array has more than [`JSON_MAX_ELEMENTS`] elements.
    pub fn new(path: impl Into<PathBuf>, meta: ArrayMeta, overwrite: Overwrite) -> Result<Self> {
        let path = path.into();
        if meta.num_elements() > JSON_MAX_ELEMENTS {
            return Err(Error::Invalid(format!(
                "{} would hold {} values; a JSON output takes at most {JSON_MAX_ELEMENTS} \
                 (write a Zarr array instead)",
                path.display(),
                meta.num_elements()
            )));
        }
        Ok(Self {
            path,
            overwrite,
            memory: MemorySink::new(meta),
        })
    }
}

/// The values of `data` as nested JSON lists of `shape` (a number for a 0-d array).
pub fn json_value(data: &Buffer, shape: &[u64]) -> Value {
    let flat: Vec<Value> = dispatch!(Buffer, data, v => v.iter().map(|x| json!(x)).collect());
    nest(&flat, shape)
}

fn nest(flat: &[Value], shape: &[u64]) -> Value {
    match shape.split_first() {
        None => flat.first().cloned().unwrap_or(Value::Null),
        Some((&n, rest)) => {
            let step: usize = rest.iter().product::<u64>() as usize;
            Value::Array(
                (0..n as usize)
                    .map(|i| nest(&flat[i * step..(i + 1) * step], rest))
                    .collect(),
            )
        }
    }
}

impl Sink for JsonSink {
    fn meta(&self) -> &ArrayMeta {
        self.memory.meta()
    }
    fn write_grid(&self) -> ChunkGrid {
        self.memory.write_grid()
    }
    fn describe(&self) -> String {
        self.path.display().to_string()
    }
    fn validate(&self) -> Result<()> {
        if self.path.exists() && self.overwrite == Overwrite::Refuse {
            return Err(Error::OutputExists(self.path.display().to_string()));
        }
        Ok(())
    }
    fn prepare(&self) -> Result<()> {
        Ok(())
    }
    fn write(&self, unit: &[u64], region: &Region, data: &Buffer, io: &IoContext) -> Result<()> {
        self.memory.write(unit, region, data, io)
    }
    fn finish(&self) -> Result<()> {
        let meta = self.memory.meta();
        let doc = json!({
            "dtype": meta.dtype.name(),
            "shape": meta.shape,
            "value": json_value(&self.memory.take(), &meta.shape),
        });
        let text = serde_json::to_string_pretty(&doc)
            .map_err(|e| Error::Invalid(format!("{}: {e}", self.path.display())))?;
        std::fs::write(&self.path, text + "\n")
            .map_err(|e| Error::Invalid(format!("writing {}: {e}", self.path.display())))
    }
    fn abort(&self) {
        self.memory.abort();
    }
}
