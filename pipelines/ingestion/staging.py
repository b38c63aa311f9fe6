"""Load an entity's landed files (one business date, or every date of a backfill, as one set)
into its staging table: type by the contract, quarantine what breaks it, convert money to the
reporting currency, reconcile and record each file's result.

Every rule is judged per row against that row's business date, so loading a range in one go
stages exactly what loading its dates one by one would."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

import duckdb

from pipelines.core.contracts import Contract, quote_ident as q
from pipelines.ingestion.errors import IngestionError
from pipelines.ingestion.landing import sha256_of
from pipelines.ingestion.profiles import SourceProfile
from pipelines.ingestion.reader import LandedFile, read_groups, read_raw
from pipelines.core.sql import load_sql, run
from pipelines.ingestion.typing_sql import broken, canonical_text, typed_value, violations

KEEP_EXTRA_COLUMNS = {"customers"}  # the contract keeps further customer columns as attributes


@dataclass
class FileReport:
    business_date: date
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
    """Left joins to the referenced keys known on or before the row's date; `<alias>_found` is null for orphans.

    A referenced entity loads before the entities pointing at it (LOAD_ORDER), so its staging
    table already holds every date of the load."""
    aliases, joins, found = {}, [], []
    for col in contract.columns:
        if not col.references:
            continue
        ref_entity, ref_col = col.references.split(".")
        assert ref_entity != contract.entity, "a self-reference would need the load's own earlier dates"
        alias = f"_ref_{col.name}"
        aliases[col.name] = alias
        joins.append(
            f"left join (select {q(ref_col)} as _ref_key, min(business_date) as _ref_since "
            f"from {q(staging_table(ref_entity))} group by all) {alias} "
            f"on t.{q(col.name)} = {alias}._ref_key and {alias}._ref_since <= t._business_date"
        )
        found.append(f", {alias}._ref_since as {alias}_found")
    return aliases, "\n".join(joins), "".join(found)


def _canon_ddl(contract: Contract) -> str:
    cols = ["_business_date date", "_source_file varchar", "_line bigint"]
    cols += [f"{q('_t_' + c.name)} varchar" for c in contract.columns]
    if contract.entity in KEEP_EXTRA_COLUMNS:
        cols.append("_attributes json")
    return f"create or replace temp table _canon ({', '.join(cols)})"


def canon_sql(contract: Contract, profile: SourceProfile, file_columns: set[str]) -> str:
    """`_raw` (one group of files) -> `_canon`: each contract column as trimmed text."""
    texts = ", ".join(f"{canonical_text(c, profile, file_columns)} as {q('_t_' + c.name)}"
                      for c in contract.columns)
    extras = ""
    if contract.entity in KEEP_EXTRA_COLUMNS:
        # Header names are quoted as identifiers, never interpolated as SQL.
        extra = sorted(file_columns - set(contract.names) - set(profile.rename))
        packed = ", ".join(f"{q(c)} := {q(c)}" for c in extra)
        extras = f", to_json(struct_pack({packed})) as _attributes" if extra else ", null::json as _attributes"
    return f"insert into _canon by name select _business_date, _source_file, _line, {texts}{extras} from _raw"


def checked_sql(contract: Contract, profile: SourceProfile, bank_tz: str, dedupe_across_dates: bool) -> str:
    """`_canon` -> `_checked`: typed values and the list of broken rules of every row.

    Per-key facts (first line of a key on a date, first date a key passed) are narrow group-bys
    joined back: window functions would sort every wide row."""
    typed = ", ".join(f"{typed_value(c, q('_t_' + c.name), profile, bank_tz)} as {q(c.name)}"
                      for c in contract.columns)
    key = ", ".join(q(k) for k in contract.key)
    same_key = " and ".join(f"t.{q(k)} is not distinct from f.{q(k)}" for k in contract.key)
    aliases, ref_joins, ref_found = _reference_joins(contract)
    rules = ",\n        ".join(violations(contract, aliases))
    amount = q(contract.amount) if contract.amount else "null::decimal(18,2)"
    if dedupe_across_dates:
        # A key is already loaded when a staged row of an earlier date has it (outside this load),
        # or when an earlier date of this load has it in a row that passes every other rule: the
        # row that one-by-one loading would have staged.
        on_stg = " and ".join(f"t.{q(k)} = _stg.{q(k)}" for k in contract.key)
        on_clean = " and ".join(f"t.{q(k)} = f.{q(k)}" for k in contract.key)
        seen_join = (f"left join (select {key}, min(s.business_date) as _stg_since "
                     f"from {q(staging_table(contract.entity))} s semi join ranked using ({key}) group by all) _stg "
                     f"on {on_stg}")
        seen_ctes = f"""
clean_otherwise as (
    select *, not {broken(contract, aliases, seen=False)} as _clean_otherwise
    from joined
),
first_clean as (
    select {key}, min(_business_date) as _clean_since from clean_otherwise where _clean_otherwise group by all
),
seen as (
    select t.*, coalesce(least(t._stg_since, f._clean_since) < t._business_date, false) as _seen_before
    from clean_otherwise t
    left join first_clean f on {on_clean}
)"""
        since = ", _stg._stg_since"
    else:
        seen_join, since = "", ""
        seen_ctes = "\nseen as (select *, false as _seen_before from joined)"
    return f"""
