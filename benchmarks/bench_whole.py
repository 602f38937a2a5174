"""Whole processes, side by side with pyhocon, measured in CPU seconds (user+sys) and peak RSS.

    python benchmarks/bench_whole.py files FOLDER_OR_FILE... [--reps 3]
    python benchmarks/bench_whole.py scale [--sizes 10000 100000] [--reps 1]
    python benchmarks/bench_whole.py cold [--reps 11]
    python benchmarks/bench_whole.py extract HELM_CLONE OUT_FOLDER

`files`: every *.conf under the paths given (e.g. every conf file ever committed to HELM's
repository, extracted to a folder of your own), read in one process by each of:
pyhocon (HELM's parser: `ConfigFactory.parse_string` and each entry's description, priority
and groups), `helmc parse --format json`, `helm-check --format json`, `helmc fmt --check`.

`scale`: a generated conf of N entries of real run spec functions and models (the shared
corpus's entries, repeated), checked with `--models-to-run openai/gpt2` as a user would:
`helm-check --format json`, `helmc fmt --check`, `helmc plan --format json`,
`helmc parse --format json`, and pyhocon reading it (at most --pyhocon-max entries).

`cold`: `helm-check` on a one-entry file beside `python -c 'import lark, rich'`.

Each command is a fresh child process; its CPU time and peak RSS come from wait4's rusage, so
other work on a shared machine does not count against either side (wall time would). Each
figure is the minimum over --reps runs. Output goes to /dev/null, as a pipe to a file would.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_parse import CORPUS, corpus_entries, generated  # the same realistic inputs as the parse benchmark

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PY = sys.executable
# Compiled bytecode is kept and used, as on a user's install.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

# A file pyhocon cannot read (older HELM files have errors, or no `entries` list) is counted
# and skipped, as HELM would fail on it alone: it must not end pyhocon's run early (an uncaught
# exception exits 1, which looks like a finished run).
PYHOCON = """
import sys
from pyhocon import ConfigFactory
n = failed = 0
for p in sys.argv[1:]:
    try:
        with open(p) as f:
            conf = ConfigFactory.parse_string(f.read())
        n += len([(e.get("description"), e.get("priority", None), e.get("groups", None)) for e in conf.get("entries", [])])
    except Exception:
        failed += 1
print(n)
print(f"pyhocon could not read {failed} of {len(sys.argv) - 1} files", file=sys.stderr)
"""


def tool(name: str) -> list[str]:
    """The command `helmc` or `helm-check`: the installed script, or with --pythonpath another
    checkout's code (a tree laid out as the installed package) through `python -m helmc`."""
    if not ENV.get("PYTHONPATH"):
        return [str(BIN / name)]
    return [PY, "-m", "helmc"] + (["check"] if name == "helm-check" else [])


def run(cmd: list[str]) -> dict:
    """One child process: CPU seconds (user+sys), wall seconds and peak RSS (MB), exit code."""
    # stderr to a file, not a pipe: a child that writes more than a pipe holds (fmt's
    # diagnostics for many files) would wait for a reader while we wait for it to exit.
    with open(os.devnull, "wb") as null, tempfile.TemporaryFile() as errf:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=null, stderr=errf, cwd=tempfile.gettempdir(), env=ENV)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        errf.seek(0)
        err = errf.read().decode(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"{' '.join(cmd[:3])}...: exit {code}\n{err[-2000:]}")
    return {"cpu": ru.ru_utime + ru.ru_stime, "wall": wall, "rss_mb": ru.ru_maxrss / 1024, "exit": code,
            "stderr_tail": err.strip().splitlines()[-1] if err.strip() else ""}


def best(cmd: list[str], reps: int) -> dict:
    rs = [run(cmd) for _ in range(reps)]
    return {"cpu": min(r["cpu"] for r in rs), "wall": min(r["wall"] for r in rs),
            "rss_mb": max(r["rss_mb"] for r in rs), "exit": rs[-1]["exit"], "stderr_tail": rs[-1]["stderr_tail"]}


def conf_files(paths: list[str]) -> list[str]:
    out: list[str] = []
    for p in map(Path, paths):
        out.extend(sorted(str(f) for f in p.rglob("*.conf")) if p.is_dir() else [str(p)])
    return out


def row(label: str, anchor: dict, r: dict) -> str:
    return (f"{label:<34} {anchor['cpu']:8.2f} s {r['cpu']:8.3f} s {anchor['cpu'] / r['cpu']:7.1f}x"
            f"   peak {r['rss_mb']:6.0f} MB  (wall {r['wall']:.2f} s, exit {r['exit']})")


def files_cmd(a) -> dict:
    files = conf_files(a.paths)
    size = sum(os.path.getsize(f) for f in files)
    print(f"{len(files)} files, {size / 1e6:.2f} MB; CPU seconds (user+sys), min of {a.reps}")
    print(f"{'':<34} {'pyhocon':>10} {'helmc':>10} {'ratio':>8}")
    py = best([PY, "-c", PYHOCON, *files], a.reps)
    print(f"({py['stderr_tail']})")
    out = {"files": len(files), "bytes": size, "pyhocon": py}
    for key, label, cmd in (("parse", "helmc parse --format json", [*tool("helmc"), "parse", "--format", "json", *files]),
                            ("check", "helm-check --format json", [*tool("helm-check"), "--format", "json", *files]),
                            ("fmt", "helmc fmt --check", [*tool("helmc"), "fmt", "--check", *files])):
        out[key] = best(cmd, a.reps)
        print(row(label, py, out[key]), flush=True)
    return out


