"""Wall time of one suite: helmc's helm-run (local engine, Ray engine) against HELM's own
sequential helm-run, side by side, as ratios.

The default suite (bench_runtime_8.conf) has 8 runs of HELM's simple1 scenario on a
benchmark-only model whose client answers like HELM's simple client after a fixed delay per
call (a remote API's latency; see helmc_bench_plugin.py and prod_env/; the delay is a sleep and
costs no CPU). Everything goes through HELM's extension points: --local-path for the model
deployment, --plugins for the client class.

Each contender gets a fresh output folder and a fresh copy of prod_env (no request cache is
shared), the same flags, and is timed from process start to exit; each is run --repeat times
(the machine is shared: the median and the range are printed). For helmc, its output lines are
timestamped as they arrive, which splits its time into start-up (Python, imports, compile,
HELM setup and build, until the first run is dispatched), the runs, and the end (workers
stopped, summary printed). The limit of a parallel helm-run is the suite's CPU seconds (those
HELM's sequential helm-run used) divided by the cores, plus helm-run's start-up. Usage:

    python benchmarks/bench_runtime.py [--delay 0.1] [-m 10] [-n 4] [--repeat 3] [--contenders helm p8 ray4]

`--latency-suite` measures issue 25's suite instead (bench_runtime_latency.conf: simple_mcqa and
simple_classification, each plain, max_train_instances=zero, =one and eval_split=test), with
`-m 100 --disable-cache`, on the same model (HELM's SimpleClient sleeping --delay per request):

    python benchmarks/bench_runtime.py --latency-suite --repeat 3 --contenders helm p8
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGIN = os.path.join(HERE, "helmc_bench_plugin.py")
PROD_ENV = os.path.join(HERE, "prod_env")
OURS = [sys.executable, "-c", "from helmc.cli import helm_run_entry; helm_run_entry()"]  # the helm-run command
CONTENDERS = {
    "helm": [sys.executable, "-m", "helm.benchmark.run"],
    "p1": OURS + ["--parallel-runs", "1"],
    "p2": OURS + ["--parallel-runs", "2"],
    "p8": OURS + ["--parallel-runs", "8"],
    "ray4": OURS + ["--engine", "ray", "--parallel-runs", "4"],
    "slurm4": OURS + ["--engine", "slurm", "--slurm-cluster", "local", "--parallel-runs", "4"],
}


def timed(name: str, cmd: list[str], workdir: str, env: dict[str, str]) -> dict[str, float]:
    """Wall time, CPU time of the process tree that was waited for, and helmc's phases."""
    log = os.path.join(workdir, f"{name}.log")
    t0 = time.perf_counter()
    first = last = None
    with open(log, "w") as f:
        p = subprocess.Popen(cmd, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
        assert p.stdout is not None
        for line in p.stdout:
            now = time.perf_counter() - t0
            f.write(f"{now:9.3f} {line}")
            if first is None and line.startswith("helm-run:") and "run(s) to do" in line:
                first = now
            if "] done " in line or "] FAILED " in line:
                last = now
        _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    rc = os.waitstatus_to_exitcode(status)
    if rc != 0:
        sys.exit(f"{name} failed with exit code {rc}; see {log}")
    out = {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime}
    if first is not None and last is not None:
        out.update(startup=first, runs=last - first, end=wall - last)
    return out


def count_runs(out: str, suite: str) -> int:
    folder = os.path.join(out, "runs", suite)
    return sum(1 for d in os.listdir(folder) if os.path.isfile(os.path.join(folder, d, "stats.json")))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--conf", default=os.path.join(HERE, "bench_runtime_8.conf"))
    ap.add_argument("--delay", type=float, default=0.1, help="seconds per simulated model call (default 0.1)")
    ap.add_argument("-m", "--max-eval-instances", type=int, default=10)
    ap.add_argument("-n", "--num-threads", type=int, default=4,
                    help="HELM's -n: concurrent model calls inside one run (default 4, HELM's default)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--contenders", nargs="+", default=["helm", "p8", "ray4"], choices=list(CONTENDERS))
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("--latency-suite", action="store_true",
                    help="issue 25's suite: bench_runtime_latency.conf, -m 100, --disable-cache")
    a = ap.parse_args()
    if a.latency_suite:
        a.conf = os.path.join(HERE, "bench_runtime_latency.conf")
        a.max_eval_instances = 100

    env = {**os.environ, "HELMC_BENCH_DELAY": str(a.delay), "NO_COLOR": "1", "COLUMNS": "200"}
    tmp = tempfile.mkdtemp(prefix="helmc-bench-")
    common = ["--conf-paths", a.conf, "--suite", "bench", "-m", str(a.max_eval_instances), "--plugins", PLUGIN,
              "-n", str(a.num_threads)] + (["--disable-cache"] if a.latency_suite else [])
    results: dict[str, list[dict[str, float]]] = {n: [] for n in a.contenders}
    runs: dict[str, int] = {}
    try:
        for i in range(a.repeat):  # interleaved, so that a noisy minute hits every contender
            for name in a.contenders:
                work = os.path.join(tmp, f"{name}-{i}")
                os.makedirs(work)
                shutil.copytree(PROD_ENV, os.path.join(work, "prod_env"))
                results[name].append(timed(name, CONTENDERS[name] + common + ["-o", "out", "--local-path", "prod_env"],
                                           work, env))
                runs[name] = count_runs(os.path.join(work, "out"), "bench")
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}")

    cores = os.cpu_count() or 1
    print(f"suite: {a.conf} ({max(runs.values())} runs), delay {a.delay}s per model call, -m {a.max_eval_instances}, -n {a.num_threads}, "
          f"{cores} CPUs, python {sys.version.split()[0]}, {a.repeat} repeats (median [min-max])")

    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name])

    def rng(name: str, key: str) -> str:
        vals = [r[key] for r in results[name]]
        return f"{statistics.median(vals):6.2f}s [{min(vals):.2f}-{max(vals):.2f}]"

    for name in a.contenders:
        phases = ""
        if all("startup" in r for r in results[name]):
            phases = (f"  start-up {rng(name, 'startup')}, runs {rng(name, 'runs')}, end {rng(name, 'end')}")
        print(f"  {name:7s} wall {rng(name, 'wall')}  cpu {rng(name, 'cpu')}  {runs[name]} runs{phases}")
    if "helm" in results:
        base = med("helm", "wall")
        for name in a.contenders:
            if name == "helm":
                continue
            ratios = sorted(base / r["wall"] for r in results[name])
            print(f"speed-up {name} vs HELM: {base / med(name, 'wall'):.2f}x (per repeat {', '.join(f'{x:.2f}' for x in ratios)})")
            if "startup" in results[name][0]:
                limit_wall = med("helm", "cpu") / cores + med(name, "startup")
                print(f"    limit: HELM's CPU {med('helm', 'cpu'):.2f}s / {cores} cores + {name}'s start-up "
                      f"{med(name, 'startup'):.2f}s = {limit_wall:.2f}s, i.e. {base / limit_wall:.2f}x; "
                      f"reached {limit_wall / med(name, 'wall') * 100:.0f}% of it")
    if len(set(runs.values())) != 1:
        print("error: the contenders completed different numbers of runs", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
