"""Which waves of a survey source a run reads: only those whose delivered files, or what they are read with,
changed since they were loaded.

A run registers every landing file (``pipelines/ingest/registry.py``), but re-reading every archived export
on every run made a run's cost grow with the whole history. A wave is therefore reloaded only when

- its active files (SHA-256 of each) differ from those it was loaded from (a new wave, a corrected file), or
- the source's *fingerprint* changed: the mapping file, the files read beside the export (XLSForm, sample
  frame, codebook), the question bank, the reference tables, or the ingestion code itself (so a fixed
  parser re-reads what it parsed before).

Waves that no active file holds any more leave ``raw``. Each loaded wave is recorded in
``raw.survey_wave_loads`` (one row per source x wave: its files, the fingerprint, and the run that loaded
it); dbt's incremental models and scoped tests read that table to do only the new wave's work.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.ingest.registry import Registered, wave_of_unit

_REPO = Path(__file__).resolve().parents[2]
#: What a survey's rows depend on besides its own files: the contracts (question bank, indicators, reference
#: tables, mapping rules) and the code that reads and harmonises exports.
_INGEST_INPUTS = ("data_contracts", "pipelines/ingest", "pipelines/readers", "pipelines/cleaning")
_SUFFIXES = {".py", ".yaml", ".yml", ".csv"}


def _code_and_contracts_digest() -> str:
    h = hashlib.sha256()
    for folder in _INGEST_INPUTS:
        for p in sorted((_REPO / folder).rglob("*")):
            if p.is_file() and p.suffix in _SUFFIXES and "sources" not in p.relative_to(_REPO).parts:
                h.update(p.relative_to(_REPO).as_posix().encode())
                h.update(p.read_bytes())
    return h.hexdigest()


def source_fingerprint(mapping_path: Path, companions: list[Path]) -> str:
    """SHA-256 over the mapping file, the companion files that exist (form, frame, codebook), the contracts
    and the ingestion code: when it changes, every wave of the source is read again."""
    h = hashlib.sha256(_code_and_contracts_digest().encode())
    for p in [mapping_path, *sorted(companions)]:
        if p.is_file():
            h.update(p.name.encode())
            h.update(p.read_bytes())
    return h.hexdigest()


@dataclass
class WavePlan:
    """What a run does with one survey source's waves.

    ``reload``: wave -> active files to read; ``unchanged``: waves kept as loaded; ``dropped``: waves loaded
    before that no active file holds now; ``replaced_sha256s``: the files the reloaded and dropped waves were
    loaded from (their audit rows are replaced). ``whole_source``: the files cannot be told apart by wave
    (a file without a wave), so the source is read whole, as before waves drove the work.
    """

    reload: dict[str, list[Registered]] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    replaced_sha256s: set[str] = field(default_factory=set)
    whole_source: bool = False

    @property
    def files(self) -> list[Registered]:
        return sorted((f for fs in self.reload.values() for f in fs), key=lambda f: f.registered_seq)

    @property
    def waves(self) -> set[str]:
        """Waves whose rows in ``raw`` this run replaces (reloaded or dropped)."""
        return set(self.reload) | set(self.dropped)


def previous_loads(con: duckdb.DuckDBPyConnection, source_id: str) -> dict[str, tuple[str, str]]:
    """wave -> (comma-joined sorted SHA-256s, fingerprint) as last loaded."""
    rows = con.execute(
        "SELECT wave_id, file_sha256s, fingerprint FROM raw.survey_wave_loads WHERE source_id = ?", [source_id]
    ).fetchall()
    return {w: (shas, fp) for w, shas, fp in rows}


def plan_waves(con: duckdb.DuckDBPyConnection, source_id: str, active: list[Registered], fingerprint: str,
               all_or_nothing: bool = False) -> WavePlan:
    """Compare the source's active files, by wave, with ``raw.survey_wave_loads``.

    ``all_or_nothing``: when any wave changed, read every wave again (a source with cleaning logs: a log
    holds lines for any wave, and is applied to the waves read together)."""
    before = previous_loads(con, source_id)
    by_wave: dict[str, list[Registered]] = {}
    for f in active:
        by_wave.setdefault(wave_of_unit(f.unit) or "", []).append(f)
    plan = WavePlan()
    if "" in by_wave:  # a file whose wave the registry cannot tell
        plan.whole_source = True
        plan.reload = by_wave
        return plan
    for wave, files in sorted(by_wave.items()):
        key = ",".join(sorted(f.file_sha256 for f in files))
        if before.get(wave) == (key, fingerprint):
            plan.unchanged.append(wave)
        else:
            plan.reload[wave] = files
    plan.dropped = sorted(set(before) - set(by_wave))
    if all_or_nothing and (plan.reload or plan.dropped):
        plan.reload, plan.unchanged = dict(sorted(by_wave.items())), []
    for wave in plan.waves:
        if wave in before:
            plan.replaced_sha256s |= set(before[wave][0].split(","))
        plan.replaced_sha256s |= {f.file_sha256 for f in plan.reload.get(wave, [])}
    return plan


def wave_load_rows(source_id: str, plan: WavePlan, fingerprint: str, run_id: str, now) -> list[dict]:
    """Rows for ``raw.survey_wave_loads`` of the waves this run loaded."""
    return [
        {"source_id": source_id, "wave_id": wave, "file_sha256s": ",".join(sorted(f.file_sha256 for f in files)),
         "fingerprint": fingerprint, "load_run_id": run_id, "loaded_at": now}
        for wave, files in sorted(plan.reload.items())
    ]
