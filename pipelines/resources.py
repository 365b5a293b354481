"""Dagster resources: the landing folder, the warehouse a run writes (its working file) and publishes, and dbt."""

import contextlib
import os
import sys
from functools import cached_property
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from packaging import version
from pydantic import PrivateAttr

from pipelines import publish as pub
from data_contracts import personal_data
from pipelines.warehouse import warehouse_path


class MizanPaths(dg.ConfigurableResource):
    """The landing folder a run reads (never writes) and the warehouse it publishes to.

    Defaults: ``$MIZAN_DATA_DIR`` (else the bundled demo folder ``./demo_data``) and ``$MIZAN_WAREHOUSE``
    (else ``./warehouse/mizan.duckdb``). ``warehouse`` is the *pointer* to the current snapshot
    (pipelines/publish.py); assets write only the run's working file, ``working_path()``.

    At the start of a run this resource takes the writer lock (waiting up to ``lock_timeout_s`` for
    another run) and prepares the working file: a copy of the current snapshot. At the end it removes a
    working file that was not published, journals the failed run with its step errors, and releases the
    lock. ``mizan run`` holds the lock itself and passes ``run_id`` and ``lock_held=True``.
    """

    data_dir: str = os.environ.get("MIZAN_DATA_DIR", "demo_data")
    warehouse: str = ""
    run_id: str = ""
    lock_held: bool = False
    keep_snapshots: int = pub.DEFAULT_KEEP_SNAPSHOTS
    lock_timeout_s: float = pub.DEFAULT_LOCK_TIMEOUT_S

    _run_id: str = PrivateAttr(default="")
    _started_at: object = PrivateAttr(default=None)
    _stack: object = PrivateAttr(default=None)

    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser().resolve()

    def warehouse_path(self) -> Path:
        """The pointer path (the published warehouse)."""
        return warehouse_path(self.warehouse or None)

    def layout(self) -> pub.Layout:
        return pub.Layout.of(self.warehouse_path())

    def mizan_run_id(self) -> str:
        return self._run_id or self.run_id

    def started_at(self):
        return self._started_at

    def working_path(self) -> Path:
        """The working DuckDB file of this run: the only file assets write."""
        run_id = self.mizan_run_id()
        if not run_id:
            raise RuntimeError("MizanPaths.working_path() outside a run")
        return self.layout().working(run_id)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if context.dagster_run is None:  # a sensor tick or a definitions load, not a run: nothing to write
            return
        self._run_id = self.run_id or context.run_id or pub.new_run_id()
        self._started_at = pub.utcnow()
        personal_data.use_warehouse(self.warehouse_path())  # the salt of redaction markers (docs/security.md)
        if self.lock_held:
            return
        from pipelines.runlog import step_failures, writing_run

        stack = contextlib.ExitStack()
        _, repairs = stack.enter_context(writing_run(
            self.layout(), self._run_id, self._started_at, str(self.data_path()),
            failures=lambda: step_failures(context.instance, context.run_id),
            lock_timeout_s=self.lock_timeout_s,
            on_wait=lambda holder: context.log.info(f"waiting for the warehouse writer lock ({holder})"),
        ))
        self._stack = stack
        for note in repairs:
            context.log.warning(f"warehouse repaired: {note}")

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._stack is not None:
            self._stack.close()  # journals the run when it did not publish, removes its working file, unlocks
            self._stack = None


class MizanDbtCliResource(DbtCliResource):
    """dagster-dbt's ``DbtCliResource``, minus work a run does not use:

    - one subprocess per run: dagster-dbt learns the dbt version by running ``dbt --version`` (about 3 s
      here) before every ``dbt build``. When the executable is this environment's own dbt
      (``pipelines/definitions.py`` picks the virtualenv's), the version is that of the dbt-core package
      installed beside it, read in-process. Any other executable is asked, as upstream does.
    - a dbt adapter in the Dagster process (about 1.5 s per run: dbt's project, profile and 500 macros loaded
      a second time): dagster-dbt opens one before every ``dbt build`` only for the optional
      ``fetch_row_counts()`` / ``fetch_column_metadata()`` post-processing, which mizan does not use (and
      which could not read the working file while dbt writes it anyway). Without it the events streamed from
      dbt are exactly the same; upstream itself carries on without an adapter when creating one fails.
    """

    def _initialize_dbt_core_adapter(self, args):  # noqa: ANN001, ANN202 - upstream signature
        return None

    @cached_property
    def _cli_version(self) -> version.Version:
        own = Path(sys.executable).with_name("dbt")
        if Path(self.dbt_executable) == own:
            from dbt.version import __version__ as installed

            return version.parse(installed)
        return super()._cli_version
