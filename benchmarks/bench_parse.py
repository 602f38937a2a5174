"""Parsing and checking, side by side with HELM's own reading, in one run.

    /work/venv/bin/python benchmarks/bench_parse.py [--sizes 1000 10000 100000] [--reps 3]

Pairs measured on the same files:
- pyhocon (HELM's parser: parse_string + the entries' description/priority/groups)
  vs `helmc parse` in-process (read + parse + entries, as the command builds its JSON);
- HELM's read-and-construct path (read_run_entries + parse_object_spec on each description)
  vs helm-check in-process (everything it does, catalog checks included, JSON output);
on the shared corpus (../shared/corpus/helm-conf) and on generated files of N entries.

Each measurement runs in a fresh child process (`--one`), so peak memory (ru_maxrss) is that
tool's alone; imports happen before the clock starts. Times are CPU seconds of that process
(`time.process_time`, the minimum over repetitions), so that a busy machine does not skew a side. Cold start is the wall time of whole
processes, median of several. Numbers are from one run on one machine: read them as ratios.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The shared corpus beside the checkout (a worktree sits one folder deeper).
CORPUS = next((p / "shared" / "corpus" / "helm-conf" for p in REPO.parents if (p / "shared" / "corpus" / "helm-conf").is_dir()),
              REPO.parent / "shared" / "corpus" / "helm-conf")
PY = sys.executable


# ------------------------------------------------------------------ one tool, in a child


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _pyhocon(paths: list[str]) -> int:
    from pyhocon import ConfigFactory

    n = 0
    for p in paths:
        with open(p) as f:
            conf = ConfigFactory.parse_string(f.read())
        out = [(e.get("description"), e.get("priority", None), e.get("groups", None)) for e in conf.get("entries", [])]
        n += len(out)
    return n


def _helmc_parse(paths: list[str]) -> int:
    from helmc.commands.parse import parse_paths  # what `helmc parse` runs, before printing

    files, _ = parse_paths(paths)
    return sum(len(f["entries"]) for f in files)


def _helm_read(paths: list[str]) -> int:
    from helm.benchmark.presentation.run_entry import read_run_entries
    from helm.common.object_spec import parse_object_spec

    n = 0
    for p in paths:  # one file at a time, as helm-run's --conf-paths reads them
        for e in read_run_entries([p]).entries:
            parse_object_spec(e.description)
            n += 1
    return n


def _helm_check(paths: list[str], *extra: str) -> int:
    from helmc.cli import helm_check_main

    out = io.StringIO()
    with redirect_stdout(out):
        helm_check_main([*paths, "--format", "json", *extra])
    return len(json.loads(out.getvalue()))  # diagnostics


TOOLS = {
    "pyhocon": _pyhocon,
    "helmc-parse": _helmc_parse,
    "helm-read": _helm_read,
    "helm-check": _helm_check,
    "helm-check-no-catalog": lambda paths: _helm_check(paths, "--no-catalog"),
}


def _warm(tool: str) -> None:
    """Imports and one-time setup (grammar and catalog loading) before the clock starts."""
    tiny = Path(tempfile.mkdtemp()) / "warm.conf"
    tiny.write_text('entries: [{description: "mmlu:subject=anatomy,model=openai/gpt2", priority: 1}]\n')
    TOOLS[tool]([str(tiny)])


def run_one(tool: str, paths: list[str], reps: int) -> dict:
    import logging

    logging.disable(logging.CRITICAL)
    _warm(tool)
    base = _maxrss_mb()
    times, walls = [], []
    count = 0
    for _ in range(reps):
        with open(os.devnull, "w") as devnull, redirect_stdout(devnull):  # HELM's hlog prints
            t, w = time.process_time(), time.perf_counter()
            count = TOOLS[tool](paths)
            times.append(time.process_time() - t)
            walls.append(time.perf_counter() - w)
    # CPU seconds of this one-threaded process: unlike wall time, they do not grow when other
    # work shares the machine. The wall time is kept beside them.
    return {"tool": tool, "seconds": min(times), "wall_seconds": min(walls), "count": count,
            "rss_base_mb": base, "rss_peak_mb": _maxrss_mb()}


def measure(tool: str, paths: list[str], reps: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(paths, f)
    proc = subprocess.run(
        [PY, __file__, "--one", tool, "--paths-file", f.name, "--reps", str(reps)],
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),  # no prod_env here: the shipped catalog, as on a fresh machine
    )
    os.unlink(f.name)
    if proc.returncode != 0:
        return {"tool": tool, "error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ inputs


def corpus_entries() -> list[str]:
    """The corpus's entries as conf lines, reused to build large files of realistic entries."""
    from helmc.compiler.diagnostics import DiagnosticSink
    from helmc.compiler.syntax.frontend import load_entries

    lines = []
    for e in load_entries([str(CORPUS)], [], DiagnosticSink()):
        if e.description is None:
            continue
        text = json.dumps(e.description.text)
        prio = f", priority: {e.priority}" if e.priority is not None else ""
        groups = f", groups: {json.dumps(list(e.groups))}" if e.groups else ""
        lines.append(f"  {{description: {text}{prio}{groups}}}")
    return lines


