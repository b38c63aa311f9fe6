import os

# Gradient boosting uses every core through OpenMP; on a shared 2-core runner its spinning threads
# slow a fit down ~6x. One thread per test process is faster there (set before sklearn loads).
os.environ.setdefault("OMP_NUM_THREADS", "1")

import duckdb
import pytest


from pipelines.core.config import load_rules  # noqa: E402
from pipelines.ingestion.ingest import ingest_date, init_warehouse  # noqa: E402


@pytest.fixture
def warehouse(tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    init_warehouse(con)
    yield con
    con.close()


@pytest.fixture
def ingest(warehouse):
    """ingest(landing, day) -> reports, on the test's warehouse."""

    def _ingest(landing, day):
        return ingest_date(warehouse, landing, day, load_rules(), "test-run", "test-salt")

    return _ingest
