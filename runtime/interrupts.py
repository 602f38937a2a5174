"""Ctrl-C that always stops helm-run, whatever code it lands in.

Python turns SIGINT into a KeyboardInterrupt raised wherever the main thread happens to be;
code that catches BaseException there (a module imported by HELM, a careless plugin) swallows
it, and the suite runs on. helm-run therefore also remembers that SIGINT came, and checks at
each step of its own (every entry built, every class preloaded, every tick of the engine).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from typing import Iterator

_requested = False
_guarding = False
_saved_mask: set | None = None


# A SIGINT landing inside a fork (in an at-fork hook of some library, or in the child before
# it ignores SIGINT) would print "Exception ignored ... Traceback": filelock's before-fork hook
# cut short leaves its after-fork hook a KeyError. While guarding, SIGINT is blocked across every
# fork: the parent receives it right after, at an ordinary point; the child (a worker: the
# parent alone decides what Ctrl-C does) ignores it. Forks of helmc's own go through `forking`,
# which blocks before any library's hook runs (at-fork hooks run the last registered first, so
# the hooks below, registered before HELM imports filelock, come too late for its hooks);
# the hooks cover forks that other code makes.
_by_hook = False  # whether the before-fork hook blocked SIGINT (not `forking`)


def _block() -> None:
    global _saved_mask
    _saved_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def _unblock() -> None:
    global _saved_mask
    if _saved_mask is not None:
        mask, _saved_mask = _saved_mask, None
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _before_fork() -> None:
    global _by_hook
    if _guarding and _saved_mask is None:
        _block()
        _by_hook = True


def _after_fork_parent() -> None:
    global _by_hook
    if _by_hook:
        _by_hook = False
        _unblock()


def _after_fork_child() -> None:
    global _by_hook, _guarding
    if _guarding and _saved_mask is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _guarding = _by_hook = False
        _unblock()


@contextlib.contextmanager
def forking() -> Iterator[None]:
    """Around a fork of helmc's own (a worker's start): SIGINT is held off from before the
    first at-fork hook to after the last one. A SIGINT that came just before is raised here,
    at an ordinary point, by the checkpoint."""
    if not _guarding or _saved_mask is not None or threading.current_thread() is not threading.main_thread():
        yield
        return
    _block()
    try:
        checkpoint()
        yield
    finally:
        _unblock()  # in the parent; the child unblocked in its hook


if hasattr(os, "register_at_fork") and hasattr(signal, "pthread_sigmask"):
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_parent, after_in_child=_after_fork_child)


def _unraisable(hook):  # type: ignore[no-untyped-def]
    """A KeyboardInterrupt raised where Python cannot propagate it (a __del__, a callback) is
    not news: it is remembered, and the next checkpoint stops the run. Anything else is
    reported as Python would."""

    def unraisable(info) -> None:  # type: ignore[no-untyped-def]
        if info.exc_type is not None and issubclass(info.exc_type, KeyboardInterrupt):
            return
        hook(info)

    return unraisable


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
    global _requested, _guarding
    _requested = False
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGINT, _on_sigint)
    hook = sys.unraisablehook
    sys.unraisablehook = _unraisable(hook)
    _guarding = True
    try:
        yield
    finally:
        _guarding = False
        sys.unraisablehook = hook
        signal.signal(signal.SIGINT, previous)
