//! Multiscale OME-Zarr pyramids: level 0 is the input, level k+1 the downsample of level k. All
//! levels are computed in one run; each level's chunks are kept in memory until the next level
//! has used them, so each input chunk is read once and no level is re-read from disk. The group
//! metadata (NGFF 0.4 on Zarr v2, 0.5 on Zarr v3) is written last, so an interrupted run never
//! leaves something that opens as a complete image.

use std::path::Path;

use chunkwise_engine::store::{write_group, Overwrite, WriteOptions, ZarrFormat};
use chunkwise_engine::{execute, Array, Error, ExecOptions, Result, RunStats};
use chunkwise_ops::{DownsampleMethod, ResampleExt};
use serde_json::{json, Map, Value};

use crate::api::Pipeline;

/// How to build a pyramid.
#[derive(Clone, Debug)]
pub struct PyramidOptions {
    /// Downsampled levels below the full-resolution level 0 (at least 1).
    pub levels: usize,
    /// How blocks are reduced.
    pub method: DownsampleMethod,
    /// Factor per axis between levels; `None`: 2 on space axes, 1 on channel and time axes.
    pub factors: Option<Vec<u64>>,
    /// Axis names; `None`: x, y, z (and c, t) by dimensionality, as NGFF orders them.
    pub axes: Option<Vec<String>>,
    /// Unit of the space axes (an NGFF unit such as `micrometer`).
    pub unit: Option<String>,
    /// Pixel size of level 0 per axis (default 1).
    pub scale: Option<Vec<f64>>,
    /// Format, chunks, codec of every level; v2 gives NGFF 0.4, v3 gives NGFF 0.5.
    pub write: WriteOptions,
}

impl Default for PyramidOptions {
    fn default() -> Self {
        Self {
            levels: 3,
            method: DownsampleMethod::Mean,
            factors: None,
            axes: None,
            unit: None,
            scale: None,
            write: WriteOptions::default(),
        }
    }
}

fn default_axes(ndim: usize) -> Result<Vec<String>> {
    let names: &[&str] = match ndim {
        2 => &["y", "x"],
        3 => &["z", "y", "x"],
        4 => &["c", "z", "y", "x"],
        5 => &["t", "c", "z", "y", "x"],
        _ => {
            return Err(Error::Invalid(format!(
                "OME-Zarr images have 2 to 5 axes; this array has {ndim}"
            )))
        }
    };
    Ok(names.iter().map(|s| s.to_string()).collect())
}

fn axis_type(name: &str) -> &'static str {
    match name {
        "t" => "time",
        "c" => "channel",
        _ => "space",
    }
}

/// Writes `input` and `options.levels` downsampled levels as an OME-Zarr multiscale image at
/// `output` (arrays `0`, `1`, ...).
///
/// # Errors
/// [`Error::Invalid`] for bad options (levels, axes, factors, units); [`Error::OutputExists`]
/// unless `options.write.overwrite` is [`Overwrite::Replace`]; planning and run errors. On a
/// failure during the run, `output` is removed.
pub fn write_pyramid(
    input: &Array,
    output: impl AsRef<Path>,
    options: &PyramidOptions,
    exec: &ExecOptions,
) -> Result<RunStats> {
    let output = output.as_ref();
    let ndim = input.shape().len();
    if options.levels == 0 {
        return Err(Error::Invalid(
            "a pyramid needs at least 1 downsampled level".into(),
        ));
    }
    let axes = match &options.axes {
        Some(a) if a.len() != ndim => {
            return Err(Error::Invalid(format!(
                "{} axis names given for a {ndim}-d array",
                a.len()
            )))
        }
        Some(a) => a.clone(),
        None => default_axes(ndim)?,
    };
    let factors = options.factors.clone().unwrap_or_else(|| {
        axes.iter()
            .map(|a| if axis_type(a) == "space" { 2 } else { 1 })
            .collect()
    });
    let base_scale = options.scale.clone().unwrap_or_else(|| vec![1.0; ndim]);
    if factors.len() != ndim || base_scale.len() != ndim {
        return Err(Error::Invalid(format!(
            "factors and scale need one value per axis ({ndim})"
        )));
    }
    if options.write.overwrite == Overwrite::Resume {
        return Err(Error::Invalid(
            "pyramids cannot be resumed yet; write them again with overwrite".into(),
        ));
    }
    if output.exists() && options.write.overwrite == Overwrite::Refuse {
        return Err(Error::OutputExists(output.display().to_string()));
    }

    let mut write = options.write.clone();
    write.overwrite = Overwrite::Replace;
    if write.zarr_format == ZarrFormat::V3 {
        write.dimension_names = Some(axes.clone());
    }
    let mut levels = vec![input.clone()];
    for k in 0..options.levels {
        levels.push(levels[k].downsample(&factors, options.method)?);
    }
    let mut pipeline = Pipeline::new();
    for (k, level) in levels.iter().enumerate() {
        pipeline.write_zarr(level, output.join(k.to_string()), &write)?;
    }
    let plan = pipeline.plan(exec)?;
    if output.exists() {
        std::fs::remove_dir_all(output).map_err(|e| Error::Store {
            path: output.display().to_string(),
            detail: format!("cannot replace: {e}"),
        })?;
    }
    let run = execute(&plan, exec).and_then(|stats| {
        let attributes = multiscales(&axes, options, &factors, &base_scale)?;
        write_group(output, options.write.zarr_format, attributes)?;
        Ok(stats)
    });
    if run.is_err() {
        let _ = std::fs::remove_dir_all(output);
    }
    run
}

/// The `multiscales` attributes: NGFF 0.4 at the top level (v2), 0.5 under `ome` (v3).
fn multiscales(
    axes: &[String],
    options: &PyramidOptions,
    factors: &[u64],
    base_scale: &[f64],
) -> Result<Map<String, Value>> {
    let axes_json: Vec<Value> = axes
        .iter()
        .map(|name| {
            let kind = axis_type(name);
            let mut a = json!({"name": name, "type": kind});
            if let (Some(unit), "space") = (&options.unit, kind) {
                a["unit"] = json!(unit);
            }
            a
        })
        .collect();
    let datasets: Vec<Value> = (0..=options.levels)
        .map(|k| {
            let scale: Vec<f64> = base_scale
                .iter()
                .zip(factors)
                .map(|(s, f)| s * (*f as f64).powi(k as i32))
                .collect();
            json!({"path": k.to_string(),
                   "coordinateTransformations": [{"type": "scale", "scale": scale}]})
        })
        .collect();
    let mut ms = json!({
        "name": "image",
        "axes": axes_json,
        "datasets": datasets,
        "type": options.method.name(),
        "metadata": {"method": "chunkwise downsample", "kwargs": {"factors": factors}},
    });
    let mut attrs = Map::new();
    match options.write.zarr_format {
        ZarrFormat::V2 => {
            ms["version"] = json!("0.4");
            attrs.insert("multiscales".into(), json!([ms]));
        }
        ZarrFormat::V3 => {
            attrs.insert("ome".into(), json!({"version": "0.5", "multiscales": [ms]}));
        }
    }
    Ok(attrs)
}
