"""What long commands show while they work: ``datasets``' own progress bars kept quiet where gmn-bench loads data
(:func:`quiet_datasets`), and one overall bar with a line per finished result (:class:`OverallProgress`)."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator

import datasets
from tqdm.auto import tqdm


@contextmanager
def quiet_datasets() -> Iterator[None]:
    """Within the block, ``datasets`` shows no progress bars (its per-split "Generating ... split" bars, ...);
    afterwards they are as they were."""
    was_enabled = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if was_enabled:
            datasets.enable_progress_bars()


class OverallProgress:
    """One bar over all the units of work of a command (elapsed time, estimated time left), and one printed line
    per finished result above it. ``quiet=True``: neither bar nor lines."""

    def __init__(self, total: int, unit: str, desc: str, quiet: bool = False):
        self.quiet = quiet
        self.bar = tqdm(total=total, unit=unit, desc=desc, disable=quiet, dynamic_ncols=True,
                        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} {unit}s "
                                   "[{elapsed} elapsed, {remaining} left]")

    def advance(self, n: int = 1) -> None:
        """``n`` more units are done."""
        self.bar.update(n)

    def drop(self, n: int) -> None:
        """``n`` units will not be done after all (they leave the total)."""
        if not self.quiet:
            self.bar.total -= n
            self.bar.refresh()

    def line(self, text: str) -> None:
        """Print ``text`` on its own line above the bar (nothing when quiet)."""
        if not self.quiet:
            self.bar.write(text, file=sys.stdout)

    def close(self) -> None:
        self.bar.close()

    def __enter__(self) -> OverallProgress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