def scale_cmd(a) -> dict:
    lines = corpus_entries()
    out: dict = {}
    print(f"CPU seconds (user+sys) and peak RSS, min of {a.reps}; --models-to-run openai/gpt2")
    with tempfile.TemporaryDirectory() as tmp:
        for n in a.sizes:
            path = generated(n, lines, Path(tmp))
            size = path.stat().st_size
            f = str(path)
            cmds = {
                "check": [*tool("helm-check"), f, "--format", "json", "--models-to-run", "openai/gpt2"],
                "fmt": [*tool("helmc"), "fmt", "--check", f],
                "plan": [*tool("helmc"), "plan", "-c", f, "--format", "json", "--models-to-run", "openai/gpt2"],
                "parse": [*tool("helmc"), "parse", "--format", "json", f],
            }
            row_: dict = {"bytes": size}
            if n <= a.pyhocon_max:
                row_["pyhocon"] = best([PY, "-c", PYHOCON, f], a.reps)
            for key, cmd in cmds.items():
                row_[key] = best(cmd, a.reps)
            out[n] = row_
            py = row_.get("pyhocon")
            print(f"{n} entries ({size / 1e6:.1f} MB)" + (f": pyhocon {py['cpu']:.2f} s, {py['rss_mb']:.0f} MB" if py else ""))
            for key in cmds:
                r = row_[key]
                ratio = f"{py['cpu'] / r['cpu']:6.1f}x pyhocon" if py else ""
                print(f"  {key:<6} {r['cpu']:8.3f} s  peak {r['rss_mb']:6.0f} MB = {r['rss_mb'] * 2**20 / size:5.1f}x the file  {ratio}",
                      flush=True)
    sizes = sorted(out)
    for lo, hi in zip(sizes, sizes[1:]):
        growth = ", ".join(f"{k} {out[hi][k]['cpu'] / out[lo][k]['cpu']:.1f}x" for k in ("check", "fmt", "plan", "parse"))
        print(f"{hi} / {lo} entries: {growth}")
    return out


def cold_cmd(a) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one.conf"
        one.write_text('entries: [{description: "mmlu:subject=anatomy,model=openai/gpt2", priority: 1}]\n')
        base, check = [], []
        for _ in range(a.reps):  # alternated, so a busy spell hits both
            base.append(run([PY, "-c", "import lark, rich"]))
            check.append(run([*tool("helm-check"), str(one)]))
    b = min(r["cpu"] for r in base)
    c = min(r["cpu"] for r in check)
    bw = min(r["wall"] for r in base)
    cw = min(r["wall"] for r in check)
    print(f"cold start, min of {a.reps}: python -c 'import lark, rich' {b * 1000:.0f} ms CPU ({bw * 1000:.0f} ms wall); "
          f"helm-check one.conf {c * 1000:.0f} ms CPU ({cw * 1000:.0f} ms wall): {c / b:.2f}x CPU, {cw / bw:.2f}x wall")
    return {"import_lark_rich": b, "helm_check": c, "import_wall": bw, "check_wall": cw}


def extract_cmd(a) -> dict:
    """Every *.conf path ever committed to a clone of HELM's repository, each at the last
    version it had (the current one if it still exists), written to a folder of your own;
    files identical to one of the shared corpus are left out (the corpus is what helmc was
    built on, so held out means not in it)."""
    import hashlib

    git = ["git", "-C", a.repo]
    paths = sorted(set(subprocess.run([*git, "log", "--all", "--format=", "--name-only", "--", "*.conf"],
                                      capture_output=True, text=True, check=True).stdout.splitlines()) - {""})
    known = {hashlib.sha1(p.read_bytes()).hexdigest() for p in CORPUS.glob("*.conf")}
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    n = size = 0
    for path in paths:
        commit = subprocess.run([*git, "log", "--all", "-1", "--format=%H", "--diff-filter=AM", "--", path],
                                capture_output=True, text=True, check=True).stdout.strip()
        data = subprocess.run([*git, "show", f"{commit}:{path}"], capture_output=True, check=True).stdout
        if hashlib.sha1(data).hexdigest() in known:
            continue
        (out / path.replace("/", "__")).write_bytes(data)
        n += 1
        size += len(data)
    print(f"{n} files, {size / 1e6:.2f} MB in {out} ({len(paths)} paths ever committed)")
    return {"files": n, "bytes": size}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    f = sub.add_parser("files")
    f.add_argument("paths", nargs="+")
    f.add_argument("--reps", type=int, default=3)
    s = sub.add_parser("scale")
    s.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    s.add_argument("--pyhocon-max", type=int, default=10000)
    s.add_argument("--reps", type=int, default=1)
    x = sub.add_parser("extract", help="write the held-out set from a clone of HELM's repository")
    x.add_argument("repo", help="a clone of github.com/stanford-crfm/helm (all branches)")
    x.add_argument("out", help="the folder to write to (outside this repository)")
    c = sub.add_parser("cold")
    c.add_argument("--reps", type=int, default=11)
    ap.add_argument("--pythonpath", help="run the helmc code under this folder (a tree laid out as the package "
                    "helmc/, helmc/compiler/, ...) instead of the installed one, e.g. a baseline commit")
    a = ap.parse_args()
    if a.pythonpath:
        ENV["PYTHONPATH"] = a.pythonpath
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs, python {sys.version.split()[0]}")
    result = {"files": files_cmd, "scale": scale_cmd, "cold": cold_cmd, "extract": extract_cmd}[a.what](a)
    if os.environ.get("BENCH_JSON"):
        Path(os.environ["BENCH_JSON"]).write_text(json.dumps(result, indent=2))
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