def generated(n: int, lines: list[str], folder: Path) -> Path:
    path = folder / f"entries_{n}.conf"
    with path.open("w") as f:
        f.write("# generated by benchmarks/bench_parse.py from the corpus's entries\nentries: [\n")
        for i in range(n):
            f.write(lines[i % len(lines)] + "\n")
        f.write("]\n")
    return path


def _typo(word: str, rng) -> str:
    """One keyboard slip: two neighbouring letters swapped, or one dropped or doubled."""
    if len(word) < 3:
        return word + word[-1:]
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("swap", "drop", "double"))
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


def with_mistakes(lines: list[str], n: int, share: float, folder: Path, seed: int = 0) -> Path:
    """A file of n corpus entries where `share` of them carry one typo, in a model name, a run
    spec function name or an argument name: what an old or hand-edited conf file looks like."""
    import random
    import re

    rng = random.Random(seed)
    spots = (re.compile(r"(?<=model=)[^,\"]+"), re.compile(r'(?<=description: ")[^:"]+'), re.compile(r"(?<=[:,])[a-z_]+(?==)"))
    path = folder / f"mistakes_{n}_{seed}.conf"
    with path.open("w") as f:
        f.write("# generated by benchmarks/bench_parse.py: corpus entries with typos\nentries: [\n")
        for i in range(n):
            line = lines[i % len(lines)]
            if rng.random() < share:
                matches = [m for rx in spots for m in rx.finditer(line)]
                if matches:
                    m = rng.choice(matches)
                    line = line[: m.start()] + _typo(m.group(), rng) + line[m.end() :]
            f.write(line + "\n")
        f.write("]\n")
    return path


def wall(cmd: list[str], reps: int) -> float:
    """The median wall time of a whole process, run `reps` times."""
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, cwd=tempfile.gettempdir())
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def cold_start(reps: int, small: Path) -> dict:
    helm_check = str(Path(PY).parent / "helm-check")
    base = wall([PY, "-c", "import lark, rich"], reps)
    full = wall([helm_check, str(small)], reps)
    bare = wall([helm_check, "--no-catalog", str(small)], reps)
    return {"import_lark_rich": base, "helm_check": full, "helm_check_no_catalog": bare}


# ------------------------------------------------------------------ report


