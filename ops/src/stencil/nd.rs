//! Filters over an N-d footprint that do not split into 1-D passes: correlate/convolve with a
//! full kernel, median (any footprint) and minimum/maximum over a footprint that is not a box.
//!
//! A task gathers its output region plus the footprint's halo (boundary mode applied while
//! gathering; one gather equals SciPy's single extension) and computes each output row along the
//! last axis: correlation as one shifted multiply-add of a whole row per nonzero weight, extremes
//! as one shifted comparison per footprint position, and ranks (the median) by a pruned sorting
//! network run lane-wise over whole rows, or for windows over 128 values from a sorted window
//! that slides along the row, trading only the values that leave and enter it.

use chunkwise_engine::Region;
use serde::Serialize;

use crate::stencil::filter::{Boundary, Extended, Kernel};
use crate::stencil::network::{select, selection_network};
use crate::stencil::sample::Sample;
use crate::stencil::window::Halo;

/// Windows up to this many values are ranked by a sorting network (a 5x5x5 box is 125).
const NETWORK_MAX: usize = 128;

/// What a [`Footprint`] filter computes over its footprint.
#[derive(Clone, Debug, Serialize)]
pub(crate) enum NdKind {
    /// `sum w * x` over the footprint positions (weights in C order over the kernel shape).
    Correlate(Vec<f64>),
    /// The value of this rank (0 = least) among the footprint's values.
    Rank(usize),
    /// The least value.
    Min,
    /// The greatest value.
    Max,
}

/// A filter over an N-d footprint.
#[derive(Debug, Serialize)]
pub(crate) struct Footprint {
    pub(crate) kind: NdKind,
    /// Footprint shape.
    pub(crate) shape: Vec<usize>,
    /// Which positions of the footprint count (C order over `shape`).
    pub(crate) footprint: Vec<bool>,
    pub(crate) origin: Vec<i64>,
}

impl Kernel for Footprint {
    fn halo(&self, _nd: usize) -> Halo {
        let before: Vec<usize> = self
            .shape
            .iter()
            .zip(&self.origin)
            .map(|(&n, &o)| (n as i64 / 2 + o) as usize)
            .collect();
        let after = self
            .shape
            .iter()
            .zip(&before)
            .map(|(&n, &b)| n - 1 - b)
            .collect();
        Halo { before, after }
    }

    fn run<F: Sample>(&self, block: Extended<F>, output: &Region, _boundary: &Boundary) -> Vec<F> {
        let ext = block.data;
        let ext_shape: Vec<u64> = block.shape.iter().map(|&n| n as u64).collect();
        let ext_strides = chunkwise_engine::geometry::strides(&ext_shape);
        let nd = output.ndim();
        // Each footprint position as an offset in the extended block.
        let mut taps: Vec<(usize, usize)> = Vec::new(); // (offset, position in footprint)
        let shape_u64: Vec<u64> = self.shape.iter().map(|&n| n as u64).collect();
        let mut k = 0;
        chunkwise_engine::geometry::for_each_index(&vec![0; nd], &shape_u64, |idx| {
            if self.footprint[k] {
                let offset = idx
                    .iter()
                    .zip(&ext_strides)
                    .map(|(&i, &s)| i as usize * s)
                    .sum();
                taps.push((offset, k));
            }
            k += 1;
        });
        let row = output.shape[nd - 1] as usize;
        let mut out: Vec<F> = Vec::with_capacity(output.num_elements() as usize);
        let mut window: Vec<F> = Vec::with_capacity(taps.len());
        let (leaving, entering) = self.sliding_taps(&taps);
        // Small windows select with a vectorized network, large ones slide a sorted window.
        let network = match self.kind {
            NdKind::Rank(rank) if taps.len() <= NETWORK_MAX => selection_network(taps.len(), rank),
            _ => Vec::new(),
        };
        let mut wires: Vec<F> = Vec::new();
        // Pads the network's wires: NaN comes last in the rank order, after every value.
        let last = F::from_f64(f64::NAN);

        let lead_hi = &output.shape[..nd - 1];
        chunkwise_engine::geometry::for_each_index(&vec![0; nd - 1], lead_hi, |lead| {
            let base: usize = lead
                .iter()
                .zip(&ext_strides)
                .map(|(&i, &s)| i as usize * s)
                .sum();
            let at = out.len();
            out.resize(at + row, F::default());
            let dst = &mut out[at..];
            let shifted = |offset: usize| &ext[base + offset..base + offset + row];
            match &self.kind {
                NdKind::Correlate(weights) => {
                    for &(offset, k) in &taps {
                        let w = F::from_f64(weights[k]);
                        for (d, &x) in dst.iter_mut().zip(shifted(offset)) {
                            *d = *d + x * w;
                        }
                    }
                }
                NdKind::Min | NdKind::Max => {
                    let max = matches!(self.kind, NdKind::Max);
                    dst.copy_from_slice(shifted(taps[0].0));
                    for &(offset, _) in &taps[1..] {
                        let x = shifted(offset);
                        if max {
                            dst.iter_mut().zip(x).for_each(|(d, &v)| *d = d.max_num(v));
                        } else {
                            dst.iter_mut().zip(x).for_each(|(d, &v)| *d = d.min_num(v));
                        }
                    }
                }
                NdKind::Rank(rank) if !network.is_empty() => {
                    // Each footprint position's shifted row is a wire; NaN pads to a power of 2.
                    wires.clear();
                    for &(offset, _) in &taps {
                        wires.extend_from_slice(shifted(offset));
                    }
                    wires.resize(taps.len().next_power_of_two() * row, last);
                    select(&network, &mut wires, row);
                    dst.copy_from_slice(&wires[rank * row..(rank + 1) * row]);
                }
                NdKind::Rank(rank) => {
                    window.clear();
                    window.extend(taps.iter().map(|&(offset, _)| ext[base + offset]));
                    window.sort_unstable_by(F::rank_cmp);
                    dst[0] = window[*rank];
                    for o in 1..row {
                        for &offset in &leaving {
                            let v = ext[base + offset + o - 1];
                            if let Ok(i) = window.binary_search_by(|w| w.rank_cmp(&v)) {
                                window.remove(i);
                            }
                        }
                        for &offset in &entering {
                            let v = ext[base + offset + o];
                            let i = window.partition_point(|w| w.rank_cmp(&v).is_lt());
                            window.insert(i, v);
                        }
                        dst[o] = window[*rank];
                    }
                }
            }
        });
        out
    }

    fn scratch_blocks(&self) -> u64 {
        1
    }
}

impl Footprint {
    /// For a window sliding one step along the last axis: the footprint offsets whose values
    /// leave (no footprint position just before them) and enter (none just after).
    fn sliding_taps(&self, taps: &[(usize, usize)]) -> (Vec<usize>, Vec<usize>) {
        let last = *self.shape.last().unwrap_or(&1);
        let inside = |k: usize| self.footprint[k];
        let mut leaving = Vec::new();
        let mut entering = Vec::new();
        for &(offset, k) in taps {
            let col = k % last;
            if col == 0 || !inside(k - 1) {
                leaving.push(offset);
            }
            if col == last - 1 || !inside(k + 1) {
                entering.push(offset);
            }
        }
        (leaving, entering)
    }
}
