"""Source profiles: how one source system's extract maps onto an entity of the contract.

A profile sits next to the extracts it describes (`<landing>/<entity>/_profile.yaml`), so a
new bank or source system is configuration, not code. Without one, the identity profile
(the contract as is) applies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

PROFILE_FILE = "_profile.yaml"
SUPPORTED_ENCODINGS = {"utf-8", "utf-8-sig", "gbk", "gb18030", "gb2312"}


@dataclass(frozen=True)
class SourceProfile:
    name: str = "identity"
    file_pattern: str = "{entity}_{yyyymmdd}"  # matched with .csv, .csv.gz, .parquet (or an explicit suffix)
    format: str | None = None  # csv | parquet; None = by suffix
    delimiter: str = ","
    encoding: str = "utf-8"
    quote: str = '"'
    date_format: str | None = None  # strptime format; None = ISO
    timestamp_format: str | None = None
    rename: dict[str, str] = field(default_factory=dict)  # source column -> contract column
    value_maps: dict[str, dict[str, str]] = field(default_factory=dict)  # contract column -> {source: contract}
    defaults: dict[str, str] = field(default_factory=dict)  # contract column -> constant
    derived: dict[str, str] = field(default_factory=dict)  # contract column -> DuckDB SQL over source columns
    thousands_separator: str | None = None

    def file_stem(self, entity: str, business_date: date) -> str:
        return self.file_pattern.format(
            entity=entity,
            yyyymmdd=business_date.strftime("%Y%m%d"),
            yyyy_mm_dd=business_date.isoformat(),
        )


def load_profile(path: Path) -> SourceProfile:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    unknown = set(raw) - set(SourceProfile.__dataclass_fields__) - {"entity", "description"}
    if unknown:
        raise ValueError(f"{path}: unknown profile keys {sorted(unknown)}")
    encoding = str(raw.get("encoding", "utf-8")).lower()
    if encoding not in SUPPORTED_ENCODINGS:
        raise ValueError(f"{path}: encoding {encoding!r} not one of {sorted(SUPPORTED_ENCODINGS)}")
    fields = {k: v for k, v in raw.items() if k in SourceProfile.__dataclass_fields__}
    fields["encoding"] = encoding
    fields["value_maps"] = {col: {str(k): str(v) for k, v in m.items()}
                            for col, m in (raw.get("value_maps") or {}).items()}
    fields["defaults"] = {k: str(v) for k, v in (raw.get("defaults") or {}).items()}
    return SourceProfile(**fields)


def profile_for(landing: Path, entity: str) -> SourceProfile:
    path = landing / entity / PROFILE_FILE
    return load_profile(path) if path.exists() else SourceProfile()
