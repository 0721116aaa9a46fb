//! `map_blocks`: a user's element-wise function as an [`OpKind::ElementWise`] op, so the planner
//! fuses it like `clip`: the fused program hands it the same cache-sized runs of elements it
//! hands every element-wise op.

use std::fmt::{self, Debug, Display};
use std::sync::Arc;

use chunkwise_engine::{Array, ArrayMeta, Element, Error, Op, OpKind, Result, Slice, SliceMut};
use ndarray::{ArrayD, ArrayViewD, IxDyn};
use serde::Serialize;

use crate::elementwise::common::elementwise_meta;
use crate::user::call::Signature;
use crate::user::{check_inputs, UserFn};

/// The closure, its error made text, over one view per input.
type BlocksFn<T, U> =
    dyn Fn(&[ArrayViewD<'_, T>]) -> std::result::Result<ArrayD<U>, String> + Send + Sync;

/// A user's element-wise function over `arity` inputs of `T`, returning `U`.
#[derive(Serialize)]
pub(crate) struct MapBlocks<T, U> {
    #[serde(flatten)]
    signature: Signature,
    arity: usize,
    #[serde(skip)]
    f: Arc<BlocksFn<T, U>>,
}

impl<T, U> Debug for MapBlocks<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapBlocks")
            .field("signature", &self.signature)
            .field("arity", &self.arity)
            .finish_non_exhaustive()
    }
}

/// See [`crate::user::UserFnExt::map_blocks`].
pub(crate) fn map_blocks<T, U, E, F>(x: &Array, function: UserFn, f: F) -> Result<Array>
where
    T: Element,
    U: Element,
    E: Display,
    F: Fn(ArrayViewD<'_, T>) -> std::result::Result<ArrayD<U>, E> + Send + Sync + 'static,
{
    map_blocks_n(&[x], function, move |blocks: &[ArrayViewD<'_, T>]| {
        f(blocks[0].view())
    })
}

/// [`crate::user::UserFnExt::map_blocks`] over several arrays of one shape and element type
/// (their chunk grids may differ; the result takes the first one's): `f` receives one block
/// per input, the same elements of each.
///
/// # Errors
/// As [`crate::user::UserFnExt::map_blocks`]; also [`Error::Invalid`] for no inputs or inputs
/// of different shapes.
pub fn map_blocks_n<T, U, E, F>(
    inputs: &[&Array],
    function: impl Into<UserFn>,
    f: F,
) -> Result<Array>
where
    T: Element,
    U: Element,
    E: Display,
    F: Fn(&[ArrayViewD<'_, T>]) -> std::result::Result<ArrayD<U>, E> + Send + Sync + 'static,
{
    let signature = Signature::new::<T, U>("map_blocks", &function.into())?;
    if inputs.is_empty() {
        return Err(Error::Invalid(format!(
            "{}: map_blocks needs at least one input array",
            signature.name
        )));
    }
    check_inputs::<T>(&signature.name, inputs)?;
    let op = MapBlocks {
        signature,
        arity: inputs.len(),
        f: Arc::new(move |blocks: &[ArrayViewD<'_, T>]| f(blocks).map_err(|e| e.to_string())),
    };
    Array::apply(Arc::new(op), inputs.iter().map(|&x| x.clone()).collect())
}

impl<T: Element, U: Element> Op for MapBlocks<T, U> {
    fn name(&self) -> &str {
        &self.signature.name
    }

    fn describe(&self) -> String {
        self.signature.describe()
    }

    fn kind(&self) -> OpKind {
        OpKind::ElementWise
    }

    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        elementwise_meta(&self.signature.name, inputs, self.arity, U::DTYPE)
    }

    fn scratch_bytes(&self, _output: &chunkwise_engine::Region) -> u64 {
        self.signature.scratch
    }

    fn eval_block(&self, inputs: &[Slice<'_>], out: SliceMut<'_>) -> Result<()> {
        let internal = || {
            Error::Invalid(format!(
                "internal: {} was handed blocks of other types than {} -> {}",
                self.signature.name,
                T::DTYPE,
                U::DTYPE
            ))
        };
        let views = inputs
            .iter()
            .map(|s| {
                let data = T::from_slice(*s).ok_or_else(internal)?;
                ArrayViewD::from_shape(IxDyn(&[data.len()]), data).map_err(|_| internal())
            })
            .collect::<Result<Vec<_>>>()?;
        let out = U::from_slice_mut(out).ok_or_else(internal)?;
        let block = self.signature.call("", || (self.f)(&views))?;
        self.signature.check_shape(&block, &[out.len()], "")?;
        match block.as_slice() {
            Some(values) => out.copy_from_slice(values),
            None => out.iter_mut().zip(block.iter()).for_each(|(o, v)| *o = *v),
        }
        Ok(())
    }
}
