//! The group attributes of an OME-Zarr image: `multiscales` at the top level for NGFF 0.4 (Zarr
//! v2), under `ome` for 0.5 (Zarr v3).

use chunkwise_store::ZarrFormat;
use serde_json::{json, Map, Value};

use super::axes::{Axis, AxisKind};

/// What the `multiscales` entry describes.
pub struct Multiscales<'a> {
    /// The image's axes.
    pub axes: &'a [Axis],
    /// Unit of the space axes.
    pub unit: Option<&'a str>,
    /// Pixel size of level 0 per axis.
    pub base_scale: &'a [f64],
    /// Factor per axis between levels.
    pub factors: &'a [u64],
    /// Levels below level 0.
    pub levels: usize,
    /// How the levels were reduced (NGFF's `type`).
    pub method: &'a str,
}

impl Multiscales<'_> {
    /// The group attributes for `format`: level k at path `k` with scale
    /// `base_scale * factors^k`.
    pub fn attributes(&self, format: ZarrFormat) -> Map<String, Value> {
        let axes: Vec<Value> = self
            .axes
            .iter()
            .map(|a| {
                let mut v = json!({"name": a.name, "type": a.kind.name()});
                if let (Some(unit), AxisKind::Space) = (self.unit, a.kind) {
                    v["unit"] = json!(unit);
                }
                v
            })
            .collect();
        let datasets: Vec<Value> = (0..=self.levels)
            .map(|k| {
                let scale: Vec<f64> = self
                    .base_scale
                    .iter()
                    .zip(self.factors)
                    .map(|(s, f)| s * (*f as f64).powi(k as i32))
                    .collect();
                json!({"path": k.to_string(),
                       "coordinateTransformations": [{"type": "scale", "scale": scale}]})
            })
            .collect();
        let mut ms = json!({
            "name": "image",
            "axes": axes,
            "datasets": datasets,
            "type": self.method,
            "metadata": {"method": "chunkwise downsample", "kwargs": {"factors": self.factors}},
        });
        let mut attrs = Map::new();
        match format {
            ZarrFormat::V2 => {
                ms["version"] = json!("0.4");
                attrs.insert("multiscales".into(), json!([ms]));
            }
            ZarrFormat::V3 => {
                attrs.insert("ome".into(), json!({"version": "0.5", "multiscales": [ms]}));
            }
        }
        attrs
    }
}
