"""Dagster resources: where the landing folder and the warehouse are."""


import os
from pathlib import Path

import dagster as dg

from pipelines.warehouse import warehouse_path


class MizanPaths(dg.ConfigurableResource):
    """The landing folder a run reads (never writes) and the warehouse file it writes.

    Defaults: ``$MIZAN_DATA_DIR`` (else the bundled demo folder ``./demo_data``) and ``$MIZAN_WAREHOUSE``
    (else ``./warehouse/mizan.duckdb``).
    """

    data_dir: str = os.environ.get("MIZAN_DATA_DIR", "demo_data")
    warehouse: str = ""

    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser().resolve()

    def warehouse_path(self) -> Path:
        return warehouse_path(self.warehouse or None)
