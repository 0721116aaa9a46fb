//! `np.pad` with the modes that are index mappings (constant, edge, reflect, symmetric, wrap), as
//! a [`Remap`]: a padded axis reads `o - before` extended beyond the edges by the mode, which is
//! one of scipy.ndimage's boundary modes under NumPy's name.

use chunkwise_engine::{Array, Error, Result, Scalar};
use serde::{Deserialize, Serialize};

use super::remap::{IndexMap, InputAxis, Remap};
use crate::stencil::BoundaryMode;

/// `np.pad`'s `mode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PadMode {
    /// `k k | a b c | k k` with `k = constant_values` (NumPy's default).
    #[default]
    Constant,
    /// `a a | a b c | c c`.
    Edge,
    /// `c b | a b c | b a` (the edge not repeated).
    Reflect,
    /// `b a | a b c | c b` (the edge repeated).
    Symmetric,
    /// `b c | a b c | a b`.
    Wrap,
}

impl PadMode {
    /// NumPy's name.
    pub fn name(self) -> &'static str {
        match self {
            PadMode::Constant => "constant",
            PadMode::Edge => "edge",
            PadMode::Reflect => "reflect",
            PadMode::Symmetric => "symmetric",
            PadMode::Wrap => "wrap",
        }
    }

    /// The same extension under scipy.ndimage's name.
    fn boundary(self) -> BoundaryMode {
        match self {
            PadMode::Constant => BoundaryMode::Constant,
            PadMode::Edge => BoundaryMode::Nearest,
            PadMode::Reflect => BoundaryMode::Mirror,
            PadMode::Symmetric => BoundaryMode::Reflect,
            PadMode::Wrap => BoundaryMode::Wrap,
        }
    }
}

/// `pad_width` as NumPy broadcasts it to `(before, after)` per axis: one pair for every axis, or
/// one pair per axis.
///
/// # Errors
/// [`Error::Invalid`] for a negative width or a list that fits neither form.
pub fn pad_widths(pad_width: &[[i64; 2]], ndim: usize) -> Result<Vec<(u64, u64)>> {
    let pairs: Vec<[i64; 2]> = match pad_width.len() {
        1 => vec![pad_width[0]; ndim],
        n if n == ndim => pad_width.to_vec(),
        n => {
            return Err(Error::Invalid(format!(
                "pad_width has {n} (before, after) pairs for an array of dimension {ndim}; give \
                 one pair for every axis or one per axis"
            )))
        }
    };
    pairs
        .into_iter()
        .map(|[b, a]| match (u64::try_from(b), u64::try_from(a)) {
            (Ok(b), Ok(a)) => Ok((b, a)),
            _ => Err(Error::Invalid(format!(
                "index can't contain negative values (pad_width {pad_width:?})"
            ))),
        })
        .collect()
}

/// `np.pad(x, pad_width, mode, constant_values=...)`; `pad_width` as in [`pad_widths`],
/// `constant_values` (default 0) only with [`PadMode::Constant`], cast to `x`'s type as NumPy
/// casts it (an integer wraps: -1 pads a uint8 array with 255). Output chunks are the input's.
///
/// # Errors
/// [`Error::Invalid`] for a negative width, a `constant_values` with another mode, and a
/// non-constant mode extending an empty axis (NumPy's messages).
pub fn pad(
    x: &Array,
    pad_width: &[[i64; 2]],
    mode: PadMode,
    constant_values: Option<Scalar>,
) -> Result<Array> {
    let widths = pad_widths(pad_width, x.shape().len())?;
    let fill = match (mode, constant_values) {
        // Cast to the array's type as NumPy's assignment casts (integers wrap).
        (PadMode::Constant, v) => Some(v.unwrap_or(Scalar::Int(0))),
        (other, Some(_)) => {
            return Err(Error::Invalid(format!(
                "unsupported keyword arguments for mode '{}': {{'constant_values'}}",
                other.name()
            )))
        }
        (_, None) => None,
    };
    let mut shape = Vec::with_capacity(widths.len());
    let mut axes = Vec::with_capacity(widths.len());
    for (d, (&n, &(before, after))) in x.shape().iter().zip(&widths).enumerate() {
        if n == 0 && mode != PadMode::Constant && before + after > 0 {
            return Err(Error::Invalid(format!(
                "can't extend empty axis {d} using modes other than 'constant' or 'empty'"
            )));
        }
        shape.push(
            n.checked_add(before)
                .and_then(|v| v.checked_add(after))
                .ok_or_else(|| Error::Invalid(format!("pad_width overflows axis {d}")))?,
        );
        axes.push(InputAxis::Follows {
            axis: d,
            map: IndexMap::Padded {
                before,
                len: n,
                mode: mode.boundary(),
            },
        });
    }
    let chunks = x
        .meta()
        .chunks
        .iter()
        .zip(&shape)
        .map(|(&c, &n)| c.min(n).max(1))
        .collect();
    Remap {
        name: "pad",
        params: format!(
            "pad_width={widths:?}, mode={}{}",
            mode.name(),
            fill.map(|v| format!(", constant_values={v}"))
                .unwrap_or_default()
        ),
        axes,
        shape,
        chunks,
        dtype: x.dtype(),
        fill,
    }
    .apply(x)
}
