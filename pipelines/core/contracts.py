"""Machine-readable data contracts: the one source of truth for typing, quarantine rules,
Great Expectations suites and the README's data dictionary."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "data_contracts"

# Contract type -> DuckDB type. Money is DECIMAL end to end: float sums drift by fen.
DUCKDB_TYPES = {
    "str": "varchar",
    "date": "date",
    "ts": "timestamp",
    "dec": "decimal(18,2)",
    "dec6": "decimal(18,6)",
    "int": "bigint",
    "bool": "boolean",
    "double": "double",
    "list_str": "varchar[]",
}

# Reference entities before the events that point at them, so orphan checks see same-day keys.
LOAD_ORDER = (
    "fx_rates",
    "products",
    "relationship_managers",
    "customers",
    "accounts",
    "transactions",
    "balances",
    "loan_performance",
    "interactions",
    "feedback",
)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    pii: bool = False
    # A PII column the analytics still need to join on (e.g. counterparty account for fan-in
    # patterns) is kept only as a salted hash in `<name>_key`.
    pseudonymise: bool = False
    allowed: tuple[str, ...] | None = None
    default: str | None = None
    min: float | None = None
    max: float | None = None
    min_exclusive: float | None = None
    not_after_business_date: bool = False
    references: str | None = None
    description: str = ""

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.type]


@dataclass(frozen=True)
class Contract:
    entity: str
    description: str
    kind: str  # reference | event | output
    required: bool
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    event_time: str | None = None
    amount: str | None = None
    currency: str | None = None
    schema_version: str = "1.0.0"
    extra: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_names(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def staged_columns(self) -> list[Column]:
        """Columns kept in the warehouse as delivered: direct identifiers are dropped at the door."""
        return [c for c in self.columns if not c.pii]

    @property
    def pseudonymised_columns(self) -> list[Column]:
        return [c for c in self.columns if c.pseudonymise]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.entity} has no column {name!r}")


def _parse(raw: dict) -> Contract:
    columns = tuple(
        Column(
            **{
                **{k: v for k, v in col.items() if k != "allowed"},
                "allowed": tuple(col["allowed"]) if col.get("allowed") else None,
            }
        )
        for col in raw["columns"]
    )
    unknown_types = {c.type for c in columns} - DUCKDB_TYPES.keys()
    if unknown_types:
        raise ValueError(f"contract {raw['entity']}: unknown types {sorted(unknown_types)}")
    known = {"entity", "description", "kind", "required", "key", "columns", "event_time",
             "amount", "currency", "schema_version"}
    return Contract(
        entity=raw["entity"],
        description=raw.get("description", ""),
        kind=raw.get("kind", "output"),
        required=bool(raw.get("required", False)),
        key=tuple(raw.get("key", [])),
        columns=columns,
        event_time=raw.get("event_time"),
        amount=raw.get("amount"),
        currency=raw.get("currency"),
        schema_version=str(raw.get("schema_version", "1.0.0")),
        extra={k: v for k, v in raw.items() if k not in known},
    )


def _load_dir(sub: str) -> dict[str, Contract]:
    return {
        c.entity: c
        for c in (_parse(yaml.safe_load(p.read_text(encoding="utf-8")))
                  for p in sorted((CONTRACTS_DIR / sub).glob("*.yaml")))
    }


@cache
def input_contracts() -> dict[str, Contract]:
    contracts = _load_dir("inputs")
    missing = set(LOAD_ORDER) - contracts.keys()
    if missing:
        raise ValueError(f"input contracts missing for {sorted(missing)}")
    return contracts


@cache
def output_contracts() -> dict[str, Contract]:
    return _load_dir("outputs")


def quote_ident(name: str) -> str:
    """Quote an identifier taken from a contract or profile (never from data)."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """Quote a literal taken from a contract or profile (never from data)."""
    return "'" + str(value).replace("'", "''") + "'"
