"""Dagster's SQLite event log, sized for runs over a range of business dates.

A run over N dates makes Dagster write, per asset, N ASSET_MATERIALIZATION_PLANNED events before
the first step and N ASSET_MATERIALIZATION events after it, each (stock SQLite storage) in its own
connection and commit: minutes of bookkeeping per backfill year (docs/performance.md). This storage:
- plans a range run with one planned event per asset carrying the range (Dagster's own option,
  `supports_partition_subset_in_asset_materialization_planned_events`, otherwise switched on by
  DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS). Dagster finds a failed run's partitions only
  from per-partition planned events, so `mark_failed_dates` writes those, after a failed run, for
  the dates it did not materialise: the UI still shows them as failed;
- writes each batch of events Dagster hands it (an asset's dates: DAGSTER_EVENT_BATCH_SIZE) in one
  transaction per shard instead of one per event.

Configured in dagster.yaml (`event_log_storage`), so every Dagster process (CLI, webserver, daemon,
run workers) gets both; which is also why it switches batching on for the process."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence

import dagster as dg
from dagster._config import Field, StringSource
from dagster._core.events import (ASSET_EVENTS, AssetMaterializationPlannedData, DagsterEvent,
                                  DagsterEventBatchMetadata, generate_event_batch_id)
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlalchemy_compat import db_result
from dagster._serdes import ConfigurableClassData

# Dagster buffers a batch only when this is > 0; a batch is at most one asset's partitions of a run.
BATCH_SIZE = "10000"


class BatchedSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage with range planned events and one commit per batch of asset events."""

    def __init__(self, base_dir: str | None = None, inst_data: ConfigurableClassData | None = None):
        os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", BATCH_SIZE)
        home = os.environ.get("DAGSTER_HOME")
        # The stock default location, so an existing Dagster home keeps its history. No home: a CLI
        # such as `dagster definitions validate` run in the project folder reads its dagster.yaml
        # for a throwaway instance; its events go to a throwaway folder too, not the working tree.
        default = os.path.join(home, "history", "runs") if home else tempfile.mkdtemp(prefix="dagster_events_")
        super().__init__(base_dir or default, inst_data=inst_data)

    @classmethod
    def config_type(cls):
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(inst_data=inst_data, **config_value)

    @property
    def supports_partition_subset_in_asset_materialization_planned_events(self) -> bool:
        return True

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
            # The asset's row keeps the last event of each kind (each kind sets its own columns),
            # so only those need writing: one row update per asset and kind instead of per event.
            last = {(e.dagster_event.asset_key, e.dagster_event_type): i for i, e in enumerate(events)}
            for i in sorted(last.values()):
                self._store_asset_event(conn, events[i], event_ids[i])


def mark_failed_dates(instance: dg.DagsterInstance, run_id: str) -> int:
    """After a failed run planned by range, one planned event per asset and date it did not
    materialise, so Dagster's partition status shows those dates as failed. Returns how many."""
    run = instance.get_run_by_id(run_id)
    if run is None or run.status != dg.DagsterRunStatus.FAILURE:
        return 0
    records = instance.get_records_for_run(
        run_id, of_type={dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED, dg.DagsterEventType.ASSET_MATERIALIZATION},
        limit=10_000_000).records
    planned, done = {}, set()
    for record in records:
        event = record.event_log_entry.dagster_event
        data = event.event_specific_data
        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            done.add((event.asset_key, data.materialization.partition))
        elif data.partitions_subset is not None:
            planned[data.asset_key] = (event.step_key, data.partitions_subset.get_partition_keys())
        elif data.partition is not None:
            done.add((data.asset_key, data.partition))  # already planned date by date
    events = [DagsterEvent.build_asset_materialization_planned_event(
                  run.job_name, step_key, AssetMaterializationPlannedData(asset_key, partition=key))
              for asset_key, (step_key, keys) in planned.items() for key in keys if (asset_key, key) not in done]
    batch_id = generate_event_batch_id()
    for i, event in enumerate(events):
        instance.report_dagster_event(event, run_id, batch_metadata=DagsterEventBatchMetadata(batch_id, i == len(events) - 1))
    return len(events)
