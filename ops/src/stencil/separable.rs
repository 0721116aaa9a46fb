//! Separable filters: sequences of 1-D passes along axes ("terms"), combined. One term is
//! gaussian_filter, uniform_filter, a separable correlate/convolve, a box minimum/maximum or sobel;
//! laplace sums one single-pass term per axis; gaussian_gradient_magnitude is the root of the
//! summed squares of one term per axis.
//!
//! A task's extended block covers the largest halo any pass needs (the boundary mode applied
//! while gathering); every pass runs on it in "valid" form. That equals
//! SciPy extending each pass's input anew: along an axis not yet filtered, an extended position
//! holds the value of the position it maps to, and a pass along another axis keeps that true.
//! Constant mode is the exception (a pass over constants does not give the constant back), so
//! there positions outside the array are reset to `cval` after each pass.

use chunkwise_engine::geometry::copy_region;
use chunkwise_engine::Region;
use serde::Serialize;

use crate::stencil::boundary::BoundaryMode;
use crate::stencil::filter::{Boundary, Extended, Kernel};
use crate::stencil::line::{self, Line};
use crate::stencil::sample::Sample;
use crate::stencil::window::Halo;

/// One 1-D pass: `line` along `axis`, shifted by `origin` as scipy's `origin` shifts it.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Pass {
    pub axis: usize,
    pub line: Line,
    pub origin: i64,
}

impl Pass {
    pub(crate) fn new(axis: usize, line: Line, origin: i64) -> Self {
        Pass { axis, line, origin }
    }

    /// Positions read before the output position (scipy: `size // 2 + origin`).
    fn before(&self) -> usize {
        (self.line.size() as i64 / 2 + self.origin) as usize
    }

    fn after(&self) -> usize {
        self.line.size() - 1 - self.before()
    }
}

/// How the terms' results become the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub(crate) enum Combine {
    /// One term.
    Single,
    /// Their sum, added in the output type in term order (laplace).
    Sum,
    /// The square root of the sum of their squares (gradient magnitude).
    Magnitude,
}

/// A filter made of 1-D passes: terms, combined.
#[derive(Debug, Serialize)]
pub(crate) struct Separable {
    pub(crate) terms: Vec<Vec<Pass>>,
    pub(crate) combine: Combine,
}

impl Kernel for Separable {
    fn halo(&self, nd: usize) -> Halo {
        let mut halo = Halo {
            before: vec![0; nd],
            after: vec![0; nd],
        };
        for pass in self.terms.iter().flatten() {
            halo.before[pass.axis] = halo.before[pass.axis].max(pass.before());
            halo.after[pass.axis] = halo.after[pass.axis].max(pass.after());
        }
        halo
    }

    fn run<F: Sample>(&self, block: Extended<F>, output: &Region, boundary: &Boundary) -> Vec<F> {
        let mut result: Option<Vec<F>> = None;
        let last = self.terms.len().saturating_sub(1);
        let mut block = Some(block);
        for (t, term) in self.terms.iter().enumerate() {
            let source = if t == last {
                block.take()
            } else {
                block.clone()
            };
            let Some(source) = source else { break };
            let value = term_value(source, term, output, boundary);
            result = Some(match result {
                None if self.combine == Combine::Magnitude => {
                    value.iter().map(|&v| v * v).collect()
                }
                None => value,
                Some(mut acc) => {
                    for (a, &v) in acc.iter_mut().zip(&value) {
                        *a = match self.combine {
                            Combine::Magnitude => *a + v * v,
                            _ => *a + v,
                        };
                    }
                    acc
                }
            });
        }
        let mut result = result.unwrap_or_default();
        if self.combine == Combine::Magnitude {
            result.iter_mut().for_each(|v| *v = v.sqrt());
        }
        result
    }

    fn scratch_blocks(&self) -> u64 {
        // The extended block (passes run in place), and with several terms a term's copy and
        // the running combination.
        if self.terms.len() > 1 {
            3
        } else {
            1
        }
    }
}

/// One term's passes over the extended block, cut to what the term needs first.
fn term_value<F: Sample>(
    block: Extended<F>,
    term: &[Pass],
    output: &Region,
    boundary: &Boundary,
) -> Vec<F> {
    let mut margins = vec![(0, 0); output.ndim()];
    for pass in term {
        margins[pass.axis] = (pass.before(), pass.after());
    }
    let mut block = block.crop(output, &margins);
    for (k, pass) in term.iter().enumerate() {
        let d = pass.axis;
        let dims = [
            block.shape[..d].iter().product(),
            block.shape[d],
            block.shape[d + 1..].iter().product(),
        ];
        line::apply(&mut block.data, dims, &pass.line);
        block.shape[d] = output.shape[d] as usize;
        block.start[d] = output.start[d] as i64;
        if boundary.mode == BoundaryMode::Constant {
            for later in &term[k + 1..] {
                let n = boundary.input_shape[later.axis];
                block.fill_outside(later.axis, n, boundary.cval);
            }
        }
    }
    block.data
}

impl<F: Sample> Extended<F> {
    /// The part covering `output` widened by `margins` (before, after) on each axis.
    fn crop(self, output: &Region, margins: &[(usize, usize)]) -> Extended<F> {
        let nd = output.ndim();
        let start: Vec<i64> = (0..nd)
            .map(|d| output.start[d] as i64 - margins[d].0 as i64)
            .collect();
        let shape: Vec<usize> = (0..nd)
            .map(|d| output.shape[d] as usize + margins[d].0 + margins[d].1)
            .collect();
        if start == self.start && shape == self.shape {
            return self;
        }
        let whole = Region::new(vec![0; nd], self.shape.iter().map(|&n| n as u64).collect());
        let part = Region::new(
            (0..nd).map(|d| (start[d] - self.start[d]) as u64).collect(),
            shape.iter().map(|&n| n as u64).collect(),
        );
        let mut data = vec![F::default(); part.num_elements() as usize];
        copy_region(&self.data, &whole, &mut data, &part, &part);
        Extended { data, shape, start }
    }

    /// Sets every position outside `0..n` along `axis` to `cval`.
    fn fill_outside(&mut self, axis: usize, n: u64, cval: f64) {
        let outer: usize = self.shape[..axis].iter().product();
        let inner: usize = self.shape[axis + 1..].iter().product();
        let len = self.shape[axis];
        let value = F::from_f64(cval);
        for p in 0..len {
            let abs = self.start[axis] + p as i64;
            if (0..n as i64).contains(&abs) {
                continue;
            }
            for b in 0..outer {
                let at = (b * len + p) * inner;
                self.data[at..at + inner].fill(value);
            }
        }
    }
}
