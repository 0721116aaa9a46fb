//! Multiscale OME-Zarr pyramids: level 0 is the input, level k+1 the downsample of level k. All
//! levels are computed in one run; each level's chunks are kept in memory until the next level
//! has used them, so each input chunk is read once and no level is re-read from disk. The group
//! metadata (NGFF 0.4 on Zarr v2, 0.5 on Zarr v3) is written last, so an interrupted run never
//! leaves something that opens as a complete image.

mod axes;
mod metadata;

use std::path::Path;

use chunkwise_engine::plan::check_replaceable;
use chunkwise_engine::{execute_then, Array, Error, ExecOptions, Result, RunStats};
use chunkwise_ops::{DownsampleMethod, ResampleExt};
use chunkwise_store::{
    holds_unfinished_run, write_group, OutputPlace, Overwrite, WriteOptions, ZarrFormat,
};

use crate::api::Pipeline;
pub use axes::{check_space_unit, parse_axes, Axis, AxisKind};
use metadata::Multiscales;

/// How to build a pyramid.
#[derive(Clone, Debug)]
pub struct PyramidOptions {
    /// Downsampled levels below the full-resolution level 0 (at least 1).
    pub levels: usize,
    /// How blocks are reduced.
    pub method: DownsampleMethod,
    /// Factor per axis between levels; `None`: 2 on space axes, 1 on channel and time axes.
    pub factors: Option<Vec<u64>>,
    /// One axis per dimension, `name` or `name:type` (type `space`, `time` or `channel`; see
    /// [`parse_axes`]); `None`: `y,x`, `z,y,x`, `c,z,y,x` or `t,c,z,y,x` by dimensionality.
    pub axes: Option<Vec<String>>,
    /// Unit of the space axes, one of NGFF's (such as `micrometer`).
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

/// Writes `input` and `options.levels` downsampled levels as an OME-Zarr multiscale image at
/// `output` (arrays `0`, `1`, ...).
///
/// # Errors
/// [`Error::Invalid`] for bad options (levels 0 or more than the shape allows, axes NGFF does
/// not allow, factors or scales of the wrong length or out of range, units not in NGFF's list)
/// and for an `output` that is, holds or lies inside the input; [`Error::OutputExists`] when
/// `output` exists and `options.write.overwrite` is [`Overwrite::Refuse`] ([`Error::UnfinishedOutput`]
/// when it holds an interrupted pyramid); with [`Overwrite::Resume`], [`Error::NotResumable`] for
/// a complete pyramid, no pyramid or more levels than asked for, and a run error for levels
/// started by other settings; planning and run errors. On a failure during the run, `output` is removed, except
/// when resuming (what was stored is kept for the next resume).
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
    let axes = parse_axes(options.axes.as_deref(), ndim)?;
    if let Some(unit) = &options.unit {
        check_space_unit(unit)?;
    }
    let factors = options.factors.clone().unwrap_or_else(|| {
        axes.iter()
            .map(|a| if a.kind == AxisKind::Space { 2 } else { 1 })
            .collect()
    });
    let base_scale = options.scale.clone().unwrap_or_else(|| vec![1.0; ndim]);
    check_factors_and_scale(&factors, &base_scale, ndim)?;
    // The whole group is replaced, not only the level arrays the plan checks.
    check_replaceable(output, &[input])?;
    let resume = options.write.overwrite == Overwrite::Resume;
    // A local folder or an object-store prefix: checked, read and removed the same way.
    let place = OutputPlace::open(output)?;
    let exists = place.exists()?;
    match options.write.overwrite {
        Overwrite::Refuse if exists && resumable_output(&place, output, options.levels)? => {
            return Err(Error::UnfinishedOutput {
                path: output.display().to_string(),
                what: "pyramid",
            })
        }
        Overwrite::Refuse if exists => {
            return Err(Error::OutputExists(output.display().to_string()))
        }
        Overwrite::Resume if is_finished_pyramid(&place, output, options.levels) => {
            return Err(Error::NotResumable {
                path: output.display().to_string(),
                reason: "it is a complete pyramid".into(),
            })
        }
        Overwrite::Resume if !resumable_output(&place, output, options.levels)? => {
            return Err(Error::NotResumable {
                path: output.display().to_string(),
                reason: "it holds no unfinished pyramid (an array, or something else)".into(),
            })
        }
        Overwrite::Resume
            if OutputPlace::open(&output.join((options.levels + 1).to_string()))?.exists()? =>
        {
            return Err(Error::NotResumable {
                path: output.display().to_string(),
                reason: format!(
                    "the interrupted pyramid has more than {} levels (a resume must ask for as \
                     many levels as the interrupted run)",
                    options.levels
                ),
            })
        }
        _ => {}
    }

