//! `map_overlap`: a user's function as a stencil. The extended block is gathered by the
//! built-in stencils' own code ([`crate::stencil::window`]: boundary modes, the few boxes a
//! wrap-mode edge reads), in the input's own element type; the planner treats the op as it
//! treats a filter (halo reads through the decoded-chunk cache, recompute-or-hold chains).

use std::fmt::{self, Debug, Display};
use std::sync::Arc;

use chunkwise_engine::{
    dispatch, Array, ArrayMeta, Buffer, Element, Error, Op, OpKind, Region, RegionData, Result,
    Scalar,
};
use ndarray::{ArrayD, IxDyn, Slice};
use serde::Serialize;

use crate::elementwise::num::Num;
use crate::stencil::window::{bounding, gather_as, pieces, windows, AxisWindow, Halo};
use crate::stencil::{check_window, BoundaryMode};
use crate::user::call::{into_c_order, Signature};
use crate::user::{check_inputs, region_text, Boundary, UserFn};

/// The closure over an extended block it owns, its error made text.
type OverlapFn<T, U> = dyn Fn(ArrayD<T>) -> std::result::Result<ArrayD<U>, String> + Send + Sync;

/// A user's function over blocks extended by `depth` on each side.
#[derive(Serialize)]
pub(crate) struct MapOverlap<T, U> {
    #[serde(flatten)]
    signature: Signature,
    depth: Vec<usize>,
    mode: BoundaryMode,
    /// Recorded only where it is used (constant mode), as the user gave it.
    #[serde(skip_serializing_if = "Option::is_none")]
    cval: Option<Scalar>,
    /// Shape of the whole input.
    input_shape: Vec<u64>,
    #[serde(skip)]
    constant: T,
    #[serde(skip)]
    f: Arc<OverlapFn<T, U>>,
}

impl<T, U> Debug for MapOverlap<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapOverlap")
            .field("signature", &self.signature)
            .field("depth", &self.depth)
            .field("mode", &self.mode)
            .field("cval", &self.cval)
            .finish_non_exhaustive()
    }
}

/// See [`crate::user::UserFnExt::map_overlap_owned`]; `map_overlap` lends `f` a view of the
/// owned block.
pub(crate) fn map_overlap<T, U, E, F>(
    x: &Array,
    depth: &[usize],
    boundary: Boundary,
    function: UserFn,
    f: F,
) -> Result<Array>
where
    T: Element,
    U: Element,
    E: Display,
    F: Fn(ArrayD<T>) -> std::result::Result<ArrayD<U>, E> + Send + Sync + 'static,
{
    let signature = Signature::new::<T, U>("map_overlap", &function)?;
    let name = signature.name.clone();
    check_inputs::<T>(&name, &[x])?;
    let nd = x.shape().len();
    let depth = match depth {
        [d] => vec![*d; nd],
        d if d.len() == nd => d.to_vec(),
        d => {
            return Err(Error::Invalid(format!(
                "{name}: depth must give one value per axis of the {nd}-d input (or one for \
                 all), got {}",
                d.len()
            )))
        }
    };
    if nd == 0 {
        return Err(Error::Invalid(format!(
            "{name}: map_overlap needs an array with at least one axis"
        )));
    }
    let extents: Vec<usize> = depth
        .iter()
        .map(|d| d.saturating_mul(2).saturating_add(1))
        .collect();
    check_window(&name, &extents)?;
    let constant_mode = boundary.mode == BoundaryMode::Constant;
    if constant_mode && !boundary.cval.fits(T::DTYPE) {
        return Err(Error::Invalid(format!(
            "{name}: cval {} does not fit the array's type {}",
            boundary.cval,
            T::DTYPE
        )));
    }
    let op = MapOverlap {
        signature,
        depth,
        mode: boundary.mode,
        cval: constant_mode.then_some(boundary.cval),
        input_shape: x.shape().to_vec(),
        constant: scalar_as::<T>(boundary.cval)?,
        f: Arc::new(move |block: ArrayD<T>| f(block).map_err(|e| e.to_string())),
    };
    Array::apply(Arc::new(op), vec![x.clone()])
}

