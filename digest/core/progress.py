"""A progress bar for management commands, drawn only when stdout is a terminal."""

from __future__ import annotations

from django.core.management.base import OutputWrapper

BAR_WIDTH = 30


class ProgressBar:
    """``bar.advance(label)`` after each item; ``bar.finish()`` before the summary line."""

    def __init__(self, stdout: OutputWrapper, total: int) -> None:
        self.stdout = stdout
        self.total = max(total, 1)
        self.done = 0
        self.enabled = stdout.isatty()

    def advance(self, label: str = "") -> None:
        self.done += 1
        if not self.enabled:
            return
        filled = BAR_WIDTH * min(self.done, self.total) // self.total
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stdout.write(f"\r[{bar}] {self.done}/{self.total} {label[:40]:<40}", ending="")
        self.stdout.flush()

    def finish(self) -> None:
        if self.enabled and self.done:
            self.stdout.write("")
