"""SQL generated from a contract and a source profile: identifiers and literals come from
those YAML files (config), quoted; data only ever reaches DuckDB as parameters."""

from __future__ import annotations

from pipelines.core.contracts import Column, Contract, quote_ident as q, quote_literal as lit
from pipelines.ingestion.profiles import SourceProfile

TRUTHY = ("true", "t", "1", "y", "yes")
FALSY = ("false", "f", "0", "n", "no")


def canonical_text(col: Column, profile: SourceProfile, file_columns: set[str]) -> str:
    """The column's value as trimmed text ('' -> null) after renames, value maps and defaults."""
    if col.name in profile.derived:
        expr = f"nullif(trim(({profile.derived[col.name]})::varchar), '')"
    else:
        source = next((src for src, dst in profile.rename.items() if dst == col.name), col.name)
        expr = f"nullif(trim({q(source)}), '')" if source in file_columns else "null::varchar"
    mapping = profile.value_maps.get(col.name)
    if mapping:
        cases = " ".join(f"when {lit(k)} then {lit(v)}" for k, v in mapping.items())
        expr = f"(case {expr} {cases} else {expr} end)"
    if col.type in ("dec", "dec6") and profile.thousands_separator:
        expr = f"replace({expr}, {lit(profile.thousands_separator)}, '')"
    if col.default is not None or col.name in profile.defaults:
        expr = f"coalesce({expr}, {lit(profile.defaults.get(col.name, col.default))})"
    return expr


def typed_value(col: Column, text: str, profile: SourceProfile, bank_tz: str) -> str:
    """Text -> contract type; null where the text does not parse (judged as bad_type)."""
    match col.type:
        case "str":
            return text
        case "dec" | "dec6" | "int" | "double":
            # isfinite guards 'NaN'/'inf', which DuckDB would happily cast to double
            return f"try_cast({text} as {col.duckdb_type})"
        case "bool":
            truthy = ", ".join(lit(v) for v in TRUTHY)
            falsy = ", ".join(lit(v) for v in FALSY)
            return f"(case when lower({text}) in ({truthy}) then true when lower({text}) in ({falsy}) then false end)"
        case "date":
            if profile.date_format:
                return f"try_strptime({text}, {lit(profile.date_format)})::date"
            return f"try_cast({text} as date)"
        case "ts":
            if profile.timestamp_format:
                return f"try_strptime({text}, {lit(profile.timestamp_format)})::timestamp"
            return (
                f"(case when regexp_matches({text}, '(Z|[+-][0-9]{{2}}:?[0-9]{{2}})$') "
                f"then timezone({lit(bank_tz)}, try_cast({text} as timestamptz)) "
                f"else try_cast({text} as timestamp) end)"
            )
    raise ValueError(f"no typing rule for {col.type}")


def _violation(col: Column, reason: str, condition: str) -> str:
    shown = "'<masked>'" if col.pii else f"_t_{col.name}"
    return (f"case when {condition} then {{'column': {lit(col.name)}, 'reason': {lit(reason)}, "
            f"'value': {shown}}} end")


def _rules(contract: Contract, reference_keys: dict[str, str], seen: bool) -> list[tuple[Column, str, str]]:
    """(column, reason, condition) per rule, in the order rows are judged."""
    rules = []
    for col in contract.columns:
        text, value = f"_t_{col.name}", q(col.name)
        if col.required:
            rules.append((col, "missing_required", f"{text} is null"))
        if col.type != "str":
            rules.append((col, "bad_type", f"{text} is not null and {value} is null"))
        if col.allowed:
            allowed = ", ".join(lit(v) for v in col.allowed)
            rules.append((col, "unknown_code", f"{value} not in ({allowed})"))
        if col.min_exclusive is not None:
            reason = "non_positive" if col.min_exclusive == 0 else "out_of_range"
            rules.append((col, reason, f"{value} <= {col.min_exclusive}"))
        if col.min is not None:
            rules.append((col, "out_of_range", f"{value} < {col.min}"))
        if col.max is not None:
            rules.append((col, "out_of_range", f"{value} > {col.max}"))
        if col.not_after_business_date:
            limit = ("_business_date::timestamp + interval 1 day" if col.type == "ts"
                     else "_business_date")
            op = ">=" if col.type == "ts" else ">"
            rules.append((col, "future_date", f"{value} {op} {limit}"))
    first_key = contract.column(contract.key[0])
    rules.append((first_key, "duplicate_key", "_duplicate"))
    if seen:
        rules.append((first_key, "already_loaded", "_seen_before"))
    for col_name, ref_alias in reference_keys.items():
        rules.append((contract.column(col_name), "orphan_key",
                      f"{q(col_name)} is not null and {ref_alias}_found is null"))
    return rules


def violations(contract: Contract, reference_keys: dict[str, str], seen: bool = True) -> list[str]:
    """One struct-or-null per rule, in the order rows are judged (first one is the reason).

    `seen=False` leaves out `already_loaded`: whether an earlier date of the same load staged
    the key depends on that row passing every other rule."""
    return [_violation(col, reason, condition) for col, reason, condition in _rules(contract, reference_keys, seen)]


def broken(contract: Contract, reference_keys: dict[str, str], seen: bool = True) -> str:
    """True when the row breaks any rule: a cheap test, so only broken rows build their list."""
    return "(" + " or ".join(f"coalesce({condition}, false)"
                             for _, _, condition in _rules(contract, reference_keys, seen)) + ")"
