"""Dagster's SQLite event log, writing a batch of asset events in one transaction.

A backfill run over N dates writes one ASSET_MATERIALIZATION_PLANNED and one ASSET_MATERIALIZATION
event per asset and date. Dagster already hands them to the storage in batches (one per asset:
`DAGSTER_EVENT_BATCH_SIZE`), but the stock SQLite storage writes a batch event by event, each with
its own connection and commit (an fsync): tens of milliseconds each, minutes per backfill year
before the first step starts. This storage writes a batch in two transactions (the run's shard and
the cross-run index), so the bookkeeping costs a few seconds and every event Dagster's UI reads
(per-partition planned events: a failed run's dates show as failed) is still written.

Configured in dagster.yaml (`event_log_storage`); loaded by every Dagster process (CLI, webserver,
daemon, run workers), which is why it also switches batching on for the process."""

from __future__ import annotations

import os
from collections.abc import Sequence

from dagster._core.events import ASSET_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlalchemy_compat import db_result
from dagster._serdes import ConfigurableClassData
from dagster._config import Field, StringSource

# Dagster buffers a batch only when this is > 0; a batch is at most one asset's partitions of a run.
BATCH_SIZE = "10000"


class BatchedSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage whose `store_event_batch` commits once per shard, not once per event."""

    def __init__(self, base_dir: str | None = None, inst_data: ConfigurableClassData | None = None):
        os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", BATCH_SIZE)
        home = os.environ.get("DAGSTER_HOME", ".")
        # The stock default location, so an existing Dagster home keeps its history.
        super().__init__(base_dir or os.path.join(home, "history", "runs"), inst_data=inst_data)

    @classmethod
    def config_type(cls):
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(inst_data=inst_data, **config_value)

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        run_ids = {event.run_id for event in events}
        plain = all(e.is_dagster_event and e.dagster_event_type in ASSET_EVENTS and e.dagster_event.asset_key
                    for e in events)
        if len(run_ids) != 1 or not plain:
            super().store_event_batch(events)
            return
        statements = [self.prepare_insert_event(event) for event in events]
        with self.run_connection(next(iter(run_ids))) as conn:
            for statement in statements:
                conn.execute(statement)
        # Mirrored into the index shard (what cross-run asset queries and the UI's partition status
        # read), as SqliteEventLogStorage.store_event does for one event.
        with self.index_transaction() as conn:
            event_ids = []
            for statement in statements:
                with db_result(conn, statement) as result:
                    event_ids.append(result.inserted_primary_key[0])
            self._store_asset_event_tags(conn, list(events), event_ids)
            for event, event_id in zip(events, event_ids):
                self._store_asset_event(conn, event, event_id)
