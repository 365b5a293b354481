"""Benchmark: wall time and peak memory of `mizan run` on generated data of 10,000 and 100,000 respondents.

Each size is generated with the seeded demo generator (two waves, half the respondents each, plus the demo
budget table), then `mizan run` is timed as a separate process (a fresh warehouse each repeat) and its peak
resident memory read from the kernel (``ru_maxrss`` of the finished child). Prints one line per repeat and
the median. No target yet: the figures are quoted in the issue notes.

    uv run python benchmarks/pipeline.py [--sizes 10000 100000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def run_once(data_dir: Path, warehouse: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one `mizan run` in a child process."""
    cmd = [sys.executable, "-m", "pipelines.cli", "run", "--data-dir", str(data_dir), "--warehouse", str(warehouse)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)  # rusage of the mizan process (dbt runs as its own child)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"mizan run failed:\n{proc.stderr.read()}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    from pipelines.demo.generate import generate_demo

    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(f"mizan run benchmark — python {sys.version.split()[0]}, {os.cpu_count()} cores")
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "data"
            generate_demo(data, households_per_wave=n // 2)
            walls, mems = [], []
            for i in range(args.repeats):
                wall, mem = run_once(data, Path(tmp) / f"wh{i}" / "mizan.duckdb")
                walls.append(wall)
                mems.append(mem)
                print(f"  n={n:>7,} repeat {i + 1}: {wall:6.1f} s wall, peak RSS {mem:7.0f} MiB")
            print(f"n={n:>7,} respondents: median {statistics.median(walls):.1f} s, "
                  f"peak RSS median {statistics.median(mems):.0f} MiB")


if __name__ == "__main__":
    main()
