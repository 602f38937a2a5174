"""The run journal: helmc 0.1's journal.json (the whole file rewritten and fsynced on every state
change) against the append-only journal.jsonl, at 10^3, 10^4 and 10^5 state changes.

Both are driven the way the runtime drives them: a suite of R runs is planned (R pending
records, one batched save), then each run is started and finished (two changes per run), so a
suite of n state changes has R = n/2 runs. Everything happens on a real file in a temporary
folder on the same disk as the default output (use --dir to choose), with each journal's own
fsync policy: 0.1 fsyncs the file and its folder on every change; the log fdatasyncs terminal
states as a group commit (at most one fdatasync per 0.2 s). The log is also timed with an
fdatasync on every terminal change (no group commit), for a like-for-like ratio.

Per size, the new journal runs the whole suite; it reports the time per change over the first
and the last 10% of changes (flat means O(1)), the bytes appended per change, and the time to
reopen (compact) the finished journal. The old journal's cost grows with the records already
in it; a whole suite at 10^5 changes would rewrite about 400 GB, so at each size it is
measured over `--sample` changes (each rewrites all R records, since all are planned up front,
so every change of a suite costs the same), and its total time and bytes are the exact
sum of its file sizes over the suite, computed from the measured bytes per record. Usage:

    python benchmarks/bench_journal.py [--sizes 1000 10000 100000] [--sample 50] [--dir DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from enum import Enum

from helmc.runtime import journal as journal_module
from helmc.runtime.journal import Journal, RunState, fsync_dir


# ------------------------------------------------------------------------------ helmc 0.1


class OldState(str, Enum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class OldRecord:
    name: str
    fingerprint: str
    state: OldState
    attempts: int = 0
    error: str | None = None
    duration: float | None = None
    updated: float = 0.0


class OldJournal:
    """helmc 0.1's runtime/journal.py (commit 3e6c18c), its write path verbatim: every change
    serialises every record, writes a temporary file, fsyncs it, renames it, fsyncs the folder."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.records: dict[str, OldRecord] = {}

    def set(self, name: str, fingerprint: str, state: OldState, *, duration: float | None = None,
            save: bool = True) -> None:
        old = self.records.get(name)
        attempts = (old.attempts if old else 0) + (1 if state is OldState.RUNNING else 0)
        self.records[name] = OldRecord(name, fingerprint, state, attempts, None, duration, time.time())
        if save:
            self.save()

    def to_json(self) -> dict:
        runs = {}
        for name, rec in self.records.items():
            d = asdict(rec)
            d.pop("name")
            d["state"] = rec.state.value
            runs[name] = d
        return {"version": 1, "runs": runs}

    def save(self) -> int:
        folder = os.path.dirname(self.path)
        os.makedirs(folder, exist_ok=True)
        tmp = f"{self.path}.tmp.{os.getpid()}"
        data = json.dumps(self.to_json(), indent=1, sort_keys=True).encode("utf-8")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        fsync_dir(folder)
        return len(data)


# ------------------------------------------------------------------------------ the suites


def name(i: int) -> str:
    # a HELM-like run name and fingerprint, so records have realistic sizes
    return f"mmlu:subject=subject_{i:06d},method=multiple_choice_joint,model=openai_gpt2"


FP = "9c1f0e5b2a7d4c3e8f6a1b0d2c4e6f8a"


