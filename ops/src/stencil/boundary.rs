//! scipy.ndimage boundary modes: where an index beyond the array edge reads from.

use serde::{Deserialize, Serialize};

/// How a filter extends the array beyond its edges (scipy.ndimage's `mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BoundaryMode {
    /// `d c b a | a b c d | d c b a` (the edge value repeated once; scipy's default).
    #[default]
    Reflect,
    /// `d c b | a b c d | c b a` (the edge value not repeated).
    Mirror,
    /// `a a a | a b c d | d d d`.
    Nearest,
    /// `a b c d | a b c d | a b c d`.
    Wrap,
    /// `k k k | a b c d | k k k` with `k = cval`.
    Constant,
}

impl BoundaryMode {
    /// The name in pipeline files.
    pub fn name(self) -> &'static str {
        match self {
            BoundaryMode::Reflect => "reflect",
            BoundaryMode::Mirror => "mirror",
            BoundaryMode::Nearest => "nearest",
            BoundaryMode::Wrap => "wrap",
            BoundaryMode::Constant => "constant",
        }
    }

    /// The in-bounds index that index `i` of an axis of length `n` reads, or `None` for the
    /// constant value. Repeated reflections for halos longer than the axis, as SciPy extends.
    pub fn map(self, i: i64, n: i64) -> Option<i64> {
        if (0..n).contains(&i) {
            return Some(i);
        }
        match self {
            BoundaryMode::Constant => None,
            BoundaryMode::Nearest => Some(i.clamp(0, n - 1)),
            BoundaryMode::Wrap => Some(i.rem_euclid(n)),
            BoundaryMode::Reflect => {
                let m = i.rem_euclid(2 * n);
                Some(if m >= n { 2 * n - 1 - m } else { m })
            }
            BoundaryMode::Mirror if n == 1 => Some(0),
            BoundaryMode::Mirror => {
                let period = 2 * n - 2;
                let m = i.rem_euclid(period);
                Some(if m >= n { period - m } else { m })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::BoundaryMode::*;

    #[test]
    fn modes_match_scipy_documentation() {
        let ext = |mode: super::BoundaryMode| -> Vec<Option<i64>> {
            (-4..8).map(|i| mode.map(i, 4)).collect()
        };
        let s = |v: &[i64]| v.iter().map(|&x| Some(x)).collect::<Vec<_>>();
        assert_eq!(ext(Reflect), s(&[3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0]));
        assert_eq!(ext(Mirror), s(&[2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1]));
        assert_eq!(ext(Nearest), s(&[0, 0, 0, 0, 0, 1, 2, 3, 3, 3, 3, 3]));
        assert_eq!(ext(Wrap), s(&[0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]));
        assert_eq!(Constant.map(-1, 4), None);
    }
}
