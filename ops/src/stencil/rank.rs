//! Rank filters: `median_filter`, `minimum_filter`, `maximum_filter`.

use chunkwise_engine::{Array, DType, Error, Result};
use serde_json::{json, Value};

use crate::stencil::boundary::BoundaryMode;
use crate::stencil::line::Line;
use crate::stencil::nd::{Footprint, NdKind};
use crate::stencil::separable::{Combine, Pass, Separable};
use crate::stencil::{apply, check_footprint, origins, per_axis, FilterOptions, Window};

/// `scipy.ndimage.median_filter(x, size | footprint, origin=origin, mode, cval)`: the value of
/// rank `count // 2` among the window's values (the upper median for an even count, as scipy).
///
/// # Errors
/// [`Error::Invalid`] for a window whose rank does not match, an empty window, an origin outside
/// it, or a non-float output type.
pub fn median_filter(
    x: &Array,
    window: &Window,
    origin: &[i64],
    options: &FilterOptions,
) -> Result<Array> {
    check_cval("median_filter", x, options)?;
    let window = RankWindow::new("median_filter", x, window, origin)?;
    let count = window.mask.iter().filter(|&&m| m).count();
    footprint_filter(x, "median_filter", NdKind::Rank(count / 2), window, options)
}

/// `scipy.ndimage.minimum_filter(x, size | footprint, origin=origin, mode, cval)`.
///
/// # Errors
/// As [`median_filter`].
pub fn minimum_filter(
    x: &Array,
    window: &Window,
    origin: &[i64],
    options: &FilterOptions,
) -> Result<Array> {
    extreme(x, "minimum_filter", window, origin, options)
}

/// `scipy.ndimage.maximum_filter(x, size | footprint, origin=origin, mode, cval)`.
///
/// # Errors
/// As [`median_filter`].
pub fn maximum_filter(
    x: &Array,
    window: &Window,
    origin: &[i64],
    options: &FilterOptions,
) -> Result<Array> {
    extreme(x, "maximum_filter", window, origin, options)
}

/// A box window splits into 1-D sliding extremes along each axis longer than 1 (scipy does the
/// same for a full footprint); any other footprint is compared position by position.
fn extreme(
    x: &Array,
    name: &'static str,
    window: &Window,
    origin: &[i64],
    options: &FilterOptions,
) -> Result<Array> {
    check_cval(name, x, options)?;
    let window = RankWindow::new(name, x, window, origin)?;
    let max = name == "maximum_filter";
    if !window.mask.iter().all(|&m| m) {
        let kind = if max { NdKind::Max } else { NdKind::Min };
        return footprint_filter(x, name, kind, window, options);
    }
    let RankWindow {
        shape,
        origin,
        params,
        ..
    } = window;
    let passes = (0..shape.len())
        .filter(|&d| shape[d] > 1)
        .map(|d| {
            let line = if max {
                Line::Max(shape[d])
            } else {
                Line::Min(shape[d])
            };
            Pass::new(d, line, origin[d])
        })
        .collect();
    let kernel = Separable {
        terms: vec![passes],
        combine: Combine::Single,
    };
    apply(x, name, params, kernel, options)
}

/// Refuses a non-finite `cval` for integer input: a rank filter's window holds values of the
/// input's type, as scipy's does, and no integer holds NaN or an infinity (scipy converts it
/// with a C cast, whose result is undefined).
fn check_cval(name: &str, x: &Array, options: &FilterOptions) -> Result<()> {
    let float = matches!(x.dtype(), DType::Float32 | DType::Float64);
    if options.mode == BoundaryMode::Constant && !options.cval.is_finite() && !float {
        return Err(Error::Invalid(format!(
            "{name}: cval {} does not fit the {} input; cast it to float32 or float64 first",
            chunkwise_engine::nonfinite::name(options.cval).unwrap_or("non-finite"),
            x.dtype()
        )));
    }
    Ok(())
}

/// A rank filter's window, validated: its footprint, origins (zeros when absent), and the
/// parameters as the user gave them (`size` or `footprint`, and `origin`).
struct RankWindow {
    shape: Vec<usize>,
    mask: Vec<bool>,
    origin: Vec<i64>,
    params: Value,
}

impl RankWindow {
    fn new(name: &str, x: &Array, window: &Window, origin: &[i64]) -> Result<Self> {
        let (shape, mask) = footprint(name, x, window)?;
        let origin = origins(name, origin, &shape)?;
        let params = match window {
            Window::Size(_) => json!({"size": shape, "origin": origin}),
            Window::Footprint { .. } => {
                json!({"footprint": mask, "footprint_shape": shape, "origin": origin})
            }
        };
        Ok(RankWindow {
            shape,
            mask,
            origin,
            params,
        })
    }
}

fn footprint_filter(
    x: &Array,
    name: &'static str,
    kind: NdKind,
    window: RankWindow,
    options: &FilterOptions,
) -> Result<Array> {
    let RankWindow {
        shape,
        mask,
        origin,
        params,
    } = window;
    // scipy's footprint rank filters hold the window in the input type, cval included.
    let options = FilterOptions {
        cval: cval_in_type(options.cval, x.dtype()),
        ..options.clone()
    };
    let kernel = Footprint {
        kind,
        shape,
        footprint: mask,
        origin,
    };
    apply(x, name, params, kernel, &options)
}

/// `cval` converted to `dtype` as C converts a double: floats rounded to the type, integers
/// truncated toward zero and wrapped.
fn cval_in_type(cval: f64, dtype: DType) -> f64 {
    let int = cval as i64;
    match dtype {
        DType::Float32 => f64::from(cval as f32),
        DType::Float64 => cval,
        DType::Bool => f64::from(u8::from(int != 0)),
        DType::Int8 => f64::from(int as i8),
        DType::Int16 => f64::from(int as i16),
        DType::Int32 => f64::from(int as i32),
        DType::Int64 => int as f64,
        DType::Uint8 => f64::from(int as u8),
        DType::Uint16 => f64::from(int as u16),
        DType::Uint32 => f64::from(int as u32),
        DType::Uint64 => (int as u64) as f64,
    }
}

/// The window as a footprint shape and mask, validated.
fn footprint(name: &str, x: &Array, window: &Window) -> Result<(Vec<usize>, Vec<bool>)> {
    let (shape, mask) = match window {
        Window::Size(size) => {
            check_footprint(name, size)?;
            (size.clone(), vec![true; size.iter().product()])
        }
        Window::Footprint { shape, mask } => (shape.clone(), mask.clone()),
    };
    per_axis(name, "the window shape", &shape, x)?;
    check_footprint(name, &shape)?;
    let count: usize = shape.iter().product();
    if shape.contains(&0) || count != mask.len() {
        return Err(Error::Invalid(format!(
            "{name}: a footprint of shape {shape:?} needs {count} values, got {}",
            mask.len()
        )));
    }
    if !mask.contains(&true) {
        return Err(Error::Invalid(format!(
            "{name}: the footprint selects no position"
        )));
    }
    Ok((shape, mask))
}
