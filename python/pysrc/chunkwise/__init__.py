"""chunkwise: chunk-by-chunk, parallel, memory-bounded processing of Zarr arrays.

Operations on a :class:`chunkwise.Array` build a lazy expression; ``compute()``, ``to_zarr()``
and ``write_pyramid()`` run it with the GIL released, chunk by chunk, within a memory limit::

    import chunkwise as cw
    x = cw.open("volume.zarr")
    y = cw.ndimage.gaussian_filter(x.astype("float32") * 1.5, sigma=2)
    y.to_zarr("smooth.zarr", memory_limit="4GiB")

Run settings default to ``cw.config`` (``threads``, ``memory_limit``, ``progress``).
"""

from __future__ import annotations

import os as _os

from . import ndimage
from ._chunkwise import (
    Array,
    ChunkwiseError,
    Pipeline,
    bincount,
    from_numpy,
    histogram,
    percentile,
    quantile,
    stats,
    where,
    write_pyramid,
)
from ._chunkwise import _open
from ._config import config
from ._vocab import FUNCTIONS as _FUNCTIONS
from ._vocab import apply

globals().update(_FUNCTIONS)

__all__ = [
    "Array",
    "ChunkwiseError",
    "Pipeline",
    "apply",
    "bincount",
    "config",
    "from_numpy",
    "histogram",
    "ndimage",
    "open",
    "percentile",
    "quantile",
    "stats",
    "where",
    "write_pyramid",
    *sorted(_FUNCTIONS),
]


def open(source) -> Array:  # noqa: A001 - the name users expect, as zarr.open
    """Open a Zarr array (v2 or v3) as a lazy :class:`Array`.

    ``source`` is a path, or a zarr-python ``Array`` whose store is a local directory (its path
    is opened; chunkwise reads the files itself).
    """
    if isinstance(source, (str, _os.PathLike)):
        return _open(_os.fspath(source))
    return _open(_zarr_array_path(source))


def _zarr_array_path(array) -> str:
    """The directory of a zarr-python array on a local store, or TypeError saying what is taken."""
    store = getattr(array, "store", None)
    # zarr 3: LocalStore.root; zarr 2: DirectoryStore.path. Other stores (memory, fsspec) hold
    # no directory chunkwise can read.
    root = getattr(store, "root", None) if type(store).__name__ == "LocalStore" else None
    if type(store).__name__ in ("DirectoryStore", "NestedDirectoryStore"):
        root = store.path
    if root is None:
        raise TypeError(
            "chunkwise.open takes a path or a zarr-python Array on a local store "
            f"(LocalStore/DirectoryStore), got {type(array).__name__}"
            + (f" on {type(store).__name__}" if store is not None else "")
        )
    # zarr 3: Array.path is the array's path inside the store; zarr 2: also .path.
    inner = getattr(array, "path", "") or ""
    return _os.path.join(_os.fspath(root), inner)
