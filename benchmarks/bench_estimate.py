"""Wall time of knowing a suite's requests and tokens: HELM's own `helm-run --dry-run`
(sequential; its stats are what `scripts/estimate_cost.py` sums) against `helmc plan --estimate`,
first with an empty memo (HELM's dry run of every run, --parallel-runs N workers) and then again
on the unchanged plan (remembered: no HELM import). The numbers must agree: the script checks
that helmc's totals equal the sums of HELM's stats.json files before printing any time.

The suite is the offline example (examples/quickstart.conf: HELM's simple1 on simple/model1,
9 runs) with -m N; each contender gets a fresh output folder and memo, is timed from process
start to exit, --repeat times (the machine is shared: median and range). Usage:

    python benchmarks/bench_estimate.py [-m 50] [--parallel-runs 2] [--repeat 3] [--conf FILE | --grid N]

--grid N writes a suite of N runs instead: simple1 on simple/model1 over the expanders that
change requests (max_train_instances x num_train_trials x num_outputs), to show how the
remembered estimate grows with the suite's size.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
HELM_RUN = [sys.executable, "-m", "helm.benchmark.run"]  # HELM's own helm-run
HELMC = [sys.executable, "-m", "helmc"]
STATS = {"num_requests": "requests", "num_prompt_tokens": "prompt_tokens",
         "max_num_completion_tokens": "max_completion_tokens"}


def timed(cmd: list[str], cwd: str, env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system of the process and every process it waited for:
    its workers) and standard output of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, r.stdout


def helm_totals(out: str, suite: str) -> dict[str, int]:
    totals = dict.fromkeys(STATS.values(), 0)
    runs = os.path.join(out, "runs", suite)
    for name in os.listdir(runs):
        path = os.path.join(runs, name, "stats.json")
        if os.path.isfile(path):
            for s in json.load(open(path)):
                if s["name"]["name"] in STATS and "perturbation" not in s["name"]:
                    totals[STATS[s["name"]["name"]]] += s["sum"]
    return totals


def grid_conf(n: int) -> str:
    """A conf file of n distinct simple1 runs (each a different number of requests or tokens)."""
    lines = []
    for i in range(n):
        k, t, o = i % 20, 1 + (i // 20) % 4, 1 + i // 80
        lines.append(f'  {{description: "simple1:model=simple/model1,max_train_instances={k},'
                     f'num_train_trials={t},num_outputs={o}", priority: 1}}')
    fd, path = tempfile.mkstemp(prefix="bench-estimate-grid-", suffix=".conf")
    with os.fdopen(fd, "w") as f:
        f.write("entries: [\n" + "\n".join(lines) + "\n]\n")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-m", "--max-eval-instances", type=int, default=50)
    ap.add_argument("--parallel-runs", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--conf", default=os.path.join(ROOT, "examples", "quickstart.conf"))
    ap.add_argument("--grid", type=int, default=0, metavar="N", help="a generated suite of N runs instead of --conf")
    a = ap.parse_args()
    if a.grid:
        a.conf = grid_conf(a.grid)
    flags = ["--conf-paths", a.conf, "-m", str(a.max_eval_instances)]
    labels = ("helm-run --dry-run", "estimate, first", "estimate, again")
    times: dict[str, list[float]] = {k: [] for k in labels}
    cpus: dict[str, list[float]] = {k: [] for k in labels}
    ratios: list[float] = []  # first estimate against HELM's dry run within each repeat
    for i in range(a.repeat):
        with tempfile.TemporaryDirectory(prefix="bench-estimate-") as tmp:
            env = {**os.environ, "NO_COLOR": "1", "HELMC_CACHE_DIR": os.path.join(tmp, "memo")}
            wall, cpu, _ = timed(HELM_RUN + flags + ["--dry-run", "--suite", "b", "-o", "out"], tmp, env)
            times[labels[0]].append(wall)
            cpus[labels[0]].append(cpu)
            want = helm_totals(os.path.join(tmp, "out"), "b")
            cmd = HELMC + ["plan", *flags, "--estimate", "--format", "json", "--parallel-runs", str(a.parallel_runs)]
            for label in labels[1:]:
                wall, cpu, out = timed(cmd, tmp, env)
                got = {k: json.loads(out)["estimate"][k] for k in STATS.values()}
                if got != want:
                    sys.exit(f"{label}: helmc {got} != HELM {want}")
                times[label].append(wall)
                cpus[label].append(cpu)
        ratios.append(times[labels[0]][-1] / times[labels[1]][-1])
        print(f"repeat {i + 1} (load {os.getloadavg()[0]:.2f}): "
              + ", ".join(f"{k} {times[k][-1]:.2f} s ({cpus[k][-1]:.2f} s CPU)" for k in labels)
              + f"; first {ratios[-1]:.1f}x", flush=True)
    base = statistics.median(times[labels[0]])
    suite = f"--grid {a.grid}" if a.grid else os.path.relpath(a.conf, ROOT)
    print(f"\nsuite: {suite} -m {a.max_eval_instances}; totals {want}")
    print(f"{'contender':<22}{'median s':>10}{'range s':>16}{'vs HELM':>10}{'CPU s':>8}")
    for k in labels:
        med = statistics.median(times[k])
        print(f"{k:<22}{med:>10.2f}{f'{min(times[k]):.2f}-{max(times[k]):.2f}':>16}{base / med:>9.1f}x"
              f"{statistics.median(cpus[k]):>8.2f}")
    print(f"first estimate against HELM's dry run, repeat by repeat: median {statistics.median(ratios):.1f}x "
          f"(range {min(ratios):.1f}-{max(ratios):.1f}x)")


if __name__ == "__main__":
    main()
