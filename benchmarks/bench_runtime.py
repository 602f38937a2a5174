"""Wall time of one suite: helmc's helm-run (2 workers, 1 worker) against HELM's own helm-run.

The suite (bench_runtime.conf) has 16 runs of HELM's simple1 scenario on a benchmark-only model
whose client answers like HELM's simple client after a fixed delay per call (standing for a
remote API's latency; see helmc_bench_plugin.py and prod_env/). Everything goes through HELM's
extension points: --local-path for the model deployment, --plugins for the client class.

Each contender gets a fresh output folder and a fresh copy of prod_env (so no request cache is
shared), the same flags, and is timed from process start to exit. One run each, printed as
ratios. Usage:

    python benchmarks/bench_runtime.py [--delay 1.0] [--max-eval-instances 10]
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
CONF = os.path.join(HERE, "bench_runtime.conf")
PLUGIN = os.path.join(HERE, "helmc_bench_plugin.py")
PROD_ENV = os.path.join(HERE, "prod_env")


def timed(name: str, cmd: list[str], workdir: str, env: dict[str, str]) -> float:
    log = os.path.join(workdir, f"{name}.log")
    t0 = time.perf_counter()
    with open(log, "w") as f:
        rc = subprocess.run(cmd, cwd=workdir, stdout=f, stderr=subprocess.STDOUT, env=env).returncode
    dt = time.perf_counter() - t0
    if rc != 0:
        sys.exit(f"{name} failed with exit code {rc}; see {log}")
    return dt


def count_runs(out: str) -> int:
    suite = os.path.join(out, "runs", "bench")
    return sum(1 for d in os.listdir(suite) if os.path.isfile(os.path.join(suite, d, "stats.json")))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--delay", type=float, default=1.0, help="seconds per simulated model call (default 1.0)")
    ap.add_argument("--max-eval-instances", type=int, default=10)
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    a = ap.parse_args()

    env = {**os.environ, "HELMC_BENCH_DELAY": str(a.delay), "NO_COLOR": "1"}
    tmp = tempfile.mkdtemp(prefix="helmc-bench-")
    common = ["--conf-paths", CONF, "--suite", "bench", "-m", str(a.max_eval_instances), "--plugins", PLUGIN]
    py = sys.executable
    contenders = {
        "helm": [py, "-m", "helm.benchmark.run"],
        "helmc-p1": [py, "-m", "helmc.commands.run", "--parallel-runs", "1"],
        "helmc-p2": [py, "-m", "helmc.commands.run", "--parallel-runs", "2"],
    }
    times: dict[str, float] = {}
    runs: dict[str, int] = {}
    try:
        for name, cmd in contenders.items():
            work = os.path.join(tmp, name)
            os.makedirs(work)
            shutil.copytree(PROD_ENV, os.path.join(work, "prod_env"))
            times[name] = timed(name, cmd + common + ["-o", "out", "--local-path", "prod_env"], work, env)
            runs[name] = count_runs(os.path.join(work, "out"))
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}")

    print(f"suite: {CONF} ({runs['helm']} runs), delay {a.delay}s per model call, "
          f"-m {a.max_eval_instances}, {os.cpu_count()} CPUs, python {sys.version.split()[0]}")
    for name in contenders:
        print(f"  {name:9s} {times[name]:7.2f}s  {runs[name]} runs")
    print(f"speed-up, 2 workers vs HELM: {times['helm'] / times['helmc-p2']:.2f}x (target >= 1.7x)")
    print(f"slow-down, 1 worker vs HELM: {(times['helmc-p1'] / times['helm'] - 1) * 100:+.1f}% (target <= +5%)")
    if len(set(runs.values())) != 1:
        print("error: the contenders completed different numbers of runs", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
