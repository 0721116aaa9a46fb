//! [`Gather`]: copying the elements of one input box to their places in an output buffer when
//! the mapping is a product of independent factors — per output axis for [`super::Remap`], per
//! group of axes for [`super::Reshape`]. Each factor lists (output offset, input offset) pairs;
//! an element's offsets are the sums over the factors of one pair each, so the copy is one loop
//! over the product, the last factor innermost.

use chunkwise_engine::{geometry::for_each_index, Buffer, Error, Result};

/// The copy of one input box: the factors' pairs and the input offset every element adds.
#[derive(Debug)]
pub(super) struct Gather {
    /// Per factor, (output offset, input offset) pairs.
    pub factors: Vec<Vec<(usize, usize)>>,
    /// Added to every input offset (pinned axes).
    pub base: usize,
}

impl Gather {
    /// Copies every element the factors name from `src` into `dst` (same type), for `op`'s
    /// error messages.
    ///
    /// # Errors
    /// [`Error::Invalid`] when the buffers hold different types (a planner bug, reported).
    pub fn apply(&self, op: &str, src: &Buffer, dst: &mut Buffer) -> Result<()> {
        macro_rules! arm {
            ($($variant:ident),*) => {
                match (src, dst) {
                    $((Buffer::$variant(s), Buffer::$variant(d)) => self.run(s, d),)*
                    (s, d) => return Err(Error::Invalid(format!(
                        "internal: {op} was handed {} data for a {} result",
                        s.dtype(), d.dtype()))),
                }
            };
        }
        arm!(Bool, Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64, Float32, Float64);
        Ok(())
    }

    fn run<T: Copy>(&self, src: &[T], dst: &mut [T]) {
        let Some((last, lead)) = self.factors.split_last() else {
            dst[0] = src[self.base];
            return;
        };
        let counts: Vec<u64> = lead.iter().map(|f| f.len() as u64).collect();
        let zeros = vec![0u64; lead.len()];
        // Over every pick of one pair per leading factor (nothing when a factor is empty).
        for_each_index(&zeros, &counts, |pick| {
            let (mut o, mut i) = (0usize, self.base);
            for (factor, &j) in lead.iter().zip(pick) {
                o += factor[j as usize].0;
                i += factor[j as usize].1;
            }
            for &(po, pi) in last {
                dst[o + po] = src[i + pi];
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factors_add_up() {
        // A 2x2 output from a 2x3 input read transposed: out[i, j] = in[j, i + 1].
        let g = Gather {
            factors: vec![vec![(0, 1), (2, 2)], vec![(0, 0), (1, 3)]],
            base: 0,
        };
        let mut out = Buffer::Uint8(vec![0; 4]);
        g.apply("t", &Buffer::Uint8(vec![0, 1, 2, 3, 4, 5]), &mut out)
            .unwrap();
        assert_eq!(out, Buffer::Uint8(vec![1, 4, 2, 5]));
    }
}
