"""Reading one file into a lazy frame of its source columns: the bottom layer of data loading.

Nothing here knows the data contract: it decodes bytes (UTF-8, UTF-16,
Windows-1252), reads parquet, CSV and xlsx with a 1-based ``__row`` column,
and decides the number and date formats of text columns from the whole
column. ``validation`` builds on it; ``loading`` builds on both. This module
imports neither of them (data flows one way: reading -> validation -> loading).
"""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from servicechain.cli import UserError
from servicechain.privacy import project_root

SUFFIXES = (".parquet", ".csv", ".xlsx")
ROW = "__row"  # 1-based data row number as the user sees it (header not counted)
SNIFF_BYTES = 1 << 16
DELIMITERS = (",", ";", "\t", "|")


class ReadError(UserError):
    """A file that cannot be read at all (wrong format, truncated, binary, ...)."""


@dataclass
class Scanned:
    """A lazily scanned file: every source column plus ``__row``; notes are warnings for the report."""

    frame: pl.LazyFrame
    notes: list[str] = field(default_factory=list)
    text: bool = False  # all columns are strings (CSV), so types are parsed by the validator


def resolve(path: str | os.PathLike[str]) -> Path:
    """Resolve a user path: absolute, else relative to the cwd if it exists there, else to the project root."""
    p = Path(path).expanduser()
    if p.is_absolute() or p.exists():
        return p
    return project_root() / p


def table_files(data_dir: Path, name: str) -> list[Path]:
    """Files in ``data_dir`` that could hold table ``name`` (``name.parquet|csv|xlsx``, any case)."""
    if not data_dir.is_dir():
        return []
    return sorted(p for p in data_dir.iterdir() if p.is_file() and p.stem.lower() == name and p.suffix.lower() in SUFFIXES)


def scan(
    path: Path, *, delimiter: str | None = None, encoding: str | None = None, sheet: str | None = None
) -> Scanned:
    """Scan one file lazily with a 1-based ``__row`` column. Raises :class:`ReadError` if unreadable."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _scan_parquet(path)
    if suffix == ".xlsx":
        return _read_xlsx(path, sheet)
    if suffix == ".csv":
        return scan_csv(path, delimiter=delimiter, encoding=encoding)
    raise ReadError(f"{path.name}: unsupported file type {suffix!r}; use .parquet, .csv or .xlsx")


def _scan_parquet(path: Path) -> Scanned:
    with path.open("rb") as fh:
        head = fh.read(4)
        fh.seek(-4 if path.stat().st_size >= 4 else 0, os.SEEK_END)
        tail = fh.read(4)
    if head != b"PAR1" or tail not in (b"PAR1", b"PARE"):
        raise ReadError(f"{path.name}: not a parquet file (it is truncated, or really another format renamed)")
    lf = pl.scan_parquet(path, row_index_name=ROW, row_index_offset=1)
    try:
        lf.collect_schema()
    except Exception as exc:  # noqa: BLE001 - any reader failure is the user's file
        raise ReadError(f"{path.name}: cannot read parquet: {short(exc)}") from None
    return Scanned(lf)


def _read_xlsx(path: Path, sheet: str | None) -> Scanned:
    """Excel is read eagerly (no lazy reader exists); row numbers keep blank rows so they match Excel's - 1."""
    try:
        df = pl.read_excel(
            path,
            sheet_name=sheet,
            sheet_id=None if sheet else 1,
            drop_empty_rows=False,
            drop_empty_cols=False,
            raise_if_empty=False,
            infer_schema_length=None,
        )
    except Exception as exc:  # noqa: BLE001
        raise ReadError(f"{path.name}: cannot read the Excel file: {short(exc)}") from None
    assert isinstance(df, pl.DataFrame)
    df = df.with_row_index(ROW, offset=1)
    data_cols = [c for c in df.columns if c != ROW]
    if data_cols:
        df = df.filter(~pl.all_horizontal(pl.col(data_cols).is_null()))
    return Scanned(df.lazy())


