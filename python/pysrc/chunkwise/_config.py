"""The defaults every run uses when a call does not give its own."""

from __future__ import annotations


class Config:
    """Run defaults: ``threads`` (None: all cores), ``memory_limit`` (None: half the machine's
    memory; bytes or text such as ``"4GiB"``) and ``progress`` (True: a bar, tqdm when
    installed; False: silent).

    Set them for a session: ``cw.config.memory_limit = "4GiB"``.
    """

    def __init__(self) -> None:
        self.threads: int | None = None
        self.memory_limit: int | str | None = None
        self.progress: bool = True

    def __repr__(self) -> str:
        return (
            f"chunkwise.config(threads={self.threads!r}, memory_limit={self.memory_limit!r}, "
            f"progress={self.progress!r})"
        )


config = Config()
