//! The thin adapter over zarrs: the zarrs calls shared by sources, sinks and `chunkwise info`
//! are here and in the modules beside it, because zarrs' API changes with each minor release
//! (0.24 drops the `_opt` methods used here).

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use zarrs::array::{Array as ZArray, ArrayMetadata, ArrayShardedExt, CodecOptions, DataType};
use zarrs::filesystem::FilesystemStore;
use zarrs::storage::ReadableStorageTraits;

use chunkwise_engine::store::IoContext;
use chunkwise_engine::{DType, Error, Result};

use crate::location::Location;
use crate::remote;

/// The store an input is read from: a folder, an object store or a web server.
pub(crate) type ReadStore = dyn ReadableStorageTraits;

pub(crate) fn codec_options(io: &IoContext) -> CodecOptions {
    CodecOptions::default().with_concurrent_target(io.codec_threads.max(1))
}

pub(crate) fn dtype_of(dt: &DataType, path: &Path) -> Result<DType> {
    use zarrs::array::data_type as z;
    let table = [
        (z::bool(), DType::Bool),
        (z::int8(), DType::Int8),
        (z::int16(), DType::Int16),
        (z::int32(), DType::Int32),
        (z::int64(), DType::Int64),
        (z::uint8(), DType::Uint8),
        (z::uint16(), DType::Uint16),
        (z::uint32(), DType::Uint32),
        (z::uint64(), DType::Uint64),
        (z::float32(), DType::Float32),
        (z::float64(), DType::Float64),
    ];
    table
        .into_iter()
        .find(|(z, _)| z == dt)
        .map(|(_, d)| d)
        .ok_or_else(|| {
            Error::Invalid(format!(
                "array {} has data type {dt}, which chunkwise does not process; supported: {}",
                path.display(),
                DType::ALL.map(|d| d.name()).join(", ")
            ))
        })
}

/// What decides the stored bytes of a chunk: format, type, fill value, codecs and chunk shape.
pub(crate) fn encoding_signature<S: ?Sized>(array: &ZArray<S>) -> Option<String> {
    let (format, json) = match array.metadata() {
        ArrayMetadata::V2(m) => (2, serde_json::to_value(m).ok()?),
        ArrayMetadata::V3(m) => (3, serde_json::to_value(m).ok()?),
    };
    let keys: &[&str] = if format == 2 {
        &[
            "dtype",
            "fill_value",
            "compressor",
            "filters",
            "chunks",
            "order",
        ]
    } else {
        &["data_type", "fill_value", "codecs", "chunk_grid"]
    };
    let picked: Vec<&Value> = keys.iter().map(|k| &json[*k]).collect();
    Some(format!(
        "v{format}:{}",
        serde_json::to_string(&picked).ok()?
    ))
}

/// Opens the array at `path`, a local folder or a URL ([`Location`]).
pub(crate) fn open_array(path: &Path) -> Result<ZArray<ReadStore>> {
    open_array_at(path).map(|(array, _)| array)
}

/// [`open_array`], with the object store it is on (for reads ahead), if it is on one.
pub(crate) fn open_array_at(
    path: &Path,
) -> Result<(ZArray<ReadStore>, Option<Arc<remote::ObjectStorage>>)> {
    let missing = |detail: String| Error::MissingArray {
        path: path.display().to_string(),
        detail,
    };
    let location = Location::parse(path)?;
    if !location.is_local() {
        let remote = remote::readable(&location)?;
        let array = ZArray::open(remote.store.clone(), &remote.node).map_err(|e| {
            missing(
                remote
                    .why_unreadable()
                    .unwrap_or_else(|| remote::one_line(&e.to_string())),
            )
        })?;
        return Ok((array, remote.object.clone()));
    }
    if !path.is_dir() {
        return Err(missing("no such directory".into()));
    }
    if let Some(hint) = group_hint(path) {
        return Err(missing(hint));
    }
    let store: Arc<ReadStore> =
        Arc::new(FilesystemStore::new(path).map_err(|e| missing(e.to_string()))?);
    let array = ZArray::open(store, "/").map_err(|e| missing(e.to_string()))?;
    Ok((array, None))
}

/// When `path` is a Zarr group rather than an array: what to give instead (an OME-Zarr image's
/// full-resolution level, else the arrays inside).
fn group_hint(path: &Path) -> Option<String> {
    let read_json = |name: &str| -> Option<Value> {
        serde_json::from_slice(&std::fs::read(path.join(name)).ok()?).ok()
    };
    let attributes = match read_json("zarr.json") {
        Some(v3) if v3["node_type"] == "group" => v3["attributes"].clone(),
        Some(_) => return None,
        None if path.join(".zgroup").is_file() => read_json(".zattrs").unwrap_or(Value::Null),
        None => return None,
    };
    let multiscales = attributes["ome"]["multiscales"]
        .get(0)
        .or_else(|| attributes["multiscales"].get(0));
    if let Some(level) = multiscales.and_then(|m| m["datasets"][0]["path"].as_str()) {
        return Some(format!(
            "this is an OME-Zarr image (a group); give its full-resolution array, {}",
            path.join(level).display()
        ));
    }
    let mut arrays: Vec<String> = std::fs::read_dir(path)
        .ok()?
        .flatten()
        .filter(|e| e.path().join("zarr.json").is_file() || e.path().join(".zarray").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    arrays.sort();
    Some(if arrays.is_empty() {
        "this is a Zarr group, not an array".to_string()
    } else {
        format!(
            "this is a Zarr group, not an array; arrays inside: {}",
            arrays.join(", ")
        )
    })
}

/// The unit worth reading at once: the inner chunk of a sharded array, else the chunk.
pub(crate) fn natural_chunks<S: ?Sized>(array: &ZArray<S>, path: &Path) -> Result<Vec<u64>> {
    if let Some(inner) = array.effective_subchunk_shape() {
        return Ok(inner.iter().map(|c| c.get()).collect());
    }
    let origin = vec![0; array.dimensionality()];
    array
        .chunk_shape(&origin)
        .map(|s| s.iter().map(|c| c.get()).collect())
        .map_err(|e| Error::Invalid(format!("array {}: {e}", path.display())))
}
