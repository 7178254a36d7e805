"""The progress line of a batch run, on stderr.

    loading models (4 s)
    tagged 1,234 of 10,000 (12%), 3 failed, 25.1 docs/s, ETA 5m 50s

"loading models" until the first chunk comes back (the workers load them on their first
chunk); then done, the total (``probe.count_inputs``, counted in the background while the
models load; none for stdin and URLs), the share done, failures, the rate and the time left.
On a terminal the line is redrawn in place twice a second; elsewhere (a log, a pipe) a line is
printed every ``every`` seconds, and one when the models are loaded.
"""
from __future__ import annotations

import sys
import threading
import time
from typing import Any, Callable, Iterable, Optional, TextIO

from .probe import count_inputs
from .records import PathLike

EVERY = 30.0  # seconds between two progress lines where stderr is not a terminal
REDRAW = 0.5  # seconds between two redraws of the line on a terminal


def duration(seconds: float) -> str:
    """``'42s'``, ``'5m 03s'``, ``'2h 07m'``."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f'{seconds}s'
    if seconds < 3600:
        return f'{seconds // 60}m {seconds % 60:02d}s'
    return f'{seconds // 3600}h {seconds % 3600 // 60:02d}m'


class Progress:
    """Shows how a run goes (see the module docstring) from ``summary`` (a ``BatchSummary``:
    ``tagged``, ``failed``, ``skipped``), which the run keeps up to date.

    ``live``: redraw one line in place (a terminal) rather than print a line every ``every``
    seconds; ``every`` 0 or None with ``live`` False: show nothing. ``update()`` after each
    chunk written; ``close()`` at the end.
    """

    def __init__(self, inputs: Iterable[PathLike], summary: Any, live: bool,
                 every: Optional[float] = EVERY, stream: Optional[TextIO] = None,
                 prefix: str = 'extractor batch: ',
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.summary = summary
        self.live = live
        self.every = REDRAW if live else every
        self.stream = stream if stream is not None else sys.stderr
        self.prefix = '' if live else prefix
        self.clock = clock
        self.total: Optional[int] = None
        self.started = clock()
        self.loaded: Optional[float] = None  # when the first chunk came back
        self.at_load = 0  # documents done by then
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        if not self.every:
            return
        self._threads = [threading.Thread(target=self._count, args=(list(map(str, inputs)),),
                                          name='extractor-count', daemon=True),
                         threading.Thread(target=self._tick, name='extractor-progress',
                                          daemon=True)]
        self._show(self.line())
        for thread in self._threads:
            thread.start()

    @property
    def done(self) -> int:
        return self.summary.tagged + self.summary.failed

    def update(self) -> None:
        """A chunk was written: the first one ends the loading."""
        if self.loaded is None and self.every:
            self.loaded = self.clock()
            self.at_load = self.done
            if not self.live:
                self._show(f'models loaded, a first chunk tagged in '
                           f'{duration(self.loaded - self.started)}; ' + self.line())

    def close(self) -> None:
        """Stop the line; on a terminal, leave its last state on a line of its own."""
        if not self._threads:
            return
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=None if thread.name == 'extractor-progress' else 1.0)
        if self.live:
            self._show(self.line(), end='\n')
        self._threads = []

    def line(self) -> str:
        """What the progress line says now."""
        now = self.clock()
        if self.loaded is None:
            waited = now - self.started
            return 'loading models' + (f' ({duration(waited)})' if waited >= 1 else '')
        done, total = self.done, self.total
        text = f'tagged {done:,}'
        if total is not None:
            total -= self.summary.skipped
            if total >= done and total > 0:
                text += f' of {total:,} ({100 * done // total}%)'
            else:
                total = None
        if self.summary.failed:
            text += f', {self.summary.failed:,} failed'
        if self.summary.skipped:
            text += f', {self.summary.skipped:,} skipped by resume'
        since = now - self.loaded
        rate = (done - self.at_load) / since if since > 0 and done > self.at_load else None
        if rate:
            text += f', {rate:.1f} docs/s'
            if total is not None and total > done:
                text += f', ETA {duration((total - done) / rate)}'
        return text

    def _count(self, inputs: list[str]) -> None:
        self.total = count_inputs(inputs, self._stop)  # given up when the run ends first

    def _tick(self) -> None:
        while not self._stop.wait(self.every):
            self._show(self.line())

    def _show(self, text: str, end: Optional[str] = None) -> None:
        with self._lock:
            try:
                if self.live:
                    self.stream.write('\r\x1b[K' + text + (end or ''))
                else:
                    self.stream.write(self.prefix + text + '\n')
                self.stream.flush()
            except (OSError, ValueError):  # stderr closed or gone: no progress, no failure
                pass
