"""Reading one landed file, whole or not at all, into an all-text temp table `_raw`.

Every column is read as text so that typing and its failures happen in one place (the
contract); `_line` is the file line number (header = line 1) for quarantine rows."""

from __future__ import annotations

import codecs
import gzip
import tempfile
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipelines.ingestion.errors import IngestionError
from pipelines.ingestion.profiles import SourceProfile

_CHUNK = 1 << 20


def file_format(path: Path, profile: SourceProfile) -> str:
    if profile.format:
        return profile.format
    return "parquet" if path.suffix == ".parquet" else "csv"


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


def read_raw(con: duckdb.DuckDBPyConnection, path: Path, profile: SourceProfile) -> list[str]:
    """Create temp table `_raw` (text columns + `_line`) from `path`; return the file's column names."""
    con.execute("drop table if exists _raw")
    try:
        if file_format(path, profile) == "parquet":
            con.execute(
                "create temp table _raw as "
                "select (file_row_number + 1)::bigint as _line, columns(* exclude (file_row_number))::varchar "
                "from read_parquet($path, file_row_number = true)",
                {"path": str(path)},
            )
        else:
            if path.stat().st_size == 0:
                raise IngestionError(f"{path.name}: empty file (not even a header row)")
            with _utf8_source(path, profile.encoding) as source:
                con.execute(
                    "create temp table _raw as "
                    "select (row_number() over () + 1)::bigint as _line, * "
                    "from read_csv($path, header = true, all_varchar = true, delim = $delim, "
                    "quote = $quote, escape = $quote, strict_mode = true, null_padding = false)",
                    {"path": str(source), "delim": profile.delimiter, "quote": profile.quote},
                )
    except duckdb.Error as exc:
        raise IngestionError(_explain(path, exc, profile)) from None
    columns = [row[0] for row in con.execute("describe _raw").fetchall()]
    return [c.lstrip("\ufeff") for c in columns if c != "_line"]
