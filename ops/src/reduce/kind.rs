//! What each reduction computes: its partial state, accumulator type and result type (NumPy 2).

use chunkwise_engine::{DType, Error, Kind, Result};
use serde::{Deserialize, Serialize};

/// A reduction, with NumPy's name and result type.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reduction")]
#[non_exhaustive]
pub enum Reduction {
    /// `np.sum`: int64 for bool and signed ints, uint64 for unsigned, the float type for floats.
    Sum,
    /// `np.prod`, typed as [`Reduction::Sum`].
    Prod,
    /// `np.mean`: float32 for float32, float64 otherwise.
    Mean,
    /// `np.min` (NaN if any element is NaN).
    Min,
    /// `np.max` (NaN if any element is NaN).
    Max,
    /// `np.var` with `ddof`, typed as [`Reduction::Mean`].
    Var {
        /// Delta degrees of freedom: the divisor is `n - ddof`.
        #[serde(default)]
        ddof: u32,
    },
    /// `np.std` with `ddof`, typed as [`Reduction::Mean`].
    Std {
        /// Delta degrees of freedom.
        #[serde(default)]
        ddof: u32,
    },
    /// `np.count_nonzero`: int64.
    CountNonzero,
    /// `np.any`: bool.
    Any,
    /// `np.all`: bool.
    All,
    /// `np.argmin` (first occurrence; first NaN if any): int64, over all axes or one.
    Argmin,
    /// `np.argmax`, as [`Reduction::Argmin`].
    Argmax,
    /// `np.nansum`: NaN counted as zero.
    NanSum,
    /// `np.nanprod`: NaN counted as one.
    NanProd,
    /// `np.nanmean` (NaN where every element is NaN).
    NanMean,
    /// `np.nanmin` (NaN where every element is NaN).
    NanMin,
    /// `np.nanmax` (NaN where every element is NaN).
    NanMax,
    /// `np.nanvar` with `ddof`.
    NanVar {
        /// Delta degrees of freedom.
        #[serde(default)]
        ddof: u32,
    },
    /// `np.nanstd` with `ddof`.
    NanStd {
        /// Delta degrees of freedom.
        #[serde(default)]
        ddof: u32,
    },
    /// `np.nanargmin` (an error where every element is NaN, as NumPy).
    NanArgmin,
    /// `np.nanargmax`, as [`Reduction::NanArgmin`].
    NanArgmax,
    /// `np.histogram(x, bins, range=(lo, hi))[0]` as int64 counts along a trailing axis of
    /// `bins`: NumPy's edges (`linspace` in float64, float32 for float32 data), the last bin
    /// closed, values outside the range (and NaN) not counted.
    Histogram {
        /// Number of equal-width bins (at least 1).
        bins: u32,
        /// Lower edge of the first bin.
        lo: f64,
        /// Upper edge of the last bin (above `lo`).
        hi: f64,
    },
    /// `[min, max, mean, std]` (float64, ddof 0) along a trailing axis of 4, from one read:
    /// what [`super::stats`] computes first.
    Summary,
    /// The values in `[lo, hi]`, for exact quantiles: float64 `[count, min, max, values...]`
    /// along a trailing axis of `3 + cap`; the values (unsorted) are complete when
    /// `count <= cap`.
    Collect {
        /// Lower bound (inclusive).
        lo: f64,
        /// Upper bound (inclusive).
        hi: f64,
        /// How many values are kept.
        cap: u32,
    },
}

/// The partial state a reduction keeps per output element; slot 0 always counts the elements
/// it has seen (0 = nothing yet), the others are [`State::slots`] - 1 values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum State {
    /// `[n, sum]`.
    Sum,
    /// `[n, product]`.
    Prod,
    /// `[n, min]`.
    Min,
    /// `[n, max]`.
    Max,
    /// `[n, min, index of the first min]`.
    Argmin,
    /// `[n, max, index of the first max]`.
    Argmax,
    /// `[n, mean, sum of squared deviations]`, merged with Chan et al.'s formula.
    Moments,
    /// `[n, nonzero count]`.
    Count,
    /// `[n, min, max, mean, sum of squared deviations]`.
    Summary,
    /// `[n, counts per bin...]`; edges in float32 when `f32_edges`.
    Histogram {
        bins: u32,
        lo: f64,
        hi: f64,
        f32_edges: bool,
    },
    /// `[n, count in range, min in range, max in range, values...]`.
    Collect { lo: f64, hi: f64, cap: u32 },
}

impl State {
    /// The slot of the mean (the squared deviations follow it), for states that keep moments.
    pub(crate) fn moments(self) -> Option<usize> {
        match self {
            State::Moments => Some(1),
            State::Summary => Some(3),
            _ => None,
        }
    }