def new_suite(root: str, runs: int) -> dict:
    out = os.path.join(root, f"new-{runs}")
    j = Journal.open(out, "bench")
    size0 = os.path.getsize(j.path)
    j.begin([name(i) for i in range(runs)], ["helm-run", "--suite", "bench"])
    for i in range(runs):
        j.set(name(i), FP, RunState.PENDING, save=False)
    j.save()
    size_planned = os.path.getsize(j.path)
    times: list[float] = []
    for i in range(runs):
        for state in (RunState.RUNNING, RunState.DONE):
            t = time.perf_counter()
            j.set(name(i), FP, state, duration=1.0 if state is RunState.DONE else None)
            times.append(time.perf_counter() - t)
    j.close()
    appended = os.path.getsize(j.path) - size_planned
    t = time.perf_counter()
    Journal.open(out, "bench").close()
    reopen = time.perf_counter() - t
    tenth = max(1, len(times) // 10)
    shutil.rmtree(out)
    return {
        "changes": len(times),
        "total_s": sum(times),
        "first_10pct_us": sum(times[:tenth]) / tenth * 1e6,
        "last_10pct_us": sum(times[-tenth:]) / tenth * 1e6,
        "per_change_us": sum(times) / len(times) * 1e6,
        "bytes_per_change": appended / len(times),
        "bytes_total": (size_planned - size0) + appended,
        "reopen_s": reopen,
    }


def old_suite(root: str, runs: int, sample: int) -> dict:
    """The old journal at the end of a suite of `runs` runs: every record present."""
    out = os.path.join(root, f"old-{runs}", "journal.json")
    j = OldJournal(out)
    for i in range(runs):
        j.set(name(i), FP, OldState.COMPLETED, duration=1.0, save=False)
    full = j.save()  # the file when every run is done
    sample = min(sample, runs)
    times = []
    for i in range(sample):
        state = OldState.RUNNING if i % 2 == 0 else OldState.COMPLETED
        t = time.perf_counter()
        j.set(name(runs - 1 - i // 2), FP, state, duration=None if state is OldState.RUNNING else 1.0)
        times.append(time.perf_counter() - t)
    shutil.rmtree(os.path.dirname(out))
    # Over the suite, change k rewrites a file of all R records (they are all planned up front):
    # 2R changes of `full` bytes each, plus the first save.
    return {
        "changes": 2 * runs,
        "sampled": sample,
        "per_change_us": sum(times) / len(times) * 1e6,
        "bytes_per_change": full,
        "bytes_total": full * (2 * runs + 1),
        "total_s": sum(times) / len(times) * 2 * runs,  # per-change cost at the end x changes
    }


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000], help="state changes per suite")
    ap.add_argument("--sample", type=int, default=50, help="changes timed for the old journal per size")
    ap.add_argument("--dir", default=None, help="where to write (default: a temporary folder)")
    ap.add_argument("--json", metavar="FILE", default=None, help="also write the figures to FILE as JSON")
    args = ap.parse_args()
    root = tempfile.mkdtemp(prefix="bench-journal-", dir=args.dir)
    rows = []
    try:
        for n in args.sizes:
            runs = n // 2
            new = new_suite(root, runs)
            saved, journal_module.SYNC_INTERVAL = journal_module.SYNC_INTERVAL, 0.0
            try:
                strict = new_suite(root, runs)  # fdatasync on every terminal change, no group commit
            finally:
                journal_module.SYNC_INTERVAL = saved
            new["strict_per_change_us"] = strict["per_change_us"]
            old = old_suite(root, runs, args.sample)
            rows.append({"changes": n, "runs": runs, "new": new, "old": old})
            print(f"{n} changes done", file=sys.stderr)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    print("| state changes | runs | 0.1 per change | log per change (first 10% / last 10%) "
          "| ratio | log, fdatasync every terminal change | ratio | 0.1 bytes per change | log bytes per change "
          "| 0.1 bytes per suite | log bytes per suite | log reopen (compaction) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        new, old = r["new"], r["old"]
        print(f"| {r['changes']:,} | {r['runs']:,} | {old['per_change_us'] / 1e3:.2f} ms "
              f"| {new['per_change_us']:.0f} µs ({new['first_10pct_us']:.0f} / {new['last_10pct_us']:.0f}) "
              f"| **{old['per_change_us'] / new['per_change_us']:.0f}x** "
              f"| {new['strict_per_change_us']:.0f} µs | {old['per_change_us'] / new['strict_per_change_us']:.0f}x "
              f"| {human_bytes(old['bytes_per_change'])} | {new['bytes_per_change']:.0f} B "
              f"| {human_bytes(old['bytes_total'])} | {human_bytes(new['bytes_total'])} | {new['reopen_s']:.2f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
