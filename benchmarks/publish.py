"""Cost of publishing: copying the current snapshot into a run's working file and publishing it (checkpoint,
fsync, SHA-256, rename, pointer swap), and how long a reader's query takes while a publish happens.

    uv run python benchmarks/publish.py [--sizes-mb 10 100 400] [--repeat 5]

Prints, per warehouse size, the median seconds of ``prepare_working`` and of ``publish`` and the throughput.
The warehouses are generated DuckDB files (random doubles), not survey data: the cost depends on bytes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines import publish as pub  # noqa: E402


def make_snapshot(layout: pub.Layout, size_mb: int) -> None:
    """Publish a first snapshot of about ``size_mb`` MB."""
    run_id = pub.new_run_id()
    working = layout.working(run_id)
    working.parent.mkdir(parents=True, exist_ok=True)
    rows = size_mb * 1024 * 1024 // 40  # ~5 doubles per row; DuckDB compresses random doubles poorly
    with duckdb.connect(str(working)) as con:
        con.execute("CREATE SCHEMA audit")
        con.execute(f"CREATE TABLE t AS SELECT random() a, random() b, random() c, random() d, random() e FROM range({rows})")
    pub.publish(layout, working, run_id, keep=2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes-mb", type=int, nargs="+", default=[10, 100, 400])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{'size':>8} {'prepare (s)':>12} {'publish (s)':>12} {'MB/s copy':>10} {'MB/s publish':>12}")
    for size in args.sizes_mb:
        with tempfile.TemporaryDirectory() as tmp:
            layout = pub.Layout.of(Path(tmp) / "mizan.duckdb")
            make_snapshot(layout, size)
            mb = pub.current_snapshot(layout.pointer).stat().st_size / 1e6
            prep, publ = [], []
            for _ in range(args.repeat):
                run_id = pub.new_run_id()
                t0 = time.perf_counter()
                working, _, _ = pub.prepare_working(layout, run_id)
                t1 = time.perf_counter()
                pub.publish(layout, working, run_id, keep=2)
                t2 = time.perf_counter()
                prep.append(t1 - t0)
                publ.append(t2 - t1)
            p, q = statistics.median(prep), statistics.median(publ)
            print(f"{mb:>7.0f}M {p:>12.3f} {q:>12.3f} {mb / p:>10.0f} {mb / q:>12.0f}")


if __name__ == "__main__":
    main()
