"""Ctrl-C that always stops helm-run, whatever code it lands in.

Python turns SIGINT into a KeyboardInterrupt raised wherever the main thread happens to be;
code that catches BaseException there (a module imported by HELM, a careless plugin) swallows
it, and the suite runs on. helm-run therefore also remembers that SIGINT came, and checks at
each step of its own (every entry built, every class preloaded, every tick of the engine).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator

_requested = False


def _on_sigint(signum: int, frame: object) -> None:
    global _requested
    _requested = True
    raise KeyboardInterrupt


def checkpoint() -> None:
    """Raise KeyboardInterrupt if Ctrl-C came, even if something swallowed it since."""
    if _requested:
        raise KeyboardInterrupt


@contextlib.contextmanager
def sigint_guard() -> Iterator[None]:
    """Install the remembering handler, unless SIGINT is ignored (nohup, a background job of
    a script): then it stays ignored, as for HELM."""
    global _requested
    _requested = False
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGINT, _on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
