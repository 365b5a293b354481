"""Keep dbt's manifest.json current: dagster-dbt reads it when the definitions are imported.

``dbt parse`` builds it without opening the warehouse (``dbt compile`` would). The manifest is rebuilt
when missing or older than any file of the dbt project. Concurrent callers (pytest-xdist workers, two
``mizan run`` at once) take a file lock, and the new manifest replaces the old one in one rename, so a
process importing the definitions never reads a half-written or half-stale manifest.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import sys
from pathlib import Path

from filelock import FileLock

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
    def fresh() -> bool:
        return MANIFEST.is_file() and MANIFEST.stat().st_mtime >= _newest_source_mtime()

    if not force and fresh():
        return MANIFEST
    MANIFEST.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(MANIFEST.parent / "manifest.lock")):
        if not force and fresh():  # another process parsed while this one waited
            return MANIFEST
        dbt = Path(sys.executable).with_name("dbt")
        with tempfile.TemporaryDirectory(dir=MANIFEST.parent, prefix="parse-") as tmp:
            cmd = [str(dbt) if dbt.exists() else "dbt", "parse", "--project-dir", str(DBT_PROJECT_DIR),
                   "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", tmp, "--quiet"]
            env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=DBT_PROJECT_DIR)
            if proc.returncode != 0:
                raise RuntimeError(f"dbt parse failed:\n{proc.stdout}\n{proc.stderr}")
            built = Path(tmp) / "manifest.json"
            os.utime(built)  # newer than every source file read by this parse
            os.replace(built, MANIFEST)
            shutil.rmtree(tmp, ignore_errors=True)
    return MANIFEST

if __name__ == "__main__":
    print(ensure_manifest(force="--force" in sys.argv))
