//! The stencil filters as methods on [`Array`], as the other op families have them:
//! `x.gaussian_filter(&[2.0; 3], 4.0, &FilterOptions::default())?`.

use chunkwise_engine::{Array, Result};

use crate::stencil::{FilterOptions, Weights, Window};

/// Stencil methods on [`Array`]; each is the function of the same name in [`crate::stencil`].
pub trait StencilExt {
    /// See [`crate::stencil::gaussian_filter`].
    ///
    /// # Errors
    /// See [`crate::stencil::gaussian_filter`].
    fn gaussian_filter(
        &self,
        sigma: &[f64],
        truncate: f64,
        options: &FilterOptions,
    ) -> Result<Array>;
    /// See [`crate::stencil::uniform_filter`].
    ///
    /// # Errors
    /// See [`crate::stencil::uniform_filter`].
    fn uniform_filter(
        &self,
        size: &[usize],
        origin: &[i64],
        options: &FilterOptions,
    ) -> Result<Array>;
    /// See [`crate::stencil::correlate`].
    ///
    /// # Errors
    /// See [`crate::stencil::correlate`].
    fn correlate(
        &self,
        weights: &Weights,
        origin: &[i64],
        options: &FilterOptions,
    ) -> Result<Array>;
    /// See [`crate::stencil::convolve`].
    ///
    /// # Errors
    /// See [`crate::stencil::convolve`].
    fn convolve(&self, weights: &Weights, origin: &[i64], options: &FilterOptions)
        -> Result<Array>;
    /// See [`crate::stencil::median_filter`].
    ///
    /// # Errors
    /// See [`crate::stencil::median_filter`].
    fn median_filter(
        &self,
        window: &Window,
        origin: &[i64],
        options: &FilterOptions,
    ) -> Result<Array>;
    /// See [`crate::stencil::minimum_filter`].
    ///
    /// # Errors
    /// See [`crate::stencil::minimum_filter`].
    fn minimum_filter(
        &self,
        window: &Window,
        origin: &[i64],
        options: &FilterOptions,
    ) -> Result<Array>;
    /// See [`crate::stencil::maximum_filter`].
    ///
    /// # Errors
    /// See [`crate::stencil::maximum_filter`].
    fn maximum_filter(
        &self,
        window: &Window,
        origin: &[i64],
        options: &FilterOptions,
    ) -> Result<Array>;
    /// See [`crate::stencil::sobel`].
    ///
    /// # Errors
    /// See [`crate::stencil::sobel`].
    fn sobel(&self, axis: i64, options: &FilterOptions) -> Result<Array>;
    /// See [`crate::stencil::laplace`].
    ///
    /// # Errors
    /// See [`crate::stencil::laplace`].
    fn laplace(&self, options: &FilterOptions) -> Result<Array>;
    /// See [`crate::stencil::gaussian_gradient_magnitude`].
    ///
    /// # Errors
    /// See [`crate::stencil::gaussian_gradient_magnitude`].
    fn gaussian_gradient_magnitude(
        &self,
        sigma: &[f64],
        truncate: f64,
        options: &FilterOptions,
    ) -> Result<Array>;
}

impl StencilExt for Array {
    fn gaussian_filter(
        &self,
        sigma: &[f64],
        truncate: f64,
        options: &FilterOptions,
    ) -> Result<Array> {
        crate::stencil::gaussian_filter(self, sigma, truncate, options)
    }
    fn uniform_filter(
        &self,
        size: &[usize],
        origin: &[i64],
        options: &FilterOptions,
    ) -> Result<Array> {
        crate::stencil::uniform_filter(self, size, origin, options)
    }
    fn correlate(
        &self,
        weights: &Weights,
        origin: &[i64],
        options: &FilterOptions,
    ) -> Result<Array> {
        crate::stencil::correlate(self, weights, origin, options)
    }
    fn convolve(
        &self,
        weights: &Weights,
        origin: &[i64],
        options: &FilterOptions,
    ) -> Result<Array> {
        crate::stencil::convolve(self, weights, origin, options)
    }
    fn median_filter(
        &self,
        window: &Window,
        origin: &[i64],
        options: &FilterOptions,
    ) -> Result<Array> {
        crate::stencil::median_filter(self, window, origin, options)
    }
    fn minimum_filter(
        &self,
        window: &Window,
        origin: &[i64],
        options: &FilterOptions,
    ) -> Result<Array> {
        crate::stencil::minimum_filter(self, window, origin, options)
    }
    fn maximum_filter(
        &self,
        window: &Window,
        origin: &[i64],
        options: &FilterOptions,
    ) -> Result<Array> {
        crate::stencil::maximum_filter(self, window, origin, options)
    }
    fn sobel(&self, axis: i64, options: &FilterOptions) -> Result<Array> {
        crate::stencil::sobel(self, axis, options)
    }
    fn laplace(&self, options: &FilterOptions) -> Result<Array> {
        crate::stencil::laplace(self, options)
    }
    fn gaussian_gradient_magnitude(
        &self,
        sigma: &[f64],
        truncate: f64,
        options: &FilterOptions,
    ) -> Result<Array> {
        crate::stencil::gaussian_gradient_magnitude(self, sigma, truncate, options)
    }
}