create or replace temp table _checked as
with typed as (
    select *, {typed} from _canon
),
first_lines as (
    select _business_date, {key}, min(_line) as _first_line from typed group by all
),
ranked as (
    select t.*, t._line > f._first_line as _duplicate
    from typed t
    join first_lines f on t._business_date = f._business_date and {same_key}
),
joined as (
    select t.*{ref_found}{since}
    from ranked t
    {ref_joins}
    {seen_join}
),{seen_ctes}
select *,
    case when {broken(contract, aliases)} then list_filter([
        {rules}
    ], lambda x: x is not null) else [] end as _violations,
    {amount}::decimal(18,2) as _amount
from seen
"""


def _needed_sql(contract: Contract) -> str | None:
    """`_checked` -> `_needs_rate`: the rows to stage whose amount is not in the reporting currency
    (their keys, currency and event day only: pricing never carries the wide rows)."""
    if not contract.amount:
        return None
    event_day = f"c.{q(contract.event_time)}::date"
    if contract.currency:
        currency, join = f"c.{q(contract.currency)}", ""
    elif contract.extra.get("currency_from_account"):
        # The account's currency as last delivered on or before the row's business date.
        currency = "coalesce(ac.currency, $reporting_currency)"
        join = ("asof left join (select account_id, business_date, currency from stg_accounts) ac "
                "on ac.account_id = c.account_id and c._business_date >= ac.business_date")
    else:
        return None
    return f"""
create or replace temp table _needs_rate as
select * from (
    select c._business_date, c._source_file, c._line, {currency} as _currency, {event_day} as _event_day
    from (select * from _checked where len(_violations) = 0) c {join}
)
where _currency <> $reporting_currency
"""


def _check_rates(con: duckdb.DuckDBPyConnection, params: dict) -> None:
    """Fail on the first file with an amount that has no usable rate."""
    missing = run(
        con,
        "select _source_file, _currency, min(_event_day), count(*) from _rates "
        "where (_rate is null or _rate_date < _event_day - $fx_max_age_days::integer) "
        "group by _business_date, _source_file, _currency order by _business_date, _currency",
        params,
    ).fetchall()
    if missing:
        first = [m for m in missing if m[0] == missing[0][0]]
        detail = "; ".join(f"{cur} from {day} ({n} rows)" for _, cur, day, n in first)
        raise IngestionError(
            f"{first[0][0]}: no fx rate to {params['reporting_currency']} within "
            f"{params['fx_max_age_days']} days for {detail}; amounts are never converted at 1.0"
        )


def _insert_sql(contract: Contract, priced: bool) -> str:
    cols = ["_business_date as business_date"]
    cols += [q(c.name) for c in contract.staged_columns]
    cols += [f"case when {q('_t_' + c.name)} is not null then sha256($salt || {q('_t_' + c.name)}) end "
             f"as {q(c.name + '_key')}" for c in contract.pseudonymised_columns]
    if priced:
        cols.append(f"case when _rates._line is null then {q(contract.amount)} "
                    f"else round({q(contract.amount)} * _rate, 2) end as amount_reporting")
    if contract.entity in KEEP_EXTRA_COLUMNS:
        cols.append("_attributes as attributes")
    cols += ["_source_file", "_line", "$run_id as _run_id"]
    source = "_checked"
    if priced:
        source += " left join _rates using (_business_date, _source_file, _line)"
    source += " where len(_violations) = 0"
    return f"insert into {q(staging_table(contract.entity))} by name select {', '.join(cols)} from {source}"


def _file_stats_sql(contract: Contract) -> str:
    """Per file: rows and amounts read (`_canon`, `_checked`), staged and quarantined (their tables)."""
    amount = q(contract.amount) if contract.amount else "null::decimal(18,2)"
    table = q(staging_table(contract.entity))
    return f"""
