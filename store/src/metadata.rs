//! Zarr metadata: the JSON describing an output, built from [`WriteOptions`] and handed to
//! zarrs whole (the JSON is the stable, documented interface of every codec); its publication
//! last and atomically; groups; and what `chunkwise info` shows about a stored array.

use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Value};
use zarrs::array::{ArrayMetadata, ArrayMetadataV2, ArrayMetadataV3, ArrayShardedExt};
use zarrs::storage::store::MemoryStore;
use zarrs::storage::{ReadableStorageTraits, StoreKey};

use chunkwise_engine::{ArrayMeta, DType, Error, Result};

use crate::adapter::{natural_chunks, open_array};
use crate::output::OutputStore;
use crate::{Codec, WriteOptions, ZarrFormat};

fn fill_value(dtype: DType) -> Value {
    match dtype {
        DType::Bool => json!(false),
        DType::Float32 | DType::Float64 => json!(0.0),
        _ => json!(0),
    }
}

fn v3_compressor(codec: &Codec, dtype: DType) -> Option<Value> {
    match codec {
        Codec::None => None,
        Codec::Zstd { level } => {
            Some(json!({"name": "zstd", "configuration": {"level": level, "checksum": false}}))
        }
        Codec::Gzip { level } => Some(json!({"name": "gzip", "configuration": {"level": level}})),
        Codec::Blosc {
            cname,
            clevel,
            shuffle,
        } => Some(json!({"name": "blosc", "configuration": {
            "cname": cname, "clevel": clevel,
            "shuffle": if *shuffle { "shuffle" } else { "noshuffle" },
            "typesize": dtype.size(), "blocksize": 0}})),
    }
}

pub(crate) fn v3_metadata(meta: &ArrayMeta, unit: &[u64], options: &WriteOptions) -> Value {
    let mut inner = vec![json!({"name": "bytes", "configuration": {"endian": "little"}})];
    inner.extend(v3_compressor(&options.codec, meta.dtype));
    let codecs = if options.shards.is_some() {
        vec![json!({"name": "sharding_indexed", "configuration": {
            "chunk_shape": meta.chunks,
            "codecs": inner,
            "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                             {"name": "crc32c"}],
            "index_location": "end"}})]
    } else {
        inner
    };
    let mut m = json!({
        "zarr_format": 3, "node_type": "array", "shape": meta.shape, "data_type": meta.dtype.name(),
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": unit}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": fill_value(meta.dtype), "codecs": codecs, "attributes": {}});
    if let Some(names) = &options.dimension_names {
        m["dimension_names"] = json!(names);
    }
    m
}

pub(crate) fn v2_metadata(meta: &ArrayMeta, options: &WriteOptions) -> Value {
    let compressor = match &options.codec {
        Codec::None => Value::Null,
        Codec::Zstd { level } => json!({"id": "zstd", "level": level}),
        Codec::Gzip { level } => json!({"id": "gzip", "level": level}),
        Codec::Blosc {
            cname,
            clevel,
            shuffle,
        } => json!({"id": "blosc", "cname": cname, "clevel": clevel,
                    "shuffle": u8::from(*shuffle), "blocksize": 0}),
    };
    json!({"zarr_format": 2, "shape": meta.shape, "chunks": meta.chunks,
           "dtype": meta.dtype.v2_name(), "compressor": compressor,
           "fill_value": fill_value(meta.dtype), "order": "C", "filters": null,
           "dimension_separator": "/"})
}

pub(crate) fn parse_metadata(value: Value, format: ZarrFormat) -> Result<ArrayMetadata> {
    let bad = |e: serde_json::Error| Error::Invalid(format!("output metadata: {e}"));
    Ok(match format {
        ZarrFormat::V3 => {
            ArrayMetadata::V3(serde_json::from_value::<ArrayMetadataV3>(value).map_err(bad)?)
        }
        ZarrFormat::V2 => {
            ArrayMetadata::V2(serde_json::from_value::<ArrayMetadataV2>(value).map_err(bad)?)
        }
    })
}

/// Metadata keys in the order they are stored: attributes first, the one whose presence makes
/// the node (`.zarray`, `.zgroup`, `zarr.json`) last.
const METADATA_FILES: [&str; 4] = [".zattrs", ".zarray", ".zgroup", "zarr.json"];