    /// Values per output element in a partial array (its trailing axis).
    pub(crate) fn slots(self) -> u64 {
        match self {
            State::Argmin | State::Argmax | State::Moments => 3,
            State::Histogram { bins, .. } => 1 + u64::from(bins),
            State::Summary => 5,
            State::Collect { cap, .. } => 4 + u64::from(cap),
            _ => 2,
        }
    }
}

impl Reduction {
    /// The name used in pipeline files, `explain()` and errors.
    pub fn name(self) -> &'static str {
        match self {
            Reduction::Sum => "sum",
            Reduction::Prod => "prod",
            Reduction::Mean => "mean",
            Reduction::Min => "min",
            Reduction::Max => "max",
            Reduction::Var { .. } => "var",
            Reduction::Std { .. } => "std",
            Reduction::CountNonzero => "count_nonzero",
            Reduction::Any => "any",
            Reduction::All => "all",
            Reduction::Argmin => "argmin",
            Reduction::Argmax => "argmax",
            Reduction::NanSum => "nansum",
            Reduction::NanProd => "nanprod",
            Reduction::NanMean => "nanmean",
            Reduction::NanMin => "nanmin",
            Reduction::NanMax => "nanmax",
            Reduction::NanVar { .. } => "nanvar",
            Reduction::NanStd { .. } => "nanstd",
            Reduction::NanArgmin => "nanargmin",
            Reduction::NanArgmax => "nanargmax",
            Reduction::Histogram { .. } => "histogram",
            Reduction::Collect { .. } => "collect",
            Reduction::Summary => "summary",
        }
    }

    /// The reduction named `name` (as [`Reduction::name`]); `ddof` for var and std.
    ///
    /// # Errors
    /// [`Error::Invalid`] for an unknown name.
    pub fn parse(name: &str, ddof: u32) -> Result<Reduction> {
        const ALL: [Reduction; 21] = [
            Reduction::Sum,
            Reduction::Prod,
            Reduction::Mean,
            Reduction::Min,
            Reduction::Max,
            Reduction::Var { ddof: 0 },
            Reduction::Std { ddof: 0 },
            Reduction::CountNonzero,
            Reduction::Any,
            Reduction::All,
            Reduction::Argmin,
            Reduction::Argmax,
            Reduction::NanSum,
            Reduction::NanProd,
            Reduction::NanMean,
            Reduction::NanMin,
            Reduction::NanMax,
            Reduction::NanVar { ddof: 0 },
            Reduction::NanStd { ddof: 0 },
            Reduction::NanArgmin,
            Reduction::NanArgmax,
        ];
        match ALL.into_iter().find(|r| r.name() == name) {
            Some(Reduction::Var { .. }) => Ok(Reduction::Var { ddof }),
            Some(Reduction::Std { .. }) => Ok(Reduction::Std { ddof }),
            Some(Reduction::NanVar { .. }) => Ok(Reduction::NanVar { ddof }),
            Some(Reduction::NanStd { .. }) => Ok(Reduction::NanStd { ddof }),
            Some(r) => Ok(r),
            None => Err(Error::Invalid(format!(
                "unknown reduction {name:?}; expected one of {}",
                ALL.map(Reduction::name).join(", ")
            ))),
        }
    }

    /// The reduction a `nan*` one is, skipping NaN (`(Sum, true)` for `NanSum`); others as
    /// they are.
    pub(crate) fn base(self) -> (Reduction, bool) {
        let plain = match self {
            Reduction::NanSum => Reduction::Sum,
            Reduction::NanProd => Reduction::Prod,
            Reduction::NanMean => Reduction::Mean,
            Reduction::NanMin => Reduction::Min,
            Reduction::NanMax => Reduction::Max,
            Reduction::NanVar { ddof } => Reduction::Var { ddof },
            Reduction::NanStd { ddof } => Reduction::Std { ddof },
            Reduction::NanArgmin => Reduction::Argmin,
            Reduction::NanArgmax => Reduction::Argmax,
            other => return (other, false),
        };
        (plain, true)
    }

    pub(crate) fn state(self, input: DType) -> State {
        match self.base().0 {
            Reduction::Histogram { bins, lo, hi } => State::Histogram {
                bins,
                lo,
                hi,
                f32_edges: input == DType::Float32,
            },
            Reduction::Collect { lo, hi, cap } => State::Collect { lo, hi, cap },
            Reduction::Summary => State::Summary,
            Reduction::Sum | Reduction::Mean => State::Sum,
            Reduction::Prod => State::Prod,
            Reduction::Min => State::Min,
            Reduction::Max => State::Max,
            Reduction::Var { .. } | Reduction::Std { .. } => State::Moments,
            Reduction::CountNonzero | Reduction::Any | Reduction::All => State::Count,
            Reduction::Argmin => State::Argmin,
            Reduction::Argmax => State::Argmax,
            // Mapped to their plain reductions by `base` above.
            Reduction::NanSum
            | Reduction::NanProd
            | Reduction::NanMean
            | Reduction::NanMin
            | Reduction::NanMax
            | Reduction::NanVar { .. }
            | Reduction::NanStd { .. }
            | Reduction::NanArgmin
            | Reduction::NanArgmax => State::Sum,
        }
    }

    /// The accumulator type of the partial results for input type `input`.
    pub(crate) fn acc_dtype(self, input: DType) -> DType {
        let int = input.kind() != Kind::Float;
        match self.base().0 {
            Reduction::Sum | Reduction::Prod if int => signedness(input),
            Reduction::Min | Reduction::Max | Reduction::Argmin | Reduction::Argmax
                if matches!(input, DType::Int64 | DType::Uint64) =>
            {
                input
            }
            _ => DType::Float64,
        }
    }

    /// NumPy 2's result type for input type `input` (every reduction is defined on every
    /// type chunkwise has, bool included).
    pub(crate) fn result_dtype(self, input: DType) -> DType {
        match self.base().0 {
            Reduction::Sum | Reduction::Prod => match input.kind() {
                Kind::Float => input,
                _ => signedness(input),
            },
            Reduction::Mean | Reduction::Var { .. } | Reduction::Std { .. } => match input {
                DType::Float32 => DType::Float32,
                _ => DType::Float64,
            },
            Reduction::Min | Reduction::Max => input,
            Reduction::CountNonzero | Reduction::Argmin | Reduction::Argmax => DType::Int64,
            Reduction::Any | Reduction::All => DType::Bool,
            Reduction::Histogram { .. } => DType::Int64,
            Reduction::Collect { .. } | Reduction::Summary => DType::Float64,
            // Mapped to their plain reductions by `base` above.
            Reduction::NanSum
            | Reduction::NanProd
            | Reduction::NanMean
            | Reduction::NanMin
            | Reduction::NanMax
            | Reduction::NanVar { .. }
            | Reduction::NanStd { .. }
            | Reduction::NanArgmin
            | Reduction::NanArgmax => DType::Float64,
        }
    }

    /// Whether the result has a trailing axis of its own (a histogram's bins).
    pub(crate) fn vector(self) -> bool {
        matches!(
            self,
            Reduction::Histogram { .. } | Reduction::Collect { .. } | Reduction::Summary
        )
    }

    /// Checks that the reduction is defined over `axes` of an `ndim`-d array.
    ///
    /// # Errors
    /// [`Error::Invalid`] for argmin/argmax over several (not all) axes, as NumPy.
    pub(crate) fn check_axes(self, axes: &[usize], ndim: usize) -> Result<()> {
        if let Reduction::Histogram { bins, lo, hi } = self {
            if bins == 0 {
                return Err(Error::Invalid("histogram bins must be at least 1".into()));
            }
            if lo >= hi || lo.is_nan() || !lo.is_finite() || !hi.is_finite() {
                return Err(Error::Invalid(format!(
                    "histogram range ({lo}, {hi}) must be finite with lo < hi"
                )));
            }
        }
        if matches!(self.base().0, Reduction::Argmin | Reduction::Argmax)
            && axes.len() > 1
            && axes.len() < ndim
        {
            return Err(Error::Invalid(format!(
                "{} reduces over all axes or one axis, not {axes:?}",
                self.name()
            )));
        }
        Ok(())
    }
}

/// The states of `reductions` side by side along a partial's slot axis: each state with the
/// slot it starts at, and the total number of slots.
pub(crate) fn layout(reductions: &[Reduction], input: DType) -> (Vec<(State, usize)>, u64) {
    let mut at = 0;
    let states = reductions
        .iter()
        .map(|r| {
            let state = r.state(input);
            let start = at;
            at += state.slots() as usize;
            (state, start)
        })
        .collect();
    (states, at as u64)
}

/// The names of `reductions`, for plans and errors (`"sum+max"`).
pub(crate) fn names(reductions: &[Reduction]) -> String {
    reductions
        .iter()
        .map(|r| r.name())
        .collect::<Vec<_>>()
        .join("+")
}

/// int64 for bool and signed ints, uint64 for unsigned (NumPy's sum promotion).
fn signedness(input: DType) -> DType {
    if input.kind() == Kind::Int && !input.is_signed_int() {
        DType::Uint64
    } else {
        DType::Int64
    }
}
