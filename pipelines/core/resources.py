"""Resources: where the landing zone, the warehouse and the published snapshots live.

Paths come from the environment (CRM_LANDING, CRM_WAREHOUSE, CRM_OUTPUT, ...) through
`dg.EnvVar`, in this one place; unset variables fall back to a `data/` folder under the
working directory, so a laptop needs no setup."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import dagster as dg
import duckdb

from pipelines.core.config import RulesResource

DEFAULTS = {
    "CRM_LANDING": "data/landing",
    "CRM_WAREHOUSE": "data/warehouse.duckdb",
    "CRM_OUTPUT": "data/output",
    "CRM_MODELS": "data/models",
    # Salt of the pseudonymised keys (counterparty accounts); a bank sets its own secret.
    "CRM_PSEUDONYM_SALT": "local-demo-salt",
    "CRM_DUCKDB_MEMORY_LIMIT": "4GB",
}


def apply_env_defaults() -> None:
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file. One writer at a time: assets using it share the
    `duckdb_warehouse` concurrency pool (limit 1, dagster.yaml)."""

    path: str
    memory_limit: str = "4GB"
    pseudonym_salt: str = "local-demo-salt"

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        path = Path(self.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path), read_only=read_only and path.exists())
        try:
            # Spill big joins and sorts to disk next to the warehouse instead of failing.
            con.execute("set memory_limit = $m", {"m": self.memory_limit})
            con.execute("set temp_directory = $t", {"t": str(path.parent / ".duckdb_tmp")})
            con.execute("set preserve_insertion_order = true")
            # `crm run` draws its own progress; DuckDB's bar would write over it.
            con.execute("set enable_progress_bar = false")
            yield con
        finally:
            con.close()


class LandingResource(dg.ConfigurableResource):
    """The landing zone: <path>/<entity>/<entity>_<YYYYMMDD>.<csv|csv.gz|parquet>."""

    path: str

    @property
    def root(self) -> Path:
        return Path(self.path)


class OutputResource(dg.ConfigurableResource):
    """Published snapshots: <path>/<table>/as_of_date=YYYY-MM-DD/ and <path>/_manifests/."""

    path: str

    @property
    def root(self) -> Path:
        return Path(self.path)


class ModelStoreResource(dg.ConfigurableResource):
    """Versioned trained models: <path>/<model>/<version>/."""

    path: str

    @property
    def root(self) -> Path:
        return Path(self.path)


def build_resources() -> dict:
    apply_env_defaults()
    return {
        "warehouse": WarehouseResource(
            path=dg.EnvVar("CRM_WAREHOUSE"),
            memory_limit=dg.EnvVar("CRM_DUCKDB_MEMORY_LIMIT"),
            pseudonym_salt=dg.EnvVar("CRM_PSEUDONYM_SALT"),
        ),
        "landing": LandingResource(path=dg.EnvVar("CRM_LANDING")),
        "output": OutputResource(path=dg.EnvVar("CRM_OUTPUT")),
        "model_store": ModelStoreResource(path=dg.EnvVar("CRM_MODELS")),
        "rules": RulesResource(path=os.environ.get("CRM_RULES", "")),
    }