def _fmt_row(label: str, a: dict, b: dict, entries: int) -> str:
    if "error" in a or "error" in b:
        return f"{label:<34} {a.get('error', '')} {b.get('error', '')}"
    ratio = a["seconds"] / b["seconds"] if b["seconds"] else float("inf")
    per_a = a["seconds"] / entries * 1e6
    per_b = b["seconds"] / entries * 1e6
    return (
        f"{label:<34} {a['seconds']:9.3f} s {b['seconds']:9.3f} s {ratio:7.1f}x"
        f" {per_a:9.1f} {per_b:8.1f} us/entry  peak {a['rss_peak_mb']:7.0f} / {b['rss_peak_mb']:6.0f} MB"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000, 100000])
    ap.add_argument("--reps", type=int, default=3, help="repetitions for the corpus (min is kept)")
    ap.add_argument("--helm-max", type=int, default=100000, help="skip pyhocon/HELM above this many entries")
    ap.add_argument("--check-max", type=int, default=None,
                    help="skip helm-check above this many entries (its plan of every model grows its memory)")
    ap.add_argument("--cold-reps", type=int, default=7)
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--paths-file", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        paths = json.loads(Path(args.paths_file).read_text())
        print(json.dumps(run_one(args.one, paths, args.reps)))
        return 0
    if not CORPUS.is_dir():
        print(f"no corpus at {CORPUS}", file=sys.stderr)
        return 2
    files = [str(p) for p in sorted(CORPUS.glob("*.conf"))]
    results: dict = {}
    print(f"python {sys.version.split()[0]}; corpus: {len(files)} files")
    header = f"{'':<34} {'HELM side':>11} {'helmc':>11} {'ratio':>8} {'HELM':>9} {'helmc':>8}"
    print(header)
    r_py = measure("pyhocon", files, args.reps)
    r_hp = measure("helmc-parse", files, args.reps)
    n_corpus = r_hp["count"]
    print(_fmt_row(f"corpus parse ({n_corpus} entries)", r_py, r_hp, n_corpus))
    r_hr = measure("helm-read", files, args.reps)
    r_hc = measure("helm-check", files, args.reps)
    r_hn = measure("helm-check-no-catalog", files, args.reps)
    print(_fmt_row("corpus read+construct vs check", r_hr, r_hc, n_corpus))
    print(_fmt_row("  ... vs check --no-catalog", r_hr, r_hn, n_corpus))
    print(_fmt_row("pyhocon alone vs helm-check", r_py, r_hc, n_corpus))
    results["corpus"] = {"pyhocon": r_py, "helmc_parse": r_hp, "helm_read": r_hr, "helm_check": r_hc, "helm_check_no_catalog": r_hn}

    lines = corpus_entries()
    with tempfile.TemporaryDirectory() as tmp:
        # The mixed set: the clean corpus and files full of mistakes (did-you-mean for each).
        mixed = files + [str(with_mistakes(lines, len(lines), 0.3, Path(tmp), seed)) for seed in (1, 2, 3, 4)]
        m_py = measure("pyhocon", mixed, args.reps)
        m_hp = measure("helmc-parse", mixed, args.reps)
        m_hc = measure("helm-check", mixed, args.reps)
        n_mixed = m_hp["count"]
        print(_fmt_row(f"mixed set parse ({n_mixed} entries)", m_py, m_hp, n_mixed))
        print(_fmt_row("mixed set, pyhocon alone vs helm-check", m_py, m_hc, n_mixed))
        results["mixed"] = {"pyhocon": m_py, "helmc_parse": m_hp, "helm_check": m_hc, "diagnostics": m_hc["count"]}
        for n in args.sizes:
            path = [str(generated(n, lines, Path(tmp)))]
            row: dict = {}
            row["helmc_parse"] = measure("helmc-parse", path, 1)
            if args.check_max is None or n <= args.check_max:
                row["helm_check"] = measure("helm-check", path, 1)
            if n <= args.helm_max:
                row["pyhocon"] = measure("pyhocon", path, 1)
                row["helm_read"] = measure("helm-read", path, 1)
                print(_fmt_row(f"{n} entries: parse", row["pyhocon"], row["helmc_parse"], n))
                if "helm_check" in row:
                    print(_fmt_row(f"{n} entries: read+construct vs check", row["helm_read"], row["helm_check"], n))
            else:
                hp, hc = row["helmc_parse"], row.get("helm_check")
                print(f"{n} entries: helmc parse {hp['seconds']:.3f} s, peak {hp['rss_peak_mb']:.0f} MB; "
                      + (f"helm-check {hc['seconds']:.3f} s, peak {hc['rss_peak_mb']:.0f} MB" if hc else "helm-check skipped (--check-max)"))
            results[str(n)] = row
    print()
    print("targets:")
    ratio = r_py["seconds"] / r_hp["seconds"]
    print(f"  corpus parse vs pyhocon: {ratio:.1f}x (target >= 25x)")
    ratio3 = r_py["seconds"] / r_hc["seconds"]
    print(f"  helm-check (catalog included) vs pyhocon alone, corpus: {ratio3:.1f}x (target >= 15x)")
    mx = results["mixed"]
    print(f"  mixed set ({mx['diagnostics']} diagnostics): helmc parse {mx['pyhocon']['seconds'] / mx['helmc_parse']['seconds']:.1f}x"
          f" (target >= 25x), helm-check {mx['pyhocon']['seconds'] / mx['helm_check']['seconds']:.1f}x (target >= 15x) vs pyhocon alone")
    if "10000" in results and "100000" in results:
        for key in ("helmc_parse", "helm_check"):
            if key not in results["100000"]:
                continue
            a, b = results["10000"][key], results["100000"][key]
            print(f"  {key}: 100k / 10k = {b['seconds'] / a['seconds']:.1f}x (target <= 12x); "
                  f"peak at 100k {b['rss_peak_mb']:.0f} MB (target <= 1024 MB)")
    small = REPO / "examples" / "quickstart.conf"
    cs = cold_start(args.cold_reps, small)
    results["cold_start"] = cs
    print(f"  cold start, median of {args.cold_reps}: python -c 'import lark, rich' {cs['import_lark_rich'] * 1000:.0f} ms; "
          f"helm-check {small.name} {cs['helm_check'] * 1000:.0f} ms ({cs['helm_check'] / cs['import_lark_rich']:.2f}x, target <= 2x); "
          f"--no-catalog {cs['helm_check_no_catalog'] * 1000:.0f} ms ({cs['helm_check_no_catalog'] / cs['import_lark_rich']:.2f}x)")
    out = os.environ.get("BENCH_JSON")
    if out:
        Path(out).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
