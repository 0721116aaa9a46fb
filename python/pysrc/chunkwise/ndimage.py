"""Filters under ``scipy.ndimage``'s names and keyword arguments, on lazy chunkwise arrays.

Each returns a lazy :class:`chunkwise.Array`; halos between chunks are read by the engine. One
difference from SciPy: the output type defaults to float32 (float64 for float64 input), where
SciPy keeps the input's type; pass ``output=`` to choose.
"""

from ._chunkwise import (
    convolve,
    correlate,
    gaussian_filter,
    gaussian_gradient_magnitude,
    laplace,
    maximum_filter,
    median_filter,
    minimum_filter,
    sobel,
    uniform_filter,
)

__all__ = [
    "convolve",
    "correlate",
    "gaussian_filter",
    "gaussian_gradient_magnitude",
    "laplace",
    "maximum_filter",
    "median_filter",
    "minimum_filter",
    "sobel",
    "uniform_filter",
]
