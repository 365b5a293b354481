"""Benchmark: how a `mizan run` grows with the history it holds — wall time, the summed peak memory of the
whole process tree (the Dagster process, dbt and every other child), the time per phase, and the cost of
one new wave on top of the largest warehouse.

For each size n the seeded demo generator writes two national waves of n/2 respondents (plus the demo's
second firm and budget workbooks); `mizan run` builds a fresh warehouse from it. Then a third national
wave of ``--new-wave`` respondents (the first rows of the 2025 export, delivered as wave 2026 through a
``source.yaml`` in the landing folder that adds the wave, present from the first run so the mapping does
not change) is delivered and `mizan run` runs again on the same warehouse.

Memory is sampled every 0.2 s from /proc: the resident set of the `mizan run` process and all its
descendants, summed; the table shows the largest sum seen. Phases come from the step log's timestamps
(``_phases``): ingestion (with start-up), dbt (``mizan_dbt_models``) and publish (with the summary).

    uv run python benchmarks/scale.py [--sizes 100000 300000 1000000] [--new-wave 10000] [--keep DIR]

Generated folders are kept in ``--keep`` (default a temporary folder) so a second call skips generation.
The engine against the hand-written reference query and svy: ``benchmarks/engine_reference.py``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

NATIONAL = Path("surveys") / "mizan_demo_national"
PAGE = os.sysconf("SC_PAGE_SIZE")
LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \+0000 - dagster - \w+ - [^ ]+ - [^ ]+ - (\S+) - ")


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, i = [root], 0
    while i < len(out):
        out += children.get(out[i], [])
        i += 1
    return out


def _rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def run_measured(data: Path, warehouse: Path) -> dict:
    """One `mizan run` as a child process: wall seconds, summed tree peak (MiB), phases from its log."""
    cmd = [sys.executable, "-m", "pipelines.cli", "run", "--data-dir", str(data), "--warehouse", str(warehouse)]
    t0, started = time.perf_counter(), datetime.now(timezone.utc).replace(tzinfo=None)
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, sum(_rss(p) for p in _tree(proc.pid)))
        time.sleep(0.2)
    wall, ended = time.perf_counter() - t0, datetime.now(timezone.utc).replace(tzinfo=None)
    out = proc.stdout.read()
    if proc.returncode != 0:
        raise SystemExit(f"mizan run failed ({data}):\n{out[-3000:]}")
    log = re.search(r"step logs \(Dagster, dbt\): (\S+)", out)
    return {"wall": wall, "peak_mib": peak / 2**20, "phases": _phases(Path(log.group(1)), started, ended) if log else {}}


def _phases(log: Path, started: datetime, ended: datetime) -> dict[str, float]:
    """Seconds per phase from the step log's UTC timestamps: ingestion (start of the run to dbt's first line:
    process start-up, registration, reference, survey and budget tables), dbt (its first to its last line),
    publish (dbt's last line to the end: checkpoint, compaction, pointer swap, the run summary)."""
    dbt = [datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")
           for m in map(LINE.match, log.read_text(encoding="utf-8", errors="replace").splitlines())
           if m and m.group(2) == "mizan_dbt_models"]
    if not dbt:
        return {}
    return {"ingestion": (dbt[0] - started).total_seconds(), "dbt": (dbt[-1] - dbt[0]).total_seconds(),
            "publish": (ended - dbt[-1]).total_seconds()}


def _mapping_with_new_wave(data: Path) -> None:
    """The demo mapping plus wave 2026, as the landing folder's own source.yaml."""
    text = (REPO / "data_contracts" / "sources" / "mizan_demo_national.yaml").read_text(encoding="utf-8")
    text = text.replace('''    wave_id: "2025"\n''', '''    wave_id: "2025"\n  - path: "export_wave_2026*.csv"\n    wave_id: "2026"\n''', 1)
    assert 'wave_id: "2026"' in text, "the demo mapping's files: layout changed; update this benchmark"
    (data / NATIONAL / "source.yaml").write_text(text, encoding="utf-8")


def _new_wave(data: Path, rows: int) -> Path:
    src = data / NATIONAL / "export_wave_2025.csv"
    target = data / NATIONAL / "export_wave_2026.csv"
    with src.open(encoding="utf-8-sig") as fh, target.open("w", encoding="utf-8") as out:
        for i, line in enumerate(fh):
            if i > rows:
                break
            out.write(line)
    return target


def prepare(keep: Path, n: int) -> Path:
    from pipelines.demo.generate import generate_demo

    data = keep / f"data_{n}"
    if not (data / NATIONAL / "export_wave_2025.csv").exists():
        shutil.rmtree(data, ignore_errors=True)
        generate_demo(data, households_per_wave=n // 2)
    (data / NATIONAL / "export_wave_2026.csv").unlink(missing_ok=True)
    _mapping_with_new_wave(data)
    return data


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    ap.add_argument("--new-wave", type=int, default=10_000)
    ap.add_argument("--keep", type=Path, default=None)
    args = ap.parse_args()
    keep = args.keep or Path(tempfile.mkdtemp(prefix="mizan-scale-"))
    keep.mkdir(parents=True, exist_ok=True)
    print(f"mizan scale benchmark — {os.cpu_count()} cores, DuckDB memory limit "
          f"{os.environ.get('MIZAN_DUCKDB_MEMORY_LIMIT') or 'default'}; data in {keep}")
    rows = []
    for n in args.sizes:
        data = prepare(keep, n)
        warehouse = keep / f"wh_{n}" / "mizan.duckdb"
        shutil.rmtree(warehouse.parent, ignore_errors=True)
        full = run_measured(data, warehouse)
        rows.append((f"{n:,} respondents, full run", full))
        print(_line(*rows[-1]), flush=True)
    _new_wave(data, args.new_wave)
    new = run_measured(data, warehouse)
    rows.append((f"+ wave of {args.new_wave:,} on the {args.sizes[-1]:,} warehouse", new))
    print(_line(*rows[-1]))
    base, top = rows[0][1], rows[len(args.sizes) - 1][1]
    print(f"\nratios: largest / smallest full run wall {top['wall'] / base['wall']:.2f}x; "
          f"new wave / largest full run {new['wall'] / top['wall']:.2f}x")
    print(f"snapshot after the new wave: {warehouse.resolve().stat().st_size / 2**20:.0f} MiB")


def _line(label: str, r: dict) -> str:
    phases = ", ".join(f"{k} {v:.0f} s" for k, v in sorted(r["phases"].items()))
    return f"{label:<48} wall {r['wall']:7.1f} s  tree peak {r['peak_mib']:7.0f} MiB  ({phases})"


if __name__ == "__main__":
    main()
