"""The share of one-typo mutants that `helm-check --fix` restores byte for byte.

    .venv/bin/python benchmarks/fix_share.py [CONF_OR_FOLDER...] [--per-entry N] [--seed S]

Every distinct entry of the given conf files (default: ../shared/corpus/helm-conf) is
mutated N times (default 1), each mutant one typo in one name: the run spec function, an
argument, a run expander's name or value, a model or deployment. Prints, per kind and in
all, how many mutants were unique (the original is the only known name one typo away), how
many of those --fix restored, the share, and wrong fixes (a result that is neither the
original nor the mutant). See tests/mutation.py for the method.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from mutation import KINDS, entry_texts, run, wrap  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=[str(ROOT.parent / "shared" / "corpus" / "helm-conf")])
    parser.add_argument("--per-entry", type=int, default=1, help="mutants per entry (default 1)")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--failures", action="store_true", help="list the unique mutants not restored")
    args = parser.parse_args()

    from helmc.compiler.catalog.catalog import load_catalog
    from helmc.compiler.syntax.frontend import conf_files_under

    catalog = load_catalog()
    texts = [wrap(e) for path in conf_files_under(args.paths) for e in dict.fromkeys(entry_texts(Path(path)))]
    started = time.perf_counter()
    stats = run(texts, catalog, random.Random(args.seed), per_text=args.per_entry)
    took = time.perf_counter() - started
    print(f"{len(texts)} entries, {stats.mutants} mutants ({stats.silent} silent: the typo made another valid name), {took:.1f} s")
    print(f"{'kind':<16}{'unique':>8}{'restored':>10}{'share':>8}")
    for kind in KINDS:
        u, r = stats.by_kind[(kind, "unique")], stats.by_kind[(kind, "restored")]
        print(f"{kind:<16}{u:>8}{r:>10}{(r / u if u else 1):>8.3f}")
    print(f"{'all':<16}{stats.unique:>8}{stats.restored_unique:>10}{stats.share:>8.3f}")
    reported = stats.mutants - stats.silent
    print(f"restored among all reported mutants: {stats.restored}/{reported} = {stats.restored / max(reported, 1):.3f}")
    print(f"wrong fixes: {stats.wrong}")
    if args.failures:
        for kind, what, got in stats.failures:
            print(f"  not restored: {kind}: {what} (left `{got}`)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