/// `s` converted to `T` as the element-wise ops convert scalars.
fn scalar_as<T: Element>(s: Scalar) -> Result<T> {
    let mut b = Buffer::zeros(T::DTYPE, 1);
    dispatch!(Buffer, &mut b, v => v[0] = Num::from_scalar(s));
    T::from_buffer(b)
        .and_then(|v| v.first().copied())
        .ok_or_else(|| Error::Invalid("internal: scalar conversion changed type".into()))
}

impl<T: Element, U: Element> MapOverlap<T, U> {
    fn halo(&self) -> Halo {
        Halo {
            before: self.depth.clone(),
            after: self.depth.clone(),
        }
    }

    fn windows(&self, output: &Region) -> Vec<AxisWindow> {
        windows(output, &self.halo(), &self.input_shape, self.mode)
    }

    /// The inner block from what the function returned: as is, or trimmed from the extended.
    fn inner(&self, block: ArrayD<U>, output: &Region, at: &str) -> Result<Vec<U>> {
        let inner: Vec<usize> = output.shape.iter().map(|&n| n as usize).collect();
        if block.shape() == inner.as_slice() {
            return Ok(into_c_order(block));
        }
        let extended: Vec<usize> = inner
            .iter()
            .zip(&self.depth)
            .map(|(n, d)| n + 2 * d)
            .collect();
        if block.shape() == extended.as_slice() {
            let trimmed = block.slice_each_axis(|ax| {
                let d = self.depth[ax.axis.index()] as isize;
                Slice::from(d..d + inner[ax.axis.index()] as isize)
            });
            return Ok(trimmed.iter().copied().collect());
        }
        self.signature.check_shape(&block, &inner, at)?;
        Ok(into_c_order(block))
    }
}

impl<T: Element, U: Element> Op for MapOverlap<T, U> {
    fn name(&self) -> &str {
        &self.signature.name
    }

    fn describe(&self) -> String {
        let cval = self.cval.map(|c| format!(", cval={c}")).unwrap_or_default();
        format!(
            "{}, depth={:?}, mode={}{cval}",
            self.signature.describe(),
            self.depth,
            self.mode.name()
        )
    }

    fn kind(&self) -> OpKind {
        OpKind::Region
    }

    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        let [input] = inputs else {
            return Err(Error::Invalid(format!(
                "{} takes one input",
                self.signature.name
            )));
        };
        if input.shape != self.input_shape {
            return Err(Error::Invalid(format!(
                "internal: {} was built for shape {:?}, given {:?}",
                self.signature.name, self.input_shape, input.shape
            )));
        }
        ArrayMeta::new(input.shape.clone(), input.chunks.clone(), U::DTYPE)
    }

    fn input_regions(&self, output: &Region, _inputs: &[ArrayMeta]) -> Vec<Region> {
        vec![bounding(&self.windows(output))]
    }

    fn input_pieces(&self, output: &Region, _inputs: &[ArrayMeta]) -> Vec<Vec<Region>> {
        vec![pieces(&self.windows(output))]
    }

    fn scratch_bytes(&self, output: &Region) -> u64 {
        let extended: u64 = output
            .shape
            .iter()
            .zip(&self.depth)
            .map(|(&n, &d)| n + 2 * d as u64)
            .product();
        // The gathered block, and the function's result before it is trimmed.
        extended * (T::DTYPE.size() + U::DTYPE.size()) as u64 + self.signature.scratch
    }

    fn compute_region(&self, inputs: &[RegionData<'_>], output: &Region) -> Result<Buffer> {
        let wins = self.windows(output);
        let shape: Vec<usize> = wins.iter().map(|w| w.map.len()).collect();
        let data: Vec<T> = gather_as(inputs, &wins, self.constant, |v: T| v)?;
        let block = ArrayD::from_shape_vec(IxDyn(&shape), data)
            .map_err(|e| Error::Invalid(format!("internal: extended block: {e}")))?;
        let at = format!(" for output region {}", region_text(output));
        let block = self.signature.call(&at, || (self.f)(block))?;
        Ok(U::into_buffer(self.inner(block, output, &at)?))
    }
}
