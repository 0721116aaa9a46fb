//! Colormaps for `chunkwise preview`: values become display levels between the contrast
//! limits, then gray levels or colours (viridis and magma: perceptually uniform, so equal steps
//! in value look like equal steps on screen, which a rainbow does not give).

/// How display levels are shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Colormap {
    /// Black to white.
    #[default]
    Gray,
    /// Matplotlib's viridis (dark blue to yellow).
    Viridis,
    /// Matplotlib's magma (black to light yellow).
    Magma,
}

/// Pixels ready for a PNG: gray (one byte per pixel) or RGB (three).
pub struct Pixels {
    /// The PNG colour type of `bytes`.
    pub color: png::ColorType,
    /// Row-major pixel bytes.
    pub bytes: Vec<u8>,
}

/// The display level of each value: `lo` -> 0, `hi` -> 255, clamped; NaN -> 0.
pub fn levels(values: &[f64], lo: f64, hi: f64) -> Vec<u8> {
    let span = if hi > lo { hi - lo } else { 1.0 };
    values
        .iter()
        .map(|&v| {
            let t = ((v - lo) / span).clamp(0.0, 1.0);
            if t.is_nan() {
                0
            } else {
                (t * 255.0).round() as u8
            }
        })
        .collect()
}

impl Colormap {
    /// Paints `values` with `lo` and `hi` at the ends of the map.
    pub fn paint(self, values: &[f64], lo: f64, hi: f64) -> Pixels {
        let levels = levels(values, lo, hi);
        let gradient = match self {
            Colormap::Gray => {
                return Pixels {
                    color: png::ColorType::Grayscale,
                    bytes: levels,
                }
            }
            Colormap::Viridis => colorous::VIRIDIS,
            Colormap::Magma => colorous::MAGMA,
        };
        // One lookup table, not one gradient evaluation per pixel.
        let table: Vec<[u8; 3]> = (0..256)
            .map(|k| {
                let c = gradient.eval_rational(k, 256);
                [c.r, c.g, c.b]
            })
            .collect();
        Pixels {
            color: png::ColorType::Rgb,
            bytes: levels.iter().flat_map(|&l| table[usize::from(l)]).collect(),
        }
    }
}
