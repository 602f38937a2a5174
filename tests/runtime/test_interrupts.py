"""Ctrl-C landing inside a fork: no library's at-fork hook is cut short.

filelock registers at-fork hooks when HELM imports it, after helmc's: its before-fork hook
runs first, and a KeyboardInterrupt raised inside it left its after-fork hook a KeyError,
printed as "Exception ignored ... Traceback" (seen in CI when a test Ctrl-C'd helm-run as it
started its workers). Each case runs in its own interpreter: signals and forks in pytest's
own process would race with it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

# A library (registered after helmc, as filelock is) whose before-fork hook is interrupted by a
# SIGINT sent from inside it: the worst moment. Its after-fork hook fails if the before-fork hook
# did not finish, as filelock's does.
SCRIPT = textwrap.dedent("""
    import os, signal, sys
    from helmc.runtime import interrupts

    finished = []

    def before():
        os.kill(os.getpid(), signal.SIGINT)
        sum(range(1000))  # Python code: where a pending handler runs
        finished.append(True)

    def after_in_parent():
        finished.pop()  # IndexError if `before` was cut short

    with interrupts.sigint_guard():
        os.register_at_fork(before=before, after_in_parent=after_in_parent)
        try:
            with FORK_WITH:
                pid = os.fork()
                if pid == 0:
                    os._exit(0)
            for _ in range(100):
                sum(range(1000))
            print("no interrupt")
        except KeyboardInterrupt:
            print("interrupted after the fork" if "pid" in dir() else "interrupted before the fork")
        os.waitpid(pid, 0)
""")


def _run(fork_with: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", SCRIPT.replace("FORK_WITH", fork_with)],
                          capture_output=True, text=True, timeout=60)


def test_a_sigint_inside_any_at_fork_hook_is_received_after_the_fork():
    r = _run("interrupts.forking()")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "interrupted after the fork"
    assert "Exception ignored" not in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_without_forking_the_hook_is_cut_short():
    """The harness shows the fault it guards against: with only helmc's own hooks (registered
    before the library's, so run after its before-fork hook), the library's hook is interrupted."""
    r = _run("__import__('contextlib').nullcontext()")
    assert "Exception ignored" in r.stderr, (r.stdout, r.stderr)
