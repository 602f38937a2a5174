"""Where HELM's SQLite request cache breaks under many writers, and whether helmc's setting
holds: W worker processes x T threads, each thread getting R distinct requests through HELM's own
Cache (SqliteCacheConfig, one file), the compute a sleep standing for a fast API. Counts what
raised (`database is locked`), what is in the file at the end, and the wall time.

    python benchmarks/bench_sqlite_cache.py [--workers 8 16 32] [--threads 4] [--requests 50]
        [--latency 0.001] [--modes helm helmc]

`helm`: HELM 0.5.16 as it is (SqliteDict: journal_mode DELETE, its default timeout);
`helmc`: with helm-run's governor installed (runtime/governor.py: WAL and a busy timeout).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import sqlite3
import tempfile
import threading
import time


def worker(path: str, mode: str, index: int, threads: int, requests: int, latency: float, out: mp.Queue) -> None:
    from helm.common.cache import Cache, SqliteCacheConfig

    if mode == "helmc":
        from helmc.runtime.governor import harden_sqlite_cache

        harden_sqlite_cache()
    cache = Cache(SqliteCacheConfig(path))
    errors: list[str] = []

    def go(t: int) -> None:
        for i in range(requests):
            key = {"worker": index, "thread": t, "i": i}

            def compute() -> dict:
                time.sleep(latency)
                return {"answer": i}

            try:
                cache.get(key, compute)
            except Exception as e:  # noqa: BLE001 - counted
                errors.append(f"{type(e).__name__}: {e}")

    ts = [threading.Thread(target=go, args=(t,)) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out.put(errors)


def one(mode: str, workers: int, threads: int, requests: int, latency: float) -> dict:
    folder = tempfile.mkdtemp(prefix="helmc-sqlite-")
    path = os.path.join(folder, "rig.sqlite")
    try:
        ctx = mp.get_context("fork")
        q: mp.Queue = ctx.Queue()
        t0 = time.perf_counter()
        procs = [ctx.Process(target=worker, args=(path, mode, w, threads, requests, latency, q)) for w in range(workers)]
        for p in procs:
            p.start()
        errors: list[str] = []
        for _ in procs:
            errors += q.get()
        for p in procs:
            p.join()
        wall = time.perf_counter() - t0
        with sqlite3.connect(path) as db:
            stored = db.execute("SELECT COUNT(*) FROM unnamed").fetchone()[0]
        return {"mode": mode, "workers": workers, "threads": threads, "expected": workers * threads * requests,
                "stored": stored, "errors": len(errors), "first_error": errors[0][:80] if errors else "", "wall": wall}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, nargs="+", default=[8, 16, 32])
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--requests", type=int, default=50)
    ap.add_argument("--latency", type=float, default=0.001)
    ap.add_argument("--modes", nargs="+", default=["helm", "helmc"])
    a = ap.parse_args()
    print(f"{'mode':6} {'workers':>7} {'threads':>7} {'expected':>8} {'stored':>7} {'errors':>6} {'wall s':>7}  first error")
    for w in a.workers:
        for mode in a.modes:
            r = one(mode, w, a.threads, a.requests, a.latency)
            print(f"{r['mode']:6} {r['workers']:7} {r['threads']:7} {r['expected']:8} {r['stored']:7} {r['errors']:6} "
                  f"{r['wall']:7.1f}  {r['first_error']}", flush=True)


if __name__ == "__main__":
    main()