    let mut write = options.write.clone();
    // Each level resumes from its own journal; the group metadata, written last, marks the
    // whole pyramid complete.
    write.overwrite = if resume {
        Overwrite::Resume
    } else {
        Overwrite::Replace
    };
    if write.zarr_format == ZarrFormat::V3 {
        write.dimension_names = Some(axes.iter().map(|a| a.name.clone()).collect());
    }
    let mut levels = vec![input.clone()];
    for k in 0..options.levels {
        let next = levels[k].downsample(&factors, options.method)?;
        if next.shape() == levels[k].shape() {
            return Err(Error::Invalid(format!(
                "level {} would repeat level {k} (shape {:?}): an array of shape {:?} has at \
                 most {k} levels with factors {factors:?}; ask for fewer levels",
                k + 1,
                next.shape(),
                input.shape()
            )));
        }
        levels.push(next);
    }
    let mut pipeline = Pipeline::new();
    for (k, level) in levels.iter().enumerate() {
        pipeline.write_zarr(level, output.join(k.to_string()), &write)?;
    }
    let plan = pipeline.plan(exec)?;
    if !resume && exists {
        place.remove()?;
    }
    let attributes = Multiscales {
        axes: &axes,
        unit: options.unit.as_deref(),
        base_scale: &base_scale,
        factors: &factors,
        levels: options.levels,
        method: options.method.name(),
    }
    .attributes(options.write.zarr_format);
    // The group metadata is the last write: until the levels' journals go after it, a killed
    // run resumes, levels already finished included.
    let run = execute_then(&plan, exec, || {
        write_group(output, options.write.zarr_format, attributes)
    });
    // A failed run leaves nothing; a cancelled one (Ctrl-C) keeps its levels for --resume.
    if matches!(run, Err(ref e) if !matches!(e, Error::Cancelled { .. })) && !resume {
        let _ = place.remove();
    }
    run
}

/// True when a resume may write into `output`: nothing there yet (or an empty folder), or a
/// pyramid group or levels an interrupted run left (never an array or other data).
fn resumable_output(place: &OutputPlace, output: &Path, levels: usize) -> Result<bool> {
    if !place.is_nonempty()? {
        return Ok(true);
    }
    let is_array =
        stored(place, ".zarray").is_some() || node_type(place).is_some_and(|t| t != "group");
    Ok(!is_array && (0..=levels).any(|k| holds_unfinished_run(&output.join(k.to_string()))))
}

/// True when `output` is a finished pyramid: a group (v3 `zarr.json` of a group, or v2
/// `.zgroup`) whose levels hold no unfinished run.
fn is_finished_pyramid(place: &OutputPlace, output: &Path, levels: usize) -> bool {
    let group = node_type(place).as_deref() == Some("group") || stored(place, ".zgroup").is_some();
    group && !(0..=levels).any(|k| holds_unfinished_run(&output.join(k.to_string())))
}

/// The `node_type` of a Zarr v3 node at `place` (`None`: no readable `zarr.json`).
fn node_type(place: &OutputPlace) -> Option<String> {
    stored(place, "zarr.json")
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|m| m["node_type"].as_str().map(str::to_string))
}

/// The bytes of metadata file `key` at `place`; `None` when absent or unreadable (a folder in
/// its place, say): then it is not the metadata these checks look for. The store itself was
/// asked already ([`OutputPlace::exists`]), so its own failures show there.
fn stored(place: &OutputPlace, key: &str) -> Option<Vec<u8>> {
    place.read(key).ok().flatten()
}

fn check_factors_and_scale(factors: &[u64], scale: &[f64], ndim: usize) -> Result<()> {
    if factors.len() != ndim || scale.len() != ndim {
        return Err(Error::Invalid(format!(
            "factors and scale need one value per axis ({ndim}); got {} and {}",
            factors.len(),
            scale.len()
        )));
    }
    if factors.iter().all(|&f| f <= 1) {
        return Err(Error::Invalid(format!(
            "factors {factors:?}: at least one axis needs a factor above 1"
        )));
    }
    if let Some(s) = scale.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
        return Err(Error::Invalid(format!(
            "scale {s} is not a positive pixel size; give sizes above 0"
        )));
    }
    Ok(())
}
