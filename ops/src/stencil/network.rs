//! Selection by sorting network, many windows at once: the window's values are rows of lanes
//! (one lane per output position), and each compare-exchange is a lane-wise min and max over
//! whole rows — branch-free loops the compiler vectorizes. Batcher's odd-even merge sort is pruned
//! to the comparators the selected rank depends on.

use multiversion::multiversion;

use crate::stencil::sample::Sample;

/// The comparators (low wire, high wire) that put wire `rank` of `n` values (padded to a power of
/// two with +inf) in its sorted place, in order.
pub(crate) fn selection_network(n: usize, rank: usize) -> Vec<(usize, usize)> {
    let size = n.next_power_of_two();
    let mut all = Vec::new();
    batcher(0, size, &mut all);
    // Walk backwards from the wanted wire: a comparator matters if it touches a wire that
    // matters later.
    let mut needed = vec![false; size];
    needed[rank] = true;
    let mut kept = Vec::new();
    for &(a, b) in all.iter().rev() {
        if needed[a] || needed[b] {
            needed[a] = true;
            needed[b] = true;
            kept.push((a, b));
        }
    }
    kept.reverse();
    kept
}

/// Batcher's odd-even merge sort of wires `lo..lo + n` (n a power of two).
fn batcher(lo: usize, n: usize, out: &mut Vec<(usize, usize)>) {
    if n > 1 {
        let m = n / 2;
        batcher(lo, m, out);
        batcher(lo + m, m, out);
        merge(lo, n, 1, out);
    }
}

fn merge(lo: usize, n: usize, r: usize, out: &mut Vec<(usize, usize)>) {
    let step = r * 2;
    if step < n {
        merge(lo, n, step, out);
        merge(lo + r, n, step, out);
        let mut i = lo + r;
        while i + r < lo + n {
            out.push((i, i + r));
            i += step;
        }
    } else {
        out.push((lo, lo + r));
    }
}

/// Runs `network` over `rows` (each `lanes` values, wire `w` at `rows[w * lanes..]`): afterwards
/// the selected wire holds, lane by lane, the value of its rank.
#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx512bw+avx512dq",
    "x86_64+avx2",
    "x86_64+sse4.1"
))]
pub(crate) fn select<F: Sample>(network: &[(usize, usize)], rows: &mut [F], lanes: usize) {
    for &(a, b) in network {
        let (low, high) = rows.split_at_mut(b * lanes);
        let x = &mut low[a * lanes..(a + 1) * lanes];
        let y = &mut high[..lanes];
        // min/max rather than a conditional swap: unconditional stores vectorize cleanly.
        for (p, q) in x.iter_mut().zip(y.iter_mut()) {
            let (u, v) = (*p, *q);
            *p = u.min_num(v);
            *q = u.max_nan_last(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (an LCG): the tests need varied values, not quality.
    fn lcg(mut seed: u64) -> impl FnMut() -> u32 {
        move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as u32
        }
    }

    #[test]
    fn pruned_networks_select_every_rank_of_random_inputs() {
        let mut raw = lcg(12345);
        let mut next = || raw() as f32;
        for n in [1, 2, 3, 5, 9, 27, 31, 33] {
            for rank in [0, n / 2, n - 1] {
                let net = selection_network(n, rank);
                let lanes = 4;
                let size = n.next_power_of_two();
                let mut rows = vec![f32::INFINITY; size * lanes];
                for v in rows[..n * lanes].iter_mut() {
                    *v = next() % 100.0;
                }
                let mut columns: Vec<Vec<f32>> = (0..lanes)
                    .map(|l| (0..n).map(|w| rows[w * lanes + l]).collect())
                    .collect();
                select(&net, &mut rows, lanes);
                for (l, col) in columns.iter_mut().enumerate() {
                    col.sort_by(f32::total_cmp);
                    assert_eq!(rows[rank * lanes + l], col[rank], "n {n} rank {rank}");
                }
            }
        }
    }

    /// With NaN among the values, the network picks what sorting by `rank_cmp` picks (NaN
    /// after every number), padding included.
    #[test]
    fn nan_comes_last_in_every_rank() {
        let mut next = lcg(777);
        for n in [2, 3, 5, 9, 27] {
            for rank in 0..n {
                let net = selection_network(n, rank);
                let lanes = 8;
                let mut rows = vec![f32::NAN; n.next_power_of_two() * lanes];
                for v in rows[..n * lanes].iter_mut() {
                    *v = match next() % 4 {
                        0 => f32::NAN,
                        _ => (next() % 50) as f32 - 25.0,
                    };
                }
                let columns: Vec<Vec<f32>> = (0..lanes)
                    .map(|l| (0..n).map(|w| rows[w * lanes + l]).collect())
                    .collect();
                select(&net, &mut rows, lanes);
                for (l, mut col) in columns.into_iter().enumerate() {
                    col.sort_by(Sample::rank_cmp);
                    let (got, want) = (rows[rank * lanes + l], col[rank]);
                    assert!(
                        got == want || (got.is_nan() && want.is_nan()),
                        "n {n} rank {rank}: got {got}, want {want} of {col:?}"
                    );
                }
            }
        }
    }
}
