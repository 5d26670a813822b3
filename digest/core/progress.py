"""One progress bar for every management command (tqdm), drawn only on a terminal.

Commands write their summary line themselves; the bar only shows how far a long run
has got. Piped or captured output (cron, CI, tests) gets no bar at all.
"""

from __future__ import annotations

from django.core.management.base import OutputWrapper
from tqdm import tqdm

LABEL_WIDTH = 40


class ProgressBar:
    """``bar.advance(label)`` after each item (or ``bar.update_to(done)``), then
    ``bar.finish()`` before the summary line."""

    def __init__(self, stdout: OutputWrapper, total: int, *, unit: str = "item") -> None:
        # tqdm writes "\r…" itself: give it the raw stream, not Django's line wrapper.
        stream = getattr(stdout, "_out", stdout)
        self.enabled = stdout.isatty()
        self._bar = tqdm(
            total=max(total, 0),
            file=stream,
            disable=not self.enabled,
            unit=unit,
            leave=True,
            dynamic_ncols=True,
        )

    def advance(self, label: str = "") -> None:
        if label:
            self._bar.set_postfix_str(label[:LABEL_WIDTH], refresh=False)
        self._bar.update(1)

    def update_to(self, done: int, note: str = "") -> None:
        if note:
            self._bar.set_postfix_str(note[:LABEL_WIDTH], refresh=False)
        self._bar.update(done - self._bar.n)

    def finish(self) -> None:
        self._bar.close()