def sniff(path: Path) -> tuple[bytes, str | None]:
    """First bytes of a text file and the encoding they show (``None`` = plain UTF-8 so far)."""
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head, "utf-16"
    if b"\x00" in head:
        raise ReadError(f"{path.name}: not a text file (binary content); export it as CSV, parquet or xlsx")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the sniff boundary
            return head, "non-utf8"
    return head, None


def guess_delimiter(header: str) -> str:
    """The most frequent of , ; tab | in the header line (European exports often use ;)."""
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def scan_csv(path: Path, *, delimiter: str | None = None, encoding: str | None = None) -> Scanned:
    """Scan a CSV as text. UTF-8 (with or without BOM) is scanned lazily; other encodings are re-decoded."""
    head, seen = sniff(path)
    notes: list[str] = []
    enc = (encoding or "").lower().replace("_", "-")
    if enc in ("utf8", "utf-8", "utf-8-sig", "utf8-sig"):
        enc = ""
    if not enc and seen == "utf-16":
        enc = "utf-16"
    if not enc and seen == "non-utf8":
        return decode_csv(path, delimiter=delimiter, encoding=None)
    if enc:
        return decode_csv(path, delimiter=delimiter, encoding=enc)
    first_line = head.decode("utf-8", errors="replace").lstrip("\ufeff").splitlines()[:1]
    if not first_line or not first_line[0].strip():
        raise ReadError(f"{path.name}: the file is empty (no header line)")
    sep = delimiter or guess_delimiter(first_line[0])
    lf = pl.scan_csv(
        path,
        separator=sep,
        infer_schema=False,
        row_index_name=ROW,
        row_index_offset=1,
        truncate_ragged_lines=False,
    )
    try:
        lf.collect_schema()
    except Exception as exc:  # noqa: BLE001
        raise ReadError(f"{path.name}: cannot read as CSV: {short(exc)}") from None
    return Scanned(lf, notes, text=True)


def decode_csv(path: Path, *, delimiter: str | None, encoding: str | None) -> Scanned:
    """Read a non-UTF-8 CSV: decode with the given encoding, or detect Windows-1252 / Latin-1.

    Eager (the whole file in memory), which is fine because it only happens for
    legacy exports; the note asks the user to check accents and save as UTF-8.
    """
    raw = path.read_bytes()
    notes: list[str] = []
    if encoding:
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ReadError(f"{path.name}: cannot decode as {encoding}: {short(exc)}") from None
        if encoding not in ("utf-16",):
            notes.append(f"read with encoding {encoding} as the mapping says")
    else:
        for enc in ("utf-8", "cp1252", "latin-1"):
            try:
                text = raw.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        if enc != "utf-8":
            notes.append(
                f"not UTF-8: read as {'Windows-1252' if enc == 'cp1252' else 'Latin-1'}; check that accents "
                "(á, ñ, ...) look right, or save the file as UTF-8 (or set encoding: in the mapping)"
            )
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    if not first.strip():
        raise ReadError(f"{path.name}: the file is empty (no header line)")
    sep = delimiter or guess_delimiter(first)
    try:
        df = pl.read_csv(text.encode("utf-8"), separator=sep, infer_schema=False)
    except Exception as exc:  # noqa: BLE001
        raise ReadError(f"{path.name}: cannot read as CSV: {short(exc)}") from None
    return Scanned(df.with_row_index(ROW, offset=1).lazy(), notes, text=True)


def is_encoding_error(exc: BaseException) -> bool:
    """True when a lazy CSV collect failed on invalid UTF-8 beyond the sniffed head."""
    return "utf-8" in str(exc).lower() or "utf8" in str(exc).lower()


def short(exc: BaseException) -> str:
    """A one-line, at most 200-character version of an exception message."""
    msg = " ".join(str(exc).split())
    return msg[:200] + ("..." if len(msg) > 200 else "")



_short = short  # the old private name


def height(f: pl.DataFrame | pl.LazyFrame) -> int:
    """Rows of an eager or lazy table (a parquet scan answers from its metadata)."""
    return f.height if isinstance(f, pl.DataFrame) else int(f.select(pl.len()).collect().item())
