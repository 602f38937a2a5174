"""A sign of life on the terminal while a one-shot command works in silence.

`helmc fmt --check` on a 63 MB conf file works for a minute before it prints anything, and a
minute of silence looks like a hang. While a command has written nothing for QUIET_AFTER
seconds, one line on standard error says what it does and for how long; the first thing the
command writes clears it. Only on a terminal: piped or redirected output stays byte for byte.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from typing import Any, Iterator

QUIET_AFTER = 1.0  # seconds of silence before the line appears
INTERVAL = 0.25  # seconds between updates of the line
_FRAMES = "|/-\\"


class Heartbeat:
    def __init__(self, label: str, terminal: Any) -> None:
        self.label = label
        self._terminal = terminal  # the raw standard error, never the guarded one (no recursion)
        self._quiet_after = QUIET_AFTER
        self._interval = INTERVAL
        self._start = time.monotonic()
        self._last_output = self._start
        self._shown = False
        self._frame = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="helmc-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.output_follows()

    def output_follows(self) -> None:
        """Called before anything the command writes: the line goes, the silence starts over."""
        with self._lock:
            self._last_output = time.monotonic()
            if self._shown:
                self._shown = False
                self._write("\r\x1b[2K")

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            with self._lock:
                now = time.monotonic()
                if now - self._last_output < self._quiet_after:
                    continue
                self._frame = (self._frame + 1) % len(_FRAMES)
                self._write(f"\r\x1b[2K{_FRAMES[self._frame]} {self.label}: working ({now - self._start:.0f} s)")
                self._shown = True

    def _write(self, text: str) -> None:
        try:
            self._terminal.write(text)
            self._terminal.flush()
        except (OSError, ValueError):
            self._stop.set()  # the terminal went away: nothing more to show


@contextlib.contextmanager
def heartbeat(label: str, streams: tuple[Any, ...], terminal: Any) -> Iterator[Heartbeat | None]:
    """A Heartbeat on `terminal` (standard error) if it is a terminal, fed by every write to
    `streams` (the guarded standard output and error)."""
    try:
        on_terminal = bool(terminal is not None and terminal.isatty()) and os.environ.get("TERM") != "dumb"
    except (OSError, ValueError):
        on_terminal = False
    if not on_terminal:
        yield None
        return
    beat = Heartbeat(label, terminal)
    for s in streams:
        s.before_write = beat.output_follows
    beat.start()
    try:
        yield beat
    finally:
        for s in streams:
            s.before_write = None
        beat.stop()
