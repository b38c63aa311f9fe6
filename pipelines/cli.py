"""`crm`: generate demo extracts and run the pipeline for a business date or a range."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from datetime import date
from pathlib import Path

from pipelines.core.resources import DEFAULTS

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _path_default(var: str) -> str:
    return os.environ.get(var, DEFAULTS[var])


def cmd_generate(args: argparse.Namespace) -> int:
    from pipelines.generator import generate

    if args.end < args.start:
        print("crm generate: --end is before --start", file=sys.stderr)
        return 2
    summary = generate(Path(args.out), customers=args.customers, start=args.start, end=args.end,
                       seed=args.seed, fmt=args.format, progress=not args.quiet)
    print(json.dumps(summary, indent=2, default=str))
    return 0


def _dagster_home() -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or Path.cwd() / "data" / "dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def _is_tty(stream) -> bool:
    return hasattr(stream, "isatty") and stream.isatty()


def run_pipeline(first: date, last: date, *, quiet: bool = True, job_name: str = "nightly", progress: bool = False):
    """Materialise every asset of a job (default: nightly) for [first, last] in one run (oldest first).

    Returns (result, follower, log path): with `progress`, a live line per step while it runs
    (plain lines when stdout is not a terminal); Dagster's log goes to <DAGSTER_HOME>/logs/<run_id>.log
    (and to the console only when not `quiet`)."""
    import uuid
    import warnings

    import dagster as dg

    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    warnings.filterwarnings("ignore", category=dg.PreviewWarning)
    from pipelines.definitions import defs
    from pipelines.orchestration.event_log import mark_failed_dates
    from pipelines.orchestration.progress import RunFollower, write_run_log

    home = _dagster_home()
    job = defs.resolve_job_def(job_name)
    run_config = {"loggers": {"console": {"config": {"log_level": "CRITICAL" if quiet else "INFO"}}}}
    kwargs = {"partition_key": first.isoformat()} if first == last else {
        "tags": {RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat()}}
    run_id = str(uuid.uuid4())
    days = (last - first).days + 1
    with dg.DagsterInstance.get() as instance:
        with RunFollower(instance, run_id, days, live=progress and quiet and _is_tty(sys.stdout)) as follower:
            if not progress:
                follower.console.quiet = True
            result = job.execute_in_process(instance=instance, raise_on_error=False, run_config=run_config,
                                            run_id=run_id, **kwargs)
        if not result.success:  # the UI shows the dates failed (no daemon runs the failure sensor here)
            mark_failed_dates(instance, run_id)
        log_path = write_run_log(instance, run_id, home / "logs" / f"{run_id}.log")
    return result, follower, log_path


# What a person does about a failure, by the class of the error that stopped the step.
_REMEDIES = {
    "IngestionError": "fix or re-deliver that file in the landing zone, then rerun",
    "RulesError": "fix the rules file (CRM_RULES, else pipelines/core/config/rules.yaml), then rerun",
    "SegmentationConfigError": "fix the rules file (rfm / lifecycle), then rerun",
    "RiskConfigError": "fix the rules file (large_value / risk_alerts), then rerun",
    "LoyaltyConfigError": "fix the rules file (loyalty), then rerun",
    "ModelStoreError": "train and approve a model first (crm train --as-of DATE), then rerun",
    "NotEnoughHistory": "load more history before this date, or train later",
    "TrainingError": "see the training log; the previous model version stays in use",
    "RiskModelError": "see the training log; the previous model version stays in use",
    "PublishError": "check the output folder (space, permissions), then rerun",
}
CHECK_REMEDY = "a published table broke its contract and nothing was published: inspect it in the warehouse, fix the cause, rerun"
MAX_FAILURE_LINES = 10


def _failures(result) -> list[tuple[str, str, str]]:
    """(where, what, remedy) for each failed step and each failed blocking check."""
    failures = []
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            error = event.event_specific_data.error
            cause = error
            while cause.cause is not None:
                cause = cause.cause
            message = cause.message.strip().splitlines()[0] if cause.message.strip() else cause.cls_name
            message = message.split(f"{cause.cls_name}: ", 1)[-1]  # the error's text, not its module path
            remedy = _REMEDIES.get(cause.cls_name, "unexpected error: read the full trace in the log, then rerun")
            failures.append((f"step {event.step_key}", message, remedy))
        elif event.event_type_value == "ASSET_CHECK_EVALUATION" and not event.event_specific_data.passed:
            data = event.event_specific_data
            found = data.metadata.get("failures")
            detail = "; ".join(found.value[:3]) if found is not None else "failed"
            failures.append((f"check {data.asset_key.to_user_string()}.{data.check_name}", detail, CHECK_REMEDY))
    return failures


def failure_report(command: str, result, first: date, last: date, log_path: Path, rerun: str) -> list[str]:
    """At most MAX_FAILURE_LINES lines: where it stopped, the file or rule, what to do, the log."""
    dates = str(first) if first == last else f"{first}..{last}"
    lines = [f"{command}: FAILED for {dates} (run {result.run_id})"]
    failures = _failures(result) or [("run", "no step reported an error", "read the log")]
    shown = failures[:3]
    for where, what, _ in shown:
        lines.append(f"  {where}: {what[:300]}")
    if len(failures) > len(shown):
        lines.append(f"  ... and {len(failures) - len(shown)} more (see the log)")
    for remedy in dict.fromkeys(r for _, _, r in shown):
        lines.append(f"  what to do: {remedy}")
    lines.append(f"  rerun: {rerun}")
    lines.append(f"  full log and traces: {log_path}")
    return lines[:MAX_FAILURE_LINES]


def _print_summary(follower) -> None:
    follower.console.quiet = False
    follower.console.print(follower.summary())


def cmd_run(args: argparse.Namespace) -> int:
    os.environ["CRM_LANDING"] = str(Path(args.landing).resolve())
    os.environ["CRM_WAREHOUSE"] = str(Path(args.warehouse).resolve())
    os.environ["CRM_OUTPUT"] = str(Path(args.output).resolve())
    os.environ["CRM_MODELS"] = str(Path(args.models).resolve())
    first, last = (args.as_of, args.as_of) if args.as_of else (args.date_from, args.date_to)
    if last < first:
        print("crm run: --to is before --from", file=sys.stderr)
        return 2
    if not Path(args.landing).is_dir():
        print(f"crm run: landing zone {args.landing} does not exist (run `crm generate` first?)", file=sys.stderr)
        return 2
    result, follower, log_path = run_pipeline(first, last, quiet=not args.verbose, progress=True)
    _print_summary(follower)
    rerun = f"crm run --as-of {first}" if first == last else f"crm run --from {first} --to {last}"
    if not result.success:
        for line in failure_report("crm run", result, first, last, log_path, rerun):
            print(line, file=sys.stderr)
        return 1
    manifest_path = Path(args.output) / "_manifests" / f"{last.isoformat()}.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    print(f"published {first}..{last} (run {result.run_id}); snapshot {last}:")
    for table, entry in manifest["tables"].items():
        print(f"  {table:<24} {entry['rows']:>10,} rows  {Path(args.output) / entry['files'][0]['path']}")
    print(f"  manifest: {manifest_path}")
    print(f"  log: {log_path}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    os.environ["CRM_WAREHOUSE"] = str(Path(args.warehouse).resolve())
    os.environ["CRM_MODELS"] = str(Path(args.models).resolve())
    result, follower, log_path = run_pipeline(args.as_of, args.as_of, quiet=not args.verbose,
                                               job_name="model_training", progress=True)
    _print_summary(follower)
    if not result.success:
        for line in failure_report("crm train", result, args.as_of, args.as_of, log_path,
                                   f"crm train --as-of {args.as_of}"):
            print(line, file=sys.stderr)
        return 1
    from models.store import list_versions
    from pipelines.propensity.build import model_name
    from models.propensity.features import FAMILIES

    for family in FAMILIES:
        versions = list_versions(Path(args.models), model_name(family))
        latest = versions[-1] if versions else None
        if latest and latest.get("as_of_date") == args.as_of.isoformat():
            auc = latest["metrics"]["hgb_calibrated"]["auc"]
            print(f"  {family:<18} {latest['version']}  AUC {auc:.3f}  approved={latest['approved']}")
        else:
            print(f"  {family:<18} not trained (see model_metrics)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crm", description="Bank customer-management analytics pipeline.")
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write a demo landing zone (one file per entity per business date)")
    gen.add_argument("--customers", type=int, default=2000)
    gen.add_argument("--start", type=_date, required=True)
    gen.add_argument("--end", type=_date, required=True)
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--out", default=_path_default("CRM_LANDING"))
    gen.add_argument("--format", choices=["csv", "parquet"], default="csv")
    gen.add_argument("--quiet", action="store_true", help="no progress bar")
    gen.set_defaults(func=cmd_generate)

    run = sub.add_parser("run", help="ingest, score and publish a business date or a range")
    run.add_argument("--landing", default=_path_default("CRM_LANDING"))
    run.add_argument("--warehouse", default=_path_default("CRM_WAREHOUSE"))
    run.add_argument("--output", default=_path_default("CRM_OUTPUT"))
    run.add_argument("--models", default=_path_default("CRM_MODELS"), help="model store (versioned models)")
    when = run.add_mutually_exclusive_group(required=True)
    when.add_argument("--as-of", type=_date, help="one business date")
    when.add_argument("--from", dest="date_from", type=_date, help="first date of a backfill (with --to)")
    run.add_argument("--to", dest="date_to", type=_date)
    run.add_argument("--verbose", action="store_true",
                     help="also show Dagster's log on the console (it always goes to <DAGSTER_HOME>/logs/<run_id>.log)")
    run.set_defaults(func=cmd_run)

    train = sub.add_parser("train", help="train the propensity models as of a business date (the weekly job)")
    train.add_argument("--warehouse", default=_path_default("CRM_WAREHOUSE"))
    train.add_argument("--models", default=_path_default("CRM_MODELS"))
    train.add_argument("--as-of", type=_date, required=True)
    train.add_argument("--verbose", action="store_true")
    train.set_defaults(func=cmd_train)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "run" and args.date_from and not args.date_to:
        parser.error("--from needs --to")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
