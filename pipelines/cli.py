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


def run_pipeline(first: date, last: date, *, quiet: bool = True, job_name: str = "nightly"):
    """Materialise every asset of a job (default: nightly) for [first, last] in one run (oldest first)."""
    import warnings

    import dagster as dg

    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    warnings.filterwarnings("ignore", category=dg.PreviewWarning)
    from pipelines.definitions import defs

    _dagster_home()
    job = defs.resolve_job_def(job_name)
    run_config = {"loggers": {"console": {"config": {"log_level": "WARNING" if quiet else "INFO"}}}}
    kwargs = {"partition_key": first.isoformat()} if first == last else {
        "tags": {RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat()}}
    with dg.DagsterInstance.get() as instance:
        return job.execute_in_process(instance=instance, raise_on_error=False, run_config=run_config, **kwargs)


def _failure_messages(result) -> list[str]:
    messages = []
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            error = event.event_specific_data.error
            cause = error.cause or error
            messages.append(f"{event.step_key}: {cause.message.strip()}")
        elif event.event_type_value == "ASSET_CHECK_EVALUATION" and not event.event_specific_data.passed:
            data = event.event_specific_data
            failures = data.metadata.get("failures")
            detail = f": {'; '.join(failures.value)}" if failures is not None else ""
            messages.append(f"check {data.asset_key.to_user_string()}.{data.check_name} failed{detail}")
    return messages


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
    result = run_pipeline(first, last, quiet=not args.verbose)
    if not result.success:
        print(f"crm run: run {result.run_id} FAILED for {first}..{last}", file=sys.stderr)
        for message in _failure_messages(result) or ["see the run in the Dagster UI"]:
            print(f"  - {message}", file=sys.stderr)
        return 1
    manifest_path = Path(args.output) / "_manifests" / f"{last.isoformat()}.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    print(f"published {first}..{last} (run {result.run_id}); snapshot {last}:")
    for table, entry in manifest["tables"].items():
        print(f"  {table:<24} {entry['rows']:>10,} rows  {Path(args.output) / entry['files'][0]['path']}")
    print(f"  manifest: {manifest_path}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    os.environ["CRM_WAREHOUSE"] = str(Path(args.warehouse).resolve())
    os.environ["CRM_MODELS"] = str(Path(args.models).resolve())
    result = run_pipeline(args.as_of, args.as_of, quiet=not args.verbose, job_name="model_training")
    if not result.success:
        print(f"crm train: run {result.run_id} FAILED as of {args.as_of}", file=sys.stderr)
        for message in _failure_messages(result) or ["see the run in the Dagster UI"]:
            print(f"  - {message}", file=sys.stderr)
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
    run.add_argument("--verbose", action="store_true", help="show Dagster's step log")
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
