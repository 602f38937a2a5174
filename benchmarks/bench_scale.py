"""helmc's own overhead per run, by simulation: N runs whose task returns at once go through
the real scheduler, engine loop, journal and progress display (runtime/suite.py's run_suite),
and the time per run is reported for N = 10^3, 10^4, 10^5. It must stay flat (target: under
1 ms per run at 10^5, journal included).

The runs have a mix of providers (a provider limit is set, so the limit logic works on every
pick), random sizes (longest-first ordering), and a live progress panel rendered to a terminal
that discards its output. Two rows per N: the engine loop with scheduler and progress alone,
and the whole of run_suite (journal included). Repeated --repeat times; median and range.

    python benchmarks/bench_scale.py [--sizes 1000 10000 100000] [--repeat 3] [--plain]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import statistics
import sys
import tempfile
import time

from rich.console import Console

from helmc.runtime.helm_setup import HelmSettings
from helmc.runtime.runspecs import BuiltRun
from helmc.runtime.engine import InlineEngine, Task
from helmc.runtime.engines import task_of
from helmc.runtime.progress import ProgressDisplay
from helmc.runtime.suite import run_suite

PROVIDERS = ["openai/gpt-4o", "anthropic/claude-3", "together/llama-3", "google/gemini", "simple/model1"]


class NullExecutor:
    """A run that returns at once: what is left is helmc's own cost."""

    def execute(self, task: Task) -> None:
        return None


def runs(n: int, seed: int = 0) -> list[BuiltRun]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        model = PROVIDERS[i % len(PROVIDERS)]
        out.append(BuiltRun(f"sim:i={i},model={model.replace('/', '_')}", ("<sim>", i + 1, 1), model, model,
                            f"{i:032x}", b"", rnd.choice([None, 10, 100, 1000]) ))
    return out


def console(plain: bool) -> Console:
    if plain:  # a CI log: one line per event
        return Console(file=io.StringIO(), force_terminal=False, width=160)
    return Console(file=open(os.devnull, "w"), force_terminal=True, width=160)  # a live panel


def engine() -> InlineEngine:
    return InlineEngine(8, max_per_provider=4, tick_interval=0.25)


def time_engine_only(built: list[BuiltRun], plain: bool) -> float:
    tasks = [task_of(b.name, b.payload, b.model, b.model_deployment, b.size) for b in built]
    t0 = time.perf_counter()
    with ProgressDisplay(console(plain), len(tasks), 0, 8) as display:
        engine().run(tasks, NullExecutor(), display.on_event, on_tick=display.refresh)
    return time.perf_counter() - t0


def time_run_suite(built: list[BuiltRun], plain: bool) -> float:
    tmp = tempfile.mkdtemp(prefix="helmc-scale-")
    try:
        # --skip-instances: HELM writes no run folder, so run_suite checks no output file.
        settings = HelmSettings(output_path=tmp, suite="scale", skip_instances=True)
        t0 = time.perf_counter()
        result = run_suite(built, settings, engine(), console(plain), workers=8, executor=NullExecutor())
        dt = time.perf_counter() - t0
        assert sum(o.status == "completed" for o in result.outcomes) == len(built), "a simulated run did not complete"
        return dt
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--plain", action="store_true", help="progress as one line per event (CI logs)")
    ap.add_argument("--engine-only", action="store_true", help="skip run_suite (journal) rows")
    a = ap.parse_args()
    print(f"{os.cpu_count()} CPUs, python {sys.version.split()[0]}, progress "
          f"{'plain lines' if a.plain else 'live panel'}; per-run overhead, median [min-max] of {a.repeat}")
    print(f"{'runs':>8}  {'engine+scheduler+progress':>30}  {'run_suite (journal included)':>32}")
    for n in a.sizes:
        built = runs(n)
        eng = [time_engine_only(built, a.plain) / n * 1e6 for _ in range(a.repeat)]
        row = f"{n:>8}  {_fmt(eng):>30}"
        if not a.engine_only:
            full = [time_run_suite(built, a.plain) / n * 1e6 for _ in range(a.repeat)]
            row += f"  {_fmt(full):>32}"
        print(row, flush=True)
    return 0


def _fmt(us: list[float]) -> str:
    return f"{statistics.median(us):8.1f} µs [{min(us):.1f}-{max(us):.1f}]"


if __name__ == "__main__":
    sys.exit(main())
