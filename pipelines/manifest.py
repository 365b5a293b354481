"""Keep dbt's manifest.json current: dagster-dbt reads it when the definitions are imported.

``dbt parse`` builds it without opening the warehouse (``dbt compile`` would). The manifest is rebuilt
when missing or older than any file of the dbt project.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"


def _newest_source_mtime() -> float:
    newest = 0.0
    for sub in ("models", "macros", "seeds", "tests", "snapshots", "analyses"):
        for p in (DBT_PROJECT_DIR / sub).rglob("*"):
            if p.is_file():
                newest = max(newest, p.stat().st_mtime)
    for name in ("dbt_project.yml", "profiles.yml"):
        newest = max(newest, (DBT_PROJECT_DIR / name).stat().st_mtime)
    return newest


def ensure_manifest(force: bool = False) -> Path:
    """Run ``dbt parse`` when the manifest is missing or stale; return its path.

    Raises:
        RuntimeError: ``dbt parse`` failed (its output is in the message).
    """
    if not force and MANIFEST.is_file() and MANIFEST.stat().st_mtime >= _newest_source_mtime():
        return MANIFEST
    dbt = Path(sys.executable).with_name("dbt")
    cmd = [str(dbt) if dbt.exists() else "dbt", "parse", "--project-dir", str(DBT_PROJECT_DIR),
           "--profiles-dir", str(DBT_PROJECT_DIR), "--quiet"]
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=DBT_PROJECT_DIR)
    if proc.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{proc.stdout}\n{proc.stderr}")
    MANIFEST.touch()
    return MANIFEST


if __name__ == "__main__":
    print(ensure_manifest(force="--force" in sys.argv))
