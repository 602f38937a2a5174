"""Pausing Python's cyclic garbage collector where a program builds many objects that live on.

Refcounting frees everything as usual; the cyclic collector, though, rescans every tracked
object again and again as they pile up, for no garbage. Two places pay for that:

- Parsing: millions of small acyclic objects (tokens, trees, IR) that all stay alive until the
  end would make a large file cost more than linear time. The one-shot commands (parse, check,
  plan, fmt) hold the pause for their whole run, since what they build from the entries (JSON,
  diagnostics) would trigger the same rescans; long-running ones (the language server, HELM's
  runs) must not.
- Importing and configuring HELM (helm-run, a Ray host, a Slurm job): its runs' classes
  (scikit-learn, scipy, pandas) leave about 225,000 tracked objects that live as long as the
  process; 0.6 CPU s of 2.7 s for `helm.benchmark.run` and its basic metrics
  (docs/performance.md), before the first run starts.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic collection inside; the collector as it was afterwards, also on an exception."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