/// Has `write` store metadata through zarrs into memory, then stores each key whole
/// ([`OutputStore::put`]: a file renamed into place, or one PUT), the one whose presence makes
/// the node (`zarr.json`, `.zarray`, `.zgroup`) last: a process killed meanwhile leaves no torn
/// metadata, and no node that opens before its attributes are there.
pub(crate) fn publish_metadata(
    store: &OutputStore,
    write: impl FnOnce(Arc<MemoryStore>) -> std::result::Result<(), String>,
) -> Result<()> {
    let failed = |e: &dyn std::fmt::Display| Error::Store {
        path: store.describe(),
        detail: format!("writing metadata: {e}"),
    };
    let staged = Arc::new(MemoryStore::new());
    write(staged.clone()).map_err(|e| failed(&e))?;
    for name in METADATA_FILES {
        let key = StoreKey::new(name).map_err(|e| failed(&e))?;
        if let Some(bytes) = staged.get(&key).map_err(|e| failed(&e))? {
            store.put(name, &bytes).map_err(|e| failed(&e))?;
        }
    }
    Ok(())
}

/// Creates a Zarr group at `path` (which must exist) with `attributes`, through zarrs: v3
/// `zarr.json`, or v2 `.zgroup` plus `.zattrs`.
///
/// # Errors
/// [`Error::Store`] when the metadata cannot be written.
pub fn write_group(
    path: impl AsRef<Path>,
    format: ZarrFormat,
    attributes: serde_json::Map<String, Value>,
) -> Result<()> {
    let path = path.as_ref();
    use zarrs::group::GroupMetadata;
    use zarrs::metadata::{v2::GroupMetadataV2, v3::GroupMetadataV3};
    let metadata = match format {
        ZarrFormat::V3 => GroupMetadata::V3(GroupMetadataV3::new().with_attributes(attributes)),
        ZarrFormat::V2 => GroupMetadata::V2(GroupMetadataV2::new().with_attributes(attributes)),
    };
    let store = OutputStore::open(path, false)?;
    publish_metadata(&store, |store| {
        zarrs::group::Group::new_with_metadata(store, "/", metadata)
            .map_err(|e| e.to_string())?
            .store_metadata()
            .map_err(|e| e.to_string())
    })
}

/// What `chunkwise info` shows about a stored array.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ZarrInfo {
    /// 2 or 3.
    pub zarr_format: u8,
    /// Extent on each axis.
    pub shape: Vec<u64>,
    /// Chunk shape (the inner chunk when sharded).
    pub chunks: Vec<u64>,
    /// Shard shape, when sharded.
    pub shards: Option<Vec<u64>>,
    /// Data type as the metadata names it.
    pub data_type: String,
    /// Fill value as the metadata gives it.
    pub fill_value: Value,
    /// Codec chain (v3) or filters and compressor (v2), as metadata JSON.
    pub codecs: Value,
    /// Axis names, when present.
    pub dimension_names: Option<Value>,
}

/// Reads the metadata of the array at `path`.
///
/// # Errors
/// [`Error::MissingArray`] when there is no readable array at `path`.
pub fn inspect_zarr(path: impl AsRef<Path>) -> Result<ZarrInfo> {
    let path = path.as_ref();
    let array = open_array(path)?;
    let chunks = natural_chunks(&array, path)?;
    let shards = array.is_sharded().then(|| {
        let origin = vec![0; array.dimensionality()];
        array
            .chunk_shape(&origin)
            .map(|s| s.iter().map(|c| c.get()).collect())
            .unwrap_or_default()
    });
    let (zarr_format, json) = match array.metadata() {
        ArrayMetadata::V2(m) => (2, serde_json::to_value(m)),
        ArrayMetadata::V3(m) => (3, serde_json::to_value(m)),
    };
    let json = json.map_err(|e| Error::Invalid(e.to_string()))?;
    let codecs = if zarr_format == 2 {
        json!({"filters": json["filters"], "compressor": json["compressor"]})
    } else {
        json["codecs"].clone()
    };
    Ok(ZarrInfo {
        zarr_format,
        shape: array.shape().to_vec(),
        chunks,
        shards,
        data_type: array.data_type().to_string(),
        fill_value: json["fill_value"].clone(),
        codecs,
        dimension_names: json.get("dimension_names").cloned(),
    })
}
