"""Many workers, one provider: HELM's own helm-run beside helmc's helm-run with and without a
request limit, against one local OpenAI-compatible API (tests/openai_rig.py) that admits RATE
requests a second (a token bucket of one second's worth) and answers 429 with Retry-After
beyond. Every contender reaches it through HELM's own OpenAIClient (prod_env
model_deployments.yaml with base_url), gets a fresh rig, a fresh prod_env (no request cache
shared) and a fresh output folder.

For each: wall time (process start to exit), the requests the API saw, how many it answered
429, the time from its first request to its last, and the runs completed. The floor is
answered requests / RATE. `rerun` runs helmc's suite a second time on the same prod_env: with
the request cache shared by the workers it sends 0 requests; `ray-rerun` and `slurm-rerun` do
the same on those engines, after the contender before them (e.g. `ray ray-rerun`).

    python benchmarks/bench_governor.py [--runs 8] [-m 10] [--rate 10] [--parallel 8]
        [--contenders helm p8 p8-limit rerun ray-limit slurm-limit ray ray-rerun slurm slurm-rerun]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

from openai_rig import RigServer, entries, write_prod_env  # noqa: E402

OURS = [sys.executable, "-c", "from helmc.cli import helm_run_entry; helm_run_entry()"]
HELM = [sys.executable, "-m", "helm.benchmark.run"]


def contender(name: str, parallel: int, rate: float) -> list[str]:
    limit = ["--requests-per-minute", f"rigapi={int(rate * 60)}"]
    return {
        "helm": HELM,
        "p8": OURS + ["--parallel-runs", str(parallel)],
        "p8-limit": OURS + ["--parallel-runs", str(parallel)] + limit,
        "rerun": OURS + ["--parallel-runs", str(parallel), "--fresh"],
        "ray-limit": OURS + ["--engine", "ray", "--parallel-runs", str(parallel)] + limit,
        "slurm-limit": OURS + ["--engine", "slurm", "--slurm-cluster", "local", "--parallel-runs", str(parallel)] + limit,
        "ray": OURS + ["--engine", "ray", "--parallel-runs", str(parallel)],
        "slurm": OURS + ["--engine", "slurm", "--slurm-cluster", "local", "--parallel-runs", str(parallel)],
        # The suite again over the request cache of the contender before it, on that engine.
        "ray-rerun": OURS + ["--engine", "ray", "--parallel-runs", str(parallel), "--fresh"],
        "slurm-rerun": OURS + ["--engine", "slurm", "--slurm-cluster", "local", "--parallel-runs", str(parallel), "--fresh"],
    }[name]


def run(name: str, a: argparse.Namespace, workdir: str) -> dict:
    with RigServer(rate=a.rate) as rig:
        pe = os.path.join(workdir, "pe")
        if not name.endswith("rerun"):  # a rerun: the prod_env (and its request cache) of the run before
            shutil.rmtree(pe, ignore_errors=True)
            shutil.rmtree(os.path.join(workdir, "out"), ignore_errors=True)
        write_prod_env(pe, rig.base_url)
        cmd = contender(name, a.parallel, a.rate) + ["--run-entries", *entries(a.runs), "-m", str(a.m),
                                                     "--local-path", "pe", "-o", "out", "--suite", "bench"]
        t0 = time.time()
        dispatched = None  # helm-run's line saying the runs are handed to the workers
        with open(os.path.join(workdir, f"{name}.log"), "w") as log:
            p = subprocess.Popen(cmd, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            assert p.stdout is not None
            for line in p.stdout:  # timestamped as it arrives: where the time before the first request goes
                now = time.time() - t0
                log.write(f"{now:8.3f} {line}")
                if dispatched is None and line.startswith("helm-run:") and "run(s) to do" in line:
                    dispatched = now
            p.wait()
        wall = time.time() - t0
        c = rig.counts
        arrivals = sorted(t for t, _ in c.log)
    runs_dir = os.path.join(workdir, "out", "runs", "bench")
    done = sum(1 for n in os.listdir(runs_dir) if os.path.isfile(os.path.join(runs_dir, n, "stats.json"))) \
        if os.path.isdir(runs_dir) else 0
    return {"name": name, "exit": p.returncode, "wall": wall, "requests": c.requests, "answered": c.answered,
            "throttled": c.throttled, "span": (arrivals[-1] - arrivals[0]) if arrivals else 0.0, "done": done,
            "floor": c.answered / a.rate, "dispatch": dispatched,
            "first": (arrivals[0] - t0) if arrivals else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("-m", type=int, default=10, help="max eval instances per run (simple1: about 25 requests)")
    ap.add_argument("--rate", type=float, default=10.0)
    ap.add_argument("--parallel", type=int, default=8)
    ap.add_argument("--contenders", nargs="+", default=["helm", "p8", "p8-limit", "rerun"])
    a = ap.parse_args()
    workdir = tempfile.mkdtemp(prefix="helmc-bench-governor-")
    print(f"{a.runs} runs, -m {a.m}, API at {a.rate:g} requests/s; logs in {workdir}")
    print(f"{'contender':12} {'exit':>4} {'done':>4} {'wall s':>7} {'requests':>8} {'429':>5} {'429 %':>6} "
          f"{'1st-last s':>10} {'floor s':>7} {'wall/(floor+5)':>14} {'dispatch s':>10} {'1st req s':>9} {'target s':>8}")
    for name in a.contenders:
        r = run(name, a, workdir)
        pct = 100.0 * r["throttled"] / r["requests"] if r["requests"] else 0.0
        ratio = r["wall"] / (r["floor"] + 5) if r["floor"] else float("nan")
        print(f"{r['name']:12} {r['exit']:4} {r['done']:4} {r['wall']:7.1f} {r['requests']:8} {r['throttled']:5} "
              f"{pct:6.1f} {r['span']:10.1f} {r['floor']:7.1f} {ratio:14.2f} {_s(r['dispatch']):>10} "
              f"{_s(r['first']):>9} {_s(target(name, r['floor']) if r['floor'] else None):>8}", flush=True)


def target(name: str, floor: float) -> float:
    """Issue 21's bound on the wall time: 1.15 x floor + 5 s with a limit, 1.5 x floor + 5 s without."""
    return (1.15 if name.endswith("limit") else 1.5) * floor + 5.0


def _s(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


if __name__ == "__main__":
    main()
