"""Progress of long CLI commands (seed-demo, run-jobs, backup): click's progress bar with
counts and time left when the output is a terminal, one line per step otherwise (cron, logs)."""
from __future__ import annotations

import sys
import time

import click


class StepProgress:
    """`update(label, done, total)` as work advances; `close()` at the end."""

    def __init__(self, title: str, *, unit: str = "步", stream=None):
        self.title = title
        self.unit = unit
        self.stream = stream if stream is not None else sys.stdout
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._bar = None
        self._shown = 0
        self._last_label = None
        self._started = time.perf_counter()

    def update(self, label: str, done: int, total: int) -> None:
        if self.tty:
            if self._bar is None:
                self._bar = click.progressbar(length=total, label=self.title, show_pos=True, show_eta=True,
                                              file=self.stream, item_show_func=lambda _: label)
                self._bar.__enter__()
            self._bar.label = f"{self.title}:{label}"
            self._bar.update(done - self._shown)
            self._shown = done
        elif label != self._last_label:
            elapsed = time.perf_counter() - self._started
            click.echo(f"[{done}/{total} {self.unit}] {self.title}:{label}({elapsed:.1f} 秒)", file=self.stream)
        self._last_label = label

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