create or replace temp table _file_stats as
with files as (
    select business_date, source_file from _load_files
),
raw as (
    select * from _raw_counts
),
read as (
    select _business_date as business_date, _source_file as source_file, count(*) as n,
        coalesce(sum(_amount), 0) as amount
    from _checked group by all
),
loaded as (
    select business_date, _source_file as source_file, count(*) as n, coalesce(sum({amount}), 0) as amount
    from {table} s semi join files on s.business_date = files.business_date and s._source_file = files.source_file
    group by all
),
quarantined as (
    select business_date, source_file, count(*) as n, coalesce(sum(amount), 0) as amount
    from quarantine q semi join files using (business_date, source_file)
    where q.entity = $entity
    group by all
),
reason_counts as (
    select business_date, source_file, reason, count(*) as n
    from quarantine q semi join files using (business_date, source_file)
    where q.entity = $entity
    group by all
),
reasons as (
    -- the json.dumps(sort_keys=True) text of {{reason: count}}
    select business_date, source_file,
        '{{' || string_agg('"' || reason || '": ' || n, ', ' order by reason) || '}}' as reasons
    from reason_counts group by all
),
final as (
    select
        files.business_date,
        files.source_file,
        coalesce(raw.n, 0) as raw_rows,
        coalesce(read.n, 0) as rows_read,
        coalesce(loaded.n, 0) as rows_loaded,
        coalesce(quarantined.n, 0) as rows_quarantined,
        coalesce(read.amount, 0) as amount_read,
        coalesce(loaded.amount, 0) as amount_loaded,
        coalesce(quarantined.amount, 0) as amount_quarantined,
        coalesce(reasons.reasons, '{{}}') as reasons
    from files
    left join raw using (business_date, source_file)
    left join read using (business_date, source_file)
    left join loaded using (business_date, source_file)
    left join quarantined using (business_date, source_file)
    left join reasons using (business_date, source_file)
)
select * from final
"""


def _reconcile(con, contract: Contract, params: dict) -> list[FileReport]:
    run(con, _file_stats_sql(contract), params)
    stats = con.execute(
        "select s.*, f.warnings from _file_stats s join _load_files f using (business_date, source_file) "
        "order by business_date").fetchall()
    reports = []
    for (day, name, raw_rows, n_read, n_loaded, n_quarantined, a_read, a_loaded, a_quarantined,
         reasons, warnings) in stats:
        if raw_rows != n_read or n_read != n_loaded + n_quarantined or a_read != a_loaded + a_quarantined:
            raise IngestionError(
                f"{name}: reconciliation failed: read {raw_rows} rows / {a_read} amount, "
                f"loaded {n_loaded} / {a_loaded}, quarantined {n_quarantined} / {a_quarantined}"
            )
        reports.append(FileReport(day, contract.entity, name, n_read, n_loaded, n_quarantined, float(a_read),
                                  float(a_loaded), float(a_quarantined), json.loads(reasons),
                                  warnings.split("; ") if warnings else []))
    return reports


def _read_files(con, contract: Contract, files: list[LandedFile]) -> dict[str, str | None]:
    """Every file into `_canon`, group by group; returns each file's warnings."""
    con.execute(_canon_ddl(contract))
    warnings: dict[str, str | None] = {}
    for group in read_groups(files):
        profile = group[0].profile
        file_columns = set(read_raw(con, group))
        missing = _missing_required(contract, profile, file_columns)
        if missing:
            hint = ""
            if len(file_columns) == 1:
                hint = f" (the whole header read as one column: is the delimiter {profile.delimiter!r}?)"
            raise IngestionError(
                f"{group[0].path.name}: missing required column(s) {', '.join(missing)}{hint}; "
                f"found: {', '.join(sorted(file_columns))[:300]}"
            )
        extra = sorted(file_columns - set(contract.names) - set(profile.rename))
        warning = None
        if extra:
            fate = "kept in attributes" if contract.entity in KEEP_EXTRA_COLUMNS else "ignored"
            warning = f"columns not in the contract {fate}: {', '.join(extra)}"
        warnings.update({f.path.name: warning for f in group})
        con.execute(canon_sql(contract, profile, file_columns))
        con.execute("drop table _raw")
    return warnings


def load_files(con: duckdb.DuckDBPyConnection, contract: Contract, files: list[LandedFile],
               params: dict, dedupe_across_dates: bool) -> list[FileReport]:
    """Load an entity's files (at most one per business date) as one set; one report per file, oldest first.

    `params` carries run_id, salt and the reporting settings. The dates' earlier loads must be
    deleted already."""
    params = {**params, "entity": contract.entity}
    warnings = _read_files(con, contract, files)
    con.execute(
        "create or replace temp table _load_files as select unnest($dates::date[]) as business_date, "
        "unnest($names::varchar[]) as source_file, unnest($digests::varchar[]) as file_sha256, "
        "unnest($warnings::varchar[]) as warnings",
        {"dates": [f.business_date for f in files], "names": [f.path.name for f in files],
         "digests": [sha256_of(f.path) for f in files], "warnings": [warnings[f.path.name] for f in files]},
    )
    profile = files[0].profile
    run(con, checked_sql(contract, profile, params["bank_tz"], dedupe_across_dates), params)
    # Rows as read, kept for reconciliation; the texts themselves are no longer needed.
    con.execute("create or replace temp table _raw_counts as select _business_date as business_date, "
                "_source_file as source_file, count(*) as n from _canon group by all")
    con.execute("drop table _canon")
    needed_sql = _needed_sql(contract)
    if needed_sql:
        run(con, needed_sql, params)
        run(con, load_sql("staging/rates"), params)
        con.execute("drop table _needs_rate")
        _check_rates(con, params)
    run(con, _insert_sql(contract, bool(needed_sql)), params)
    run(con, load_sql("staging/quarantine_insert"), params)
    reports = _reconcile(con, contract, params)
    run(con, load_sql("staging/ingestion_log_insert"), params)
    for table in ("_raw_counts", "_checked", "_rates", "_file_stats", "_load_files"):
        con.execute(f"drop table if exists {table}")
    return reports
