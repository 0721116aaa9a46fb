//! A procedural, tomography-like test volume (smooth structure plus noise, uint16), computed on
//! demand for any region: the demo and the benchmarks generate their input through the engine
//! itself, in parallel and within the memory limit, without a Python dependency.

use std::sync::Arc;

use chunkwise_engine::store::{IoContext, Source};
use chunkwise_engine::{Array, ArrayMeta, Buffer, DType, Region, Result};

/// A cubic uint16 volume: low-frequency "tissue" plus Gaussian-like noise, values in
/// roughly 5000..45000, as in the peers' `make_data.py`.
#[derive(Debug)]
pub struct SyntheticVolume {
    meta: ArrayMeta,
}

impl SyntheticVolume {
    /// A `size`^3 volume chunked `chunk`^3.
    ///
    /// # Errors
    /// [`chunkwise_engine::Error::Invalid`] for a zero chunk.
    pub fn new(size: u64, chunk: u64) -> Result<Self> {
        Ok(Self {
            meta: ArrayMeta::new(vec![size; 3], vec![chunk; 3], DType::Uint16)?,
        })
    }

    /// The volume as a lazy array.
    pub fn into_array(self) -> Array {
        Array::from_source(Arc::new(self))
    }
}

/// A cheap, well-mixed hash of an element index (splitmix64), for reproducible noise.
fn hash(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl Source for SyntheticVolume {
    fn meta(&self) -> &ArrayMeta {
        &self.meta
    }

    fn describe(&self) -> String {
        format!("synthetic{:?}", self.meta.shape)
    }

    fn identity(&self) -> serde_json::Value {
        // The values follow from the shape alone (and this code's version, in the identity).
        serde_json::json!({"location": self.describe(), "meta": self.meta})
    }

    fn read(&self, region: &Region, _io: &IoContext) -> Result<Buffer> {
        let n = self.meta.shape[0] as f32;
        let (s, e) = (&region.start, region.end());
        let mut out = Vec::with_capacity(region.num_elements() as usize);
        let f = std::f32::consts::TAU / n;
        for z in s[0]..e[0] {
            let cz = (z as f32 * f * 1.3).sin();
            for y in s[1]..e[1] {
                let cy = (y as f32 * f * 2.1).cos();
                let row = (z * self.meta.shape[1] + y) * self.meta.shape[2];
                for x in s[2]..e[2] {
                    let cx = (x as f32 * f * 1.7 + cz).sin();
                    let smooth = 0.5 + 0.25 * (cz * cy + cx) / 2.0 + 0.25 * (cy * cx);
                    let h = hash(row + x);
                    // Sum of two uniforms: a cheap bell-shaped noise, sd about 800.
                    let noise = ((h & 0xFFFF) as f32 + ((h >> 16) & 0xFFFF) as f32) / 65536.0 - 1.0;
                    let v = 5000.0 + 40000.0 * smooth.clamp(0.0, 1.0) + 1960.0 * noise;
                    out.push(v.clamp(0.0, 65535.0) as u16);
                }
            }
        }
        Ok(Buffer::Uint16(out))
    }
}
