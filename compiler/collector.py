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
    """No cyclic collection inside; the collector as it was afterwards, also on an exception.
    What was made inside and lives on leaves as old objects (see below)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if gc.get_freeze_count() == 0:
                # Everything made inside sits in the youngest generation, which the first
                # collection afterwards would scan whole: 0.12 s of helm-check's 0.7 s on HELM's
                # conf files, just before it exits. Freezing and unfreezing moves it all to the
                # oldest generation (two list splices), as if it had lived through collections.
                # Not where objects are frozen (before a fork): unfreezing would undo that.
                gc.freeze()
                gc.unfreeze()
            gc.enable()
