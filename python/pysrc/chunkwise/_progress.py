"""The progress bar runs draw: tqdm when installed (its notebook widget in Jupyter), plain text
otherwise. The engine calls ``update(done, total)`` from the waiting caller's thread a few times
a second, then ``close()``."""

from __future__ import annotations

import sys
import time


def make_bar(progress, label: str):
    """A bar for ``progress`` (None: ``config.progress``; True/False; or a callable taking
    ``(done, total)``), or None for no bar."""
    if progress is None:
        from ._config import config

        progress = config.progress
    if progress is False:
        return None
    if callable(progress) and progress is not True:
        return _Callback(progress)
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _Text(label)
    return _Tqdm(tqdm, label)


class _Callback:
    """Calls the user's function with each new count."""

    def __init__(self, f) -> None:
        self._f = f
        self._last = None

    def update(self, done: int, total: int) -> None:
        if (done, total) != self._last:
            self._last = (done, total)
            self._f(done, total)

    def close(self) -> None:
        pass


class _Tqdm:
    """A tqdm bar created when the run knows its task count."""

    def __init__(self, tqdm, label: str) -> None:
        self._tqdm = tqdm
        self._label = label
        self._bar = None

    def update(self, done: int, total: int) -> None:
        if total == 0:
            return
        if self._bar is None:
            self._bar = self._tqdm(total=total, desc=self._label, unit="task", leave=False)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


class _Text:
    """``to_zarr: 12/64 tasks`` on one line of stderr, redrawn at most twice a second."""

    def __init__(self, label: str) -> None:
        self._label = label
        self._shown = False
        self._last = 0.0

    def update(self, done: int, total: int) -> None:
        now = time.monotonic()
        if total == 0 or (now - self._last < 0.5 and done < total):
            return
        self._last = now
        self._shown = True
        sys.stderr.write(f"\r{self._label}: {done}/{total} tasks")
        sys.stderr.flush()

    def close(self) -> None:
        if self._shown:
            sys.stderr.write("\n")
            sys.stderr.flush()
