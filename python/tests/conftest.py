"""Shared fixtures. The tests need the installed package (``pip install ./python``); when it is
missing they fail with that instruction instead of being skipped."""

import numpy as np
import pytest

try:
    import chunkwise  # noqa: F401
except ImportError as e:  # pragma: no cover - the message is the point
    raise RuntimeError(
        "the chunkwise Python package is not installed: run `pip install ./python` from the "
        f"repository root ({e})"
    ) from e


@pytest.fixture(autouse=True)
def quiet():
    """No progress bars in test output; each test starts from the default config."""
    import chunkwise as cw

    saved = (cw.config.threads, cw.config.memory_limit, cw.config.progress)
    cw.config.progress = False
    yield
    cw.config.threads, cw.config.memory_limit, cw.config.progress = saved


@pytest.fixture
def rng():
    return np.random.default_rng(16)
