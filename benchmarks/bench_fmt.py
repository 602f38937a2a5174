"""`helmc fmt` beside `helmc parse` on the shared corpus, and on a large generated file.

    .venv/bin/python benchmarks/bench_fmt.py [--reps 5] [--entries 10000]

In-process (imports and grammar loading before the clock; CPU seconds, min of reps):
- parse: what `helmc parse` runs before printing (fast reader where it can);
- fmt: what `helmc fmt --check` runs per file (read, lossless tree, IR from it, layout, and
  the re-read that checks the meaning did not change).
Whole processes (wall, median of reps): `helmc parse FILES` and `helmc fmt --check FILES`.
Numbers are from one run on one machine: read them as ratios.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from bench_parse import wall  # the same whole-process timing as the parse benchmark

REPO = Path(__file__).resolve().parents[1]
# The shared corpus beside the checkout (a worktree sits one folder deeper).
CORPUS = next((p / "shared" / "corpus" / "helm-conf" for p in REPO.parents if (p / "shared" / "corpus" / "helm-conf").is_dir()),
              REPO.parent / "shared" / "corpus" / "helm-conf")
HELMC = str(Path(sys.executable).parent / "helmc")


def _cpu(fn, reps: int) -> float:
    fn()  # warm: imports, grammar, caches
    best = float("inf")
    for _ in range(reps):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return best


def measure(paths: list[str], reps: int) -> dict:
    from helmc.commands.parse import parse_paths
    from helmc.compiler.syntax.conf.format import format_source
    from helmc.compiler.collector import gc_paused
    from helmc.compiler.source import SourceFile

    texts = [(p, Path(p).read_text(encoding="utf-8")) for p in paths]

    def parse() -> None:
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
            parse_paths(paths)

    def fmt() -> None:
        with gc_paused():
            for p, text in texts:
                if format_source(SourceFile(p, text)).text is None:
                    raise SystemExit(f"{p}: not formatted (errors)")

    return {
        "parse_cpu": _cpu(parse, reps),
        "fmt_cpu": _cpu(fmt, reps),
        "parse_wall": wall([HELMC, "parse", *paths], reps),
        "fmt_wall": wall([HELMC, "fmt", "--check", *paths], reps),
    }


def _row(label: str, r: dict) -> str:
    return (
        f"{label:<28} in-process parse {r['parse_cpu']:7.3f} s  fmt {r['fmt_cpu']:7.3f} s"
        f" ({r['fmt_cpu'] / r['parse_cpu']:.1f}x);  processes parse {r['parse_wall']:6.3f} s"
        f"  fmt --check {r['fmt_wall']:6.3f} s ({r['fmt_wall'] / r['parse_wall']:.1f}x)"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--entries", type=int, default=10000, help="size of the generated file")
    args = ap.parse_args()
    if not CORPUS.is_dir():
        print(f"no corpus at {CORPUS}", file=sys.stderr)
        return 2
    files = [str(p) for p in sorted(CORPUS.glob("*.conf"))]
    results = {"corpus": measure(files, args.reps)}
    print(f"python {sys.version.split()[0]}; corpus: {len(files)} files")
    print(_row("corpus", results["corpus"]))
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_parse import corpus_entries, generated

    with tempfile.TemporaryDirectory() as tmp:
        big = str(generated(args.entries, corpus_entries(), Path(tmp)))
        results["generated"] = measure([big], max(1, args.reps // 2))
        print(_row(f"{args.entries} entries, one file", results["generated"]))
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
