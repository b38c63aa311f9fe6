"""Reading landed files, each whole or not at all, into an all-text temp table `_raw`.

Every column is read as text so that typing and its failures happen in one place (the
contract); `_line` is the file line number (header = line 1) for quarantine rows, and
`_business_date` / `_source_file` say which delivery a row came from. Files that share a
format and a header are read in one DuckDB scan: a backfill of a year is a few reads, not
thousands."""

from __future__ import annotations

import codecs
import csv
import gzip
import tempfile
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from pipelines.ingestion.errors import IngestionError
from pipelines.ingestion.profiles import SourceProfile

_CHUNK = 1 << 20


@dataclass(frozen=True)
class LandedFile:
    """One entity's extract for one business date."""

    business_date: date
    path: Path
    profile: SourceProfile


def file_format(path: Path, profile: SourceProfile) -> str:
    if profile.format:
        return profile.format
    return "parquet" if path.suffix == ".parquet" else "csv"


def _header(path: Path, profile: SourceProfile) -> tuple:
    """The file's column names as Python reads them: only to group files that one scan can read."""
    try:
        if file_format(path, profile) == "parquet":
            import pyarrow.parquet as pq

            return ("parquet", *pq.read_schema(path).names)
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rb") as fh:
            line = fh.readline(1 << 16).decode(profile.encoding, errors="replace").lstrip("\ufeff")
        names = next(csv.reader([line], delimiter=profile.delimiter, quotechar=profile.quote), [])
        return ("csv.gz" if path.name.endswith(".gz") else "csv", *(n.strip() for n in names))
    except Exception:  # noqa: BLE001 - an unreadable header reads alone and fails there, with its reason
        return ("unreadable", str(path))


def read_groups(files: list[LandedFile]) -> list[list[LandedFile]]:
    """Files (oldest first) grouped by format and header, each group oldest first."""
    groups: dict[tuple, list[LandedFile]] = {}
    for f in sorted(files, key=lambda f: f.business_date):
        if f.path.stat().st_size == 0 and file_format(f.path, f.profile) == "csv":
            raise IngestionError(f"{f.path.name}: empty file (not even a header row)")
        groups.setdefault(_header(f.path, f.profile), []).append(f)
    return list(groups.values())


@contextmanager
def _utf8_source(path: Path, encoding: str):
    """Yield a path DuckDB can read as UTF-8: the file itself, or a streamed transcoded copy."""
    if encoding in ("utf-8", "utf-8-sig"):
        yield path
        return
    opener = gzip.open if path.name.endswith(".gz") else open
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    with tempfile.NamedTemporaryFile("w", suffix=".csv", encoding="utf-8", delete=True) as out:
        offset = 0
        try:
            with opener(path, "rb") as fh:
                for block in iter(lambda: fh.read(_CHUNK), b""):
                    out.write(decoder.decode(block))
                    offset += len(block)
                out.write(decoder.decode(b"", final=True))
        except UnicodeDecodeError as exc:
            raise IngestionError(
                f"{path.name}: bytes at offset {offset + exc.start} do not decode as {encoding}"
            ) from None
        except (OSError, EOFError) as exc:
            raise IngestionError(f"{path.name}: cannot be read ({exc})") from None
        out.flush()
        yield Path(out.name)


def _explain(path: Path, exc: Exception, profile: SourceProfile) -> str:
    text = str(exc)
    if "unicode" in text.lower() or "utf-8" in text.lower() or "utf8" in text.lower():
        return (f"{path.name}: bytes do not decode as {profile.encoding}; if the source system "
                "writes GBK/GB18030, say so in the profile's `encoding`")
    if "gzip" in text.lower() or "compress" in text.lower() or "zlib" in text.lower():
        return f"{path.name}: compressed data is corrupt or truncated ({text.splitlines()[0]})"
    return f"{path.name}: cannot be read as a whole ({text.splitlines()[0]})"


# Which delivery each scanned row came from: `_file` (the path DuckDB read) -> date and name.
_ORIGIN = ("join (select unnest($paths::varchar[]) as _path, unnest($dates::date[]) as _business_date, "
           "unnest($names::varchar[]) as _source_file) _origin on _scan._file = _origin._path")


def _scan(con: duckdb.DuckDBPyConnection, files: list[LandedFile], create: bool) -> None:
    profile = files[0].profile
    head = "create or replace temp table _raw as" if create else "insert into _raw by name"
    with ExitStack() as stack:
        sources = [stack.enter_context(_utf8_source(f.path, profile.encoding))
                   if file_format(f.path, profile) == "csv" else f.path for f in files]
        params = {"paths": [str(s) for s in sources], "dates": [f.business_date for f in files],
                  "names": [f.path.name for f in files]}
        if file_format(files[0].path, profile) == "parquet":
            con.execute(
                f"{head} select _origin._business_date, _origin._source_file, "
                "(file_row_number + 1)::bigint as _line, columns(* exclude (file_row_number, _file, _path, "
                "_business_date, _source_file))::varchar "
                "from read_parquet($paths, file_row_number = true, filename = '_file', union_by_name = true) "
                f"_scan {_ORIGIN}",
                params,
            )
        else:
            # Lines are counted in scan order (DuckDB keeps it) before the join can reorder rows.
            con.execute(
                f"{head} select _origin._business_date, _origin._source_file, "
                "(_rn - min(_rn) over (partition by _scan._file) + 2)::bigint as _line, "
                "_scan.* exclude (_rn, _file) "
                "from (select row_number() over () as _rn, * from read_csv($paths, header = true, "
                "all_varchar = true, delim = $delim, quote = $quote, escape = $quote, strict_mode = true, "
                "null_padding = false, filename = '_file')) _scan "
                f"{_ORIGIN}",
                {**params, "delim": profile.delimiter, "quote": profile.quote},
            )


def read_raw(con: duckdb.DuckDBPyConnection, files: list[LandedFile]) -> list[str]:
    """Create temp table `_raw` from one group of `read_groups`; return the files' column names.

    One scan for the group; if it fails, each file is read alone, so the error names the file
    (and files that only fail together still load)."""
    try:
        _scan(con, files, create=True)
    except duckdb.Error as exc:
        if len(files) == 1:
            raise IngestionError(_explain(files[0].path, exc, files[0].profile)) from None
        for i, f in enumerate(files):
            try:
                _scan(con, [f], create=i == 0)
            except duckdb.Error as one_exc:
                raise IngestionError(_explain(f.path, one_exc, f.profile)) from None
    columns = [row[0] for row in con.execute("describe _raw").fetchall()]
    internal = {"_business_date", "_source_file", "_line"}
    return [c.lstrip("\ufeff") for c in columns if c not in internal]
