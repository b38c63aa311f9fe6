"""Load one landed file into its staging table: type by the contract, quarantine what breaks
it, convert money to the reporting currency, reconcile, record the result."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from pipelines.contracts import Contract, quote_ident as q
from pipelines.ingestion.errors import IngestionError
from pipelines.ingestion.profiles import SourceProfile
from pipelines.ingestion.reader import read_raw
from pipelines.sql import load_sql, one, run
from pipelines.ingestion.typing_sql import canonical_text, typed_value, violations

KEEP_EXTRA_COLUMNS = {"customers"}  # the contract keeps further customer columns as attributes


@dataclass
class FileReport:
    entity: str
    source_file: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    amount_read: float
    amount_loaded: float
    amount_quarantined: float
    reasons: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def staging_table(entity: str) -> str:
    return f"stg_{entity}"


def staging_ddl(contract: Contract) -> str:
    cols = ["business_date date not null"]
    cols += [f"{q(c.name)} {c.duckdb_type}" for c in contract.staged_columns]
    cols += [f"{q(c.name + '_key')} varchar" for c in contract.pseudonymised_columns]
    if contract.amount and (contract.currency or contract.extra.get("currency_from_account")):
        cols.append("amount_reporting decimal(18,2)")
    if contract.entity in KEEP_EXTRA_COLUMNS:
        cols.append("attributes json")
    cols += ["_source_file varchar", "_line bigint", "_run_id varchar"]
    return f"create table if not exists {q(staging_table(contract.entity))} ({', '.join(cols)})"


def _missing_required(contract: Contract, profile: SourceProfile, file_columns: set[str]) -> list[str]:
    present = {profile.rename.get(c, c) for c in file_columns} | set(profile.derived) | set(profile.defaults)
    return [c.name for c in contract.columns
            if c.required and c.default is None and c.name not in present]


def _reference_joins(contract: Contract) -> tuple[dict[str, str], str, str]:
    """Left joins to the referenced keys known on or before the date; `<alias>_found` is null for orphans."""
    aliases, joins, found = {}, [], []
    for col in contract.columns:
        if not col.references:
            continue
        ref_entity, ref_col = col.references.split(".")
        alias = f"_ref_{col.name}"
        aliases[col.name] = alias
        joins.append(
            f"left join (select distinct {q(ref_col)} as _ref_key, true as _ref_found "
            f"from {q(staging_table(ref_entity))} where business_date <= $business_date) {alias} "
            f"on t.{q(col.name)} = {alias}._ref_key"
        )
        found.append(f", {alias}._ref_found as {alias}_found")
    return aliases, "\n".join(joins), "".join(found)


def checked_sql(contract: Contract, profile: SourceProfile, file_columns: set[str],
                bank_tz: str, dedupe_across_dates: bool) -> str:
    texts = ", ".join(f"{canonical_text(c, profile, file_columns)} as {q('_t_' + c.name)}"
                      for c in contract.columns)
    typed = ", ".join(f"{typed_value(c, q('_t_' + c.name), profile, bank_tz)} as {q(c.name)}"
                      for c in contract.columns)
    key = ", ".join(q(k) for k in contract.key)
    if dedupe_across_dates:
        seen = (f"left join (select distinct {key}, true as _seen from {q(staging_table(contract.entity))} "
                f"where business_date < $business_date) _seen using ({key})")
        seen_expr = "coalesce(_seen._seen, false)"
    else:
        seen, seen_expr = "", "false"
    aliases, ref_joins, ref_found = _reference_joins(contract)
    rules = ",\n        ".join(violations(contract, aliases))
    amount = q(contract.amount) if contract.amount else "null::decimal(18,2)"
    extras = ""
    if contract.entity in KEEP_EXTRA_COLUMNS:
        # Header names are quoted as identifiers, never interpolated as SQL.
        extra = sorted(file_columns - set(contract.names) - set(profile.rename))
        packed = ", ".join(f"{q(c)} := {q(c)}" for c in extra)
        extras = f", to_json(struct_pack({packed})) as _attributes" if extra else ", null::json as _attributes"
    return f"""
create or replace temp table _checked as
with canon as (
    select _line, {texts}{extras}
    from _raw
),
typed as (
    select *, {typed} from canon
),
ranked as (
    select *, row_number() over (partition by {key} order by _line) as _dup_rank from typed
),
joined as (
    select t.*, {seen_expr} as _seen_before{ref_found}
    from ranked t
    {seen}
    {ref_joins}
)
select *,
    list_filter([
        {rules}
    ], lambda x: x is not null) as _violations,
    {amount}::decimal(18,2) as _amount
from joined
"""


def _priced_sql(contract: Contract) -> str | None:
    """Attach the reporting-currency rate to each clean row (as-of join: newest rate on or before)."""
    if not contract.amount:
        return None
    event_day = f"c.{q(contract.event_time)}::date"
    if contract.currency:
        currency, join = f"c.{q(contract.currency)}", ""
    elif contract.extra.get("currency_from_account"):
        currency = "coalesce(ac.currency, $reporting_currency)"
        join = "left join _account_currency ac on ac.account_id = c.account_id"
    else:
        return None
    return f"""
