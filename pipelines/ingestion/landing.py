"""Finding a business date's extracts in the landing zone."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

from pipelines.ingestion.errors import IngestionError
from pipelines.ingestion.profiles import SourceProfile

SUFFIXES = (".csv", ".csv.gz", ".parquet")


def find_file(landing: Path, entity: str, profile: SourceProfile, business_date: date) -> Path | None:
    folder = landing / entity
    stem = profile.file_stem(entity, business_date)
    explicit = folder / stem
    if "." in stem and explicit.is_file():
        return explicit
    found = [folder / f"{stem}{suffix}" for suffix in SUFFIXES if (folder / f"{stem}{suffix}").is_file()]
    if len(found) > 1:
        raise IngestionError(
            f"{entity} {business_date}: two files for one business date "
            f"({', '.join(p.name for p in found)}); deliver one"
        )
    return found[0] if found else None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def landed_dates(landing: Path, entity: str) -> set[date]:
    """Business dates with an identity-named file of the entity (used by the sensor)."""
    dates = set()
    for path in (landing / entity).glob(f"{entity}_*"):
        token = path.name[len(entity) + 1 :].split(".")[0]
        if len(token) == 8 and token.isdigit():
            dates.add(date(int(token[:4]), int(token[4:6]), int(token[6:])))
    return dates
