"""What `crm run` shows while a run executes in-process, and what it prints when it ends.

A thread follows the run's event log (the run id is chosen before the run starts) and keeps one
line per step: dates materialised / dates in the run, rows written, elapsed. On a terminal the
lines are a live `rich` display; elsewhere (CI, pipes) one plain line when a step starts and one
when it ends. Dagster's own log goes to `<DAGSTER_HOME>/logs/<run_id>.log`, with full traces."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import dagster as dg
from rich.console import Console
from rich.live import Live
from rich.table import Table

FOLLOWED = {dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE,
            dg.DagsterEventType.ASSET_MATERIALIZATION}


@dataclass
class StepProgress:
    key: str
    started: float
    finished: float | None = None
    status: str = "running"
    dates: set[str] = field(default_factory=set)
    rows_by_asset: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.rows_by_asset.values())

    def seconds(self, now: float | None = None) -> float:
        return (self.finished or now or time.time()) - self.started


class RunFollower:
    """Polls one run's step and materialization events into `steps` (step key -> StepProgress)."""

    def __init__(self, instance: dg.DagsterInstance, run_id: str, total_dates: int, *, live: bool,
                 out: TextIO | None = None, interval: float = 0.5):
        self.instance, self.run_id, self.total = instance, run_id, total_dates
        self.steps: dict[str, StepProgress] = {}
        self.interval, self.cursor = interval, None
        self.console = Console(file=out, highlight=False)
        self.live = Live(get_renderable=self.table, console=self.console, transient=True,
                         refresh_per_second=2) if live else None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="crm-run-follower", daemon=True)

    def __enter__(self) -> RunFollower:
        if self.live:
            self.live.start()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.poll()  # the events written after the last poll
        if self.live:
            self.live.stop()

    def _follow(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll()
            except Exception:  # noqa: BLE001 - a display glitch must never fail the run; the log has it all
                pass

    def poll(self) -> None:
        while True:
            page = self.instance.get_records_for_run(self.run_id, cursor=self.cursor, of_type=FOLLOWED, limit=5000)
            for record in page.records:
                self._apply(record.event_log_entry)
            self.cursor = page.cursor
            if not page.has_more:
                return

    def _apply(self, entry) -> None:
        event, key = entry.dagster_event, entry.step_key
        kind = event.event_type
        if kind == dg.DagsterEventType.STEP_START:
            self.steps[key] = StepProgress(key, entry.timestamp)
            self._plain(f"  {key}: started")
            return
        step = self.steps.setdefault(key, StepProgress(key, entry.timestamp))
        if kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            materialization = event.step_materialization_data.materialization
            if materialization.partition:
                step.dates.add(materialization.partition)
            rows = getattr(materialization.metadata.get("rows"), "value", None)
            if isinstance(rows, (int, float)) and not isinstance(rows, bool):  # the range's total, on each date's event
                step.rows_by_asset[materialization.asset_key.to_user_string()] = int(rows)
            return
        step.finished = entry.timestamp
        step.status = "ok" if kind == dg.DagsterEventType.STEP_SUCCESS else "FAILED"
        built = f"{self._dates(step)} dates, {step.rows:,} rows, " if step.dates else ""
        self._plain(f"  {key}: {step.status}, {built}{step.seconds():.1f} s")

    def _dates(self, step: StepProgress) -> str:
        # A check-only step materialises nothing; a building step reaches total/total when it ends.
        return f"{len(step.dates)}/{self.total}" if step.dates or step.status == "running" else "-"

    def _plain(self, line: str) -> None:
        if not self.live:
            self.console.print(line, soft_wrap=True)

    def table(self) -> Table:
        now = time.time()
        table = Table(box=None, show_header=True, header_style="bold")
        for column, justify in (("step", "left"), ("dates", "right"), ("rows", "right"), ("seconds", "right"),
                                ("", "left")):
            table.add_column(column, justify=justify)
        for step in list(self.steps.values()):
            table.add_row(step.key, self._dates(step), f"{step.rows:,}" if step.dates else "-", f"{step.seconds(now):.1f}",
                          "…" if step.status == "running" else step.status)
        return table

    def summary(self) -> Table:
        table = Table(title="steps", title_justify="left", show_footer=True)
        done = [s for s in self.steps.values() if s.finished]
        table.add_column("step", footer="total")
        table.add_column("rows", justify="right", footer=f"{sum(s.rows for s in done):,}")
        table.add_column("seconds", justify="right", footer=f"{sum(s.seconds() for s in done):.1f}")
        for step in sorted(done, key=lambda s: s.started):
            table.add_row(step.key + ("" if step.status == "ok" else " (FAILED)"),
                          f"{step.rows:,}" if step.dates else "-", f"{step.seconds():.1f}")
        return table


def write_run_log(instance: dg.DagsterInstance, run_id: str, path: Path) -> Path:
    """Every event of the run, Dagster's log lines and the full trace of each failure."""
    import logging
    from datetime import datetime

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as log:
        for record in instance.get_records_for_run(run_id, limit=10_000_000).records:
            entry = record.event_log_entry
            stamp = datetime.fromtimestamp(entry.timestamp).isoformat(sep=" ", timespec="milliseconds")
            kind = entry.dagster_event_type.value if entry.is_dagster_event else "LOG"
            log.write(f"{stamp} {logging.getLevelName(entry.level):<7} {entry.step_key or '-'} {kind}: "
                      f"{entry.message}\n")
            error = entry.dagster_event.event_specific_data if entry.is_dagster_event else None
            error = getattr(error, "error", None)
            if error is not None:
                log.write(error.to_string() + "\n")
    return path