create or replace temp table _priced as
with clean as (
    select c.*, {currency} as _currency, {event_day} as _event_day
    from _checked c {join}
    where len(c._violations) = 0
)
select clean.*, _fx.rate as _rate, _fx.rate_date as _rate_date
from clean asof left join _fx
    on clean._currency = _fx.currency and clean._event_day >= _fx.rate_date
"""


def _check_rates(con: duckdb.DuckDBPyConnection, path: Path, params: dict) -> None:
    missing = run(
        con,
        "select _currency, min(_event_day), count(*) from _priced "
        "where _currency <> $reporting_currency "
        "and (_rate is null or _rate_date < _event_day - $fx_max_age_days::integer) "
        "group by _currency order by _currency",
        params,
    ).fetchall()
    if missing:
        detail = "; ".join(f"{cur} from {day} ({n} rows)" for cur, day, n in missing)
        raise IngestionError(
            f"{path.name}: no fx rate to {params['reporting_currency']} within "
            f"{params['fx_max_age_days']} days for {detail}; amounts are never converted at 1.0"
        )


def _insert_sql(contract: Contract, priced: bool) -> str:
    cols = ["$business_date as business_date"]
    cols += [q(c.name) for c in contract.staged_columns]
    cols += [f"case when {q('_t_' + c.name)} is not null then sha256($salt || {q('_t_' + c.name)}) end "
             f"as {q(c.name + '_key')}" for c in contract.pseudonymised_columns]
    if priced:
        cols.append(f"case when _currency = $reporting_currency then {q(contract.amount)} "
                    f"else round({q(contract.amount)} * _rate, 2) end as amount_reporting")
    if contract.entity in KEEP_EXTRA_COLUMNS:
        cols.append("_attributes as attributes")
    cols += ["$source_file as _source_file", "_line", "$run_id as _run_id"]
    source = "_priced" if priced else "_checked where len(_violations) = 0"
    return f"insert into {q(staging_table(contract.entity))} by name select {', '.join(cols)} from {source}"


def _reconcile(con, contract: Contract, params: dict, path: Path) -> tuple:
    table = q(staging_table(contract.entity))
    amount = q(contract.amount) if contract.amount else "null::decimal(18,2)"
    read = one(con, "select count(*), coalesce(sum(_amount), 0) from _checked")
    loaded = one(
        con,
        f"select count(*), coalesce(sum({amount}), 0) from {table} "
        "where business_date = $business_date and _source_file = $source_file",
        params,
    )
    quarantined = one(
        con,
        "select count(*), coalesce(sum(amount), 0) from quarantine "
        "where business_date = $business_date and entity = $entity and source_file = $source_file",
        params,
    )
    raw_rows = one(con, "select count(*) from _raw")[0]
    if raw_rows != read[0] or read[0] != loaded[0] + quarantined[0] or read[1] != loaded[1] + quarantined[1]:
        raise IngestionError(
            f"{path.name}: reconciliation failed: read {raw_rows} rows / {read[1]} amount, "
            f"loaded {loaded[0]} / {loaded[1]}, quarantined {quarantined[0]} / {quarantined[1]}"
        )
    return read, loaded, quarantined


def load_file(con: duckdb.DuckDBPyConnection, contract: Contract, profile: SourceProfile,
              path: Path, params: dict, dedupe_across_dates: bool) -> FileReport:
    """Load one file; `params` carries business_date, run_id, salt and the reporting settings."""
    file_columns = set(read_raw(con, path, profile))
    missing = _missing_required(contract, profile, file_columns)
    if missing:
        hint = ""
        if len(file_columns) == 1:
            hint = f" (the whole header read as one column: is the delimiter {profile.delimiter!r}?)"
        raise IngestionError(
            f"{path.name}: missing required column(s) {', '.join(missing)}{hint}; "
            f"found: {', '.join(sorted(file_columns))[:300]}"
        )
    known = set(contract.names) | set(profile.rename)
    extra = sorted(file_columns - known)
    warnings = []
    if extra:
        fate = "kept in attributes" if contract.entity in KEEP_EXTRA_COLUMNS else "ignored"
        warnings.append(f"columns not in the contract {fate}: {', '.join(extra)}")

    params = {**params, "source_file": path.name, "entity": contract.entity}
    run(con, checked_sql(contract, profile, file_columns, params["bank_tz"], dedupe_across_dates), params)
    priced_sql = _priced_sql(contract)
    if priced_sql:
        if contract.extra.get("currency_from_account"):
            run(con, load_sql("staging/account_currency"), params)
        run(con, load_sql("staging/fx_latest"), params)
        run(con, priced_sql, params)
        _check_rates(con, path, params)
    run(con, _insert_sql(contract, bool(priced_sql)), params)
    run(con, load_sql("staging/quarantine_insert"), params)

    read, loaded, quarantined = _reconcile(con, contract, params, path)
    reasons = dict(run(
        con,
        "select reason, count(*) from quarantine where business_date = $business_date "
        "and entity = $entity and source_file = $source_file group by reason order by reason",
        params,
    ).fetchall())
    return FileReport(contract.entity, path.name, read[0], loaded[0], quarantined[0],
                      float(read[1]), float(loaded[1]), float(quarantined[1]), reasons, warnings)
