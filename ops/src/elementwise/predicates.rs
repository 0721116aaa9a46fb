//! `np.isnan`, `np.isinf`, `np.isfinite`, `np.signbit`: a bool per element, for every input type
//! (integers and bool are never NaN or infinite; an integer's sign bit is `x < 0`, as NumPy's).

use chunkwise_engine::{ArrayMeta, DType, Error, Op, OpKind, Result, Slice, SliceMut};
use serde::{Deserialize, Serialize};

use crate::elementwise::common::{elementwise_meta, map};
use crate::elementwise::dispatch::any_input;
use crate::elementwise::num::Num;

/// Which test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Predicate {
    /// NaN.
    IsNan,
    /// +inf or -inf.
    IsInf,
    /// Neither NaN nor infinite.
    IsFinite,
    /// The sign bit is set (-0.0 included).
    Signbit,
}

impl Predicate {
    /// Every test, for registries and tests.
    pub const ALL: [Predicate; 4] = [
        Predicate::IsNan,
        Predicate::IsInf,
        Predicate::IsFinite,
        Predicate::Signbit,
    ];

    /// The op name in pipeline files.
    pub fn name(self) -> &'static str {
        match self {
            Predicate::IsNan => "isnan",
            Predicate::IsInf => "isinf",
            Predicate::IsFinite => "isfinite",
            Predicate::Signbit => "signbit",
        }
    }
}

/// Classifies every element (NaN, infinite, finite, sign bit set); the output is bool.
#[derive(Debug, Clone, Serialize)]
pub struct Classify {
    /// Which test.
    pub f: Predicate,
}

fn test<T: Num>(f: Predicate, x: &[T], o: &mut [bool]) {
    match f {
        Predicate::IsNan => map(x, o, T::is_nan),
        Predicate::IsInf => map(x, o, T::is_inf),
        Predicate::IsFinite => map(x, o, T::is_finite),
        Predicate::Signbit => map(x, o, T::signbit),
    }
}

impl Op for Classify {
    fn name(&self) -> &'static str {
        self.f.name()
    }

    fn describe(&self) -> String {
        String::new()
    }

    fn kind(&self) -> OpKind {
        OpKind::ElementWise
    }

    fn output_meta(&self, inputs: &[ArrayMeta]) -> Result<ArrayMeta> {
        elementwise_meta(self.f.name(), inputs, 1, DType::Bool)
    }

    fn eval_block(&self, inputs: &[Slice<'_>], out: SliceMut<'_>) -> Result<()> {
        let (Some(&x), SliceMut::Bool(o)) = (inputs.first(), out) else {
            return Err(Error::Invalid(format!(
                "internal: {} takes one input and writes bool",
                self.f.name()
            )));
        };
        any_input!(self.f.name(), x, |x| {
            test(self.f, x, o);
            Ok(())
        })
    }
}
