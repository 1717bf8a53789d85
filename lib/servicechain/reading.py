"""Reading one file into a lazy frame of its source columns: the bottom layer of data loading.

Nothing here knows the data contract: it decodes bytes (UTF-8, UTF-16,
Windows-1252), reads parquet, CSV and xlsx with a 1-based ``__row`` column,
and decides the number and date formats of text columns from the whole
column. ``validation`` builds on it; ``loading`` builds on both. This module
imports neither of them (data flows one way: reading -> validation -> loading).
"""

from __future__ import annotations

import codecs
import difflib
import errno
import os
import re
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
    delimiter: str | None = None  # the CSV field separator used (a hint for the number format)
    sheets: tuple[str, ...] = ()  # an Excel workbook's sheet names
    sheet: str | None = None  # the sheet that was read


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


def not_a_file(path: Path) -> str | None:
    """Why ``path`` cannot be read as a file (a folder, a broken link, ...), or None if it is a file or absent.

    The message does not repeat the file name (it is said where the message is shown).
    """
    if path.is_symlink() and not path.exists():
        return f"this is a broken link to {os.readlink(path)}, which does not exist; link or copy the real file"
    if path.is_dir():
        return "this is a folder, not a file; put the table's file itself in the data folder"
    if path.exists() and not path.is_file():
        return "this is not a regular file (a device, pipe or socket)"
    return None


def odd_entries(data_dir: Path, name: str) -> list[tuple[Path, str]]:
    """Entries named like table ``name`` that are not readable files (folders, broken links), with why."""
    if not data_dir.is_dir():
        return []
    found = sorted(p for p in data_dir.iterdir() if p.stem.lower() == name and p.suffix.lower() in SUFFIXES)
    return [(p, why) for p in found if (why := not_a_file(p))]


def os_error_message(path: Path, exc: BaseException) -> str | None:
    """A one-line message for an operating-system read failure (permissions, I/O error), or None if it is not one."""
    code = exc.errno if isinstance(exc, OSError) else None
    if code is None:
        m = re.search(r"os error (\d+)|\[Errno (\d+)\]", str(exc))
        if m is None:
            return None
        code = int(m.group(1) or m.group(2))
    if code in (errno.EACCES, errno.EPERM):
        return f"{path.name}: permission denied: the account running servicechain may not read this file; fix its permissions"
    what = os.strerror(code).lower() if code else "read error"
    return (
        f"{path.name}: the file cannot be read ({what}, errno {code}); check that the disk or network share is "
        "available and that the file is not still being copied"
    )


def first_line(exc: BaseException) -> str:
    """The first line of an exception message, without a library's advice that follows it."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return short(Exception(lines[0])) if lines else type(exc).__name__


def scan(
    path: Path, *, delimiter: str | None = None, encoding: str | None = None, sheet: str | None = None
) -> Scanned:
    """Scan one file lazily with a 1-based ``__row`` column. Raises :class:`ReadError` if unreadable."""
    suffix = path.suffix.lower()
    why = not_a_file(path)
    if why:
        raise ReadError(f"{path.name}: {why}")
    try:
        if suffix == ".parquet":
            return _scan_parquet(path)
        if suffix == ".xlsx":
            return _read_xlsx(path, sheet)
        if suffix == ".csv":
            return scan_csv(path, delimiter=delimiter, encoding=encoding)
    except OSError as exc:
        raise ReadError(os_error_message(path, exc) or f"{path.name}: cannot be read: {first_line(exc)}") from None
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
    """Excel is read eagerly (no lazy reader exists); row numbers keep blank rows so they match Excel's - 1.

    Without ``sheet`` the first sheet is read; when it holds no table and
    other sheets exist, or ``sheet`` names no sheet, the error lists the
    workbook's sheets and shows the mapping's ``sheet:`` option.
    """
    import fastexcel

    try:
        book = fastexcel.read_excel(path)
        names = tuple(book.sheet_names)
    except OSError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise ReadError(os_error_message(path, exc) or f"{path.name}: cannot read the Excel file: {first_line(exc)}") from None
    listing = ", ".join(repr(n) for n in names)
    if sheet is not None and sheet not in names:
        close = difflib.get_close_matches(sheet, names, 1, 0.6) or [n for n in names if n.strip().lower() == sheet.strip().lower()]
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ReadError(f"{path.name}: no sheet named {sheet!r}; {hint}the workbook has sheets {listing}; fix sheet: in the mapping")
    target = sheet if sheet is not None else (names[0] if names else None)
    try:
        header = [str(v) if v is not None else "" for v in
                  book.load_sheet(target, header_row=None, n_rows=1).to_polars().row(0)] if target is not None else []
    except Exception:  # noqa: BLE001 - an empty sheet has no first row
        header = []
    try:
        df = pl.read_excel(
            path,
            sheet_name=target,
            drop_empty_rows=False,
            drop_empty_cols=False,
            raise_if_empty=False,
            infer_schema_length=None,
        )
    except Exception as exc:  # noqa: BLE001
        raise ReadError(f"{path.name}: cannot read the Excel file: {first_line(exc)}") from None
    assert isinstance(df, pl.DataFrame)
    others = [n for n in names[1:] if _has_rows(book, n)] if sheet is None and (df.width == 0 or df.height == 0) else []
    if others or (sheet is None and len(names) > 1 and df.width == 0):
        show = others[0] if others else names[1]
        raise ReadError(
            f"{path.name}: the first sheet {names[0]!r} holds no table; the workbook has sheets {listing}; "
            f"set sheet: {show!r} for this table in the mapping"
        )
    dup = duplicate_names(header)
    if dup:
        raise ReadError(f"{path.name}: {dup}")
    df = df.with_row_index(ROW, offset=1)
    data_cols = [c for c in df.columns if c != ROW]
    if data_cols:
        df = df.filter(~pl.all_horizontal(pl.col(data_cols).is_null()))
    return Scanned(df.lazy(), sheets=names, sheet=target)


def _has_rows(book: object, sheet: str) -> bool:
    """True when a workbook sheet has a header line and at least one row under it."""
    try:
        return book.load_sheet(sheet, header_row=None, n_rows=2).height > 1  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - an unreadable or empty sheet holds no table
        return False


def duplicate_names(names: list[str]) -> str | None:
    """A message naming column names that occur more than once (case and surrounding spaces ignored), or None."""
    where: dict[str, list[tuple[int, str]]] = {}
    for i, n in enumerate(names, 1):
        if str(n).strip():
            where.setdefault(str(n).strip().lower(), []).append((i, str(n)))
    dups = [v for v in where.values() if len(v) > 1]
    if not dups:
        return None
    said = "; ".join(
        f"{' and '.join(dict.fromkeys(repr(n) for _, n in v))} (columns {', '.join(str(i) for i, _ in v)})" for v in dups
    )
    return f"duplicated column names: {said}; every column needs its own name (rename or remove the copy)"


def _header_fields(line: str, sep: str) -> list[str]:
    """The column names of a CSV header line, as written (quotes removed)."""
    try:
        row = pl.read_csv(line.encode("utf-8"), has_header=False, separator=sep, infer_schema=False, n_rows=1).row(0)
    except Exception:  # noqa: BLE001 - a header polars cannot split is reported by the scan itself
        return []
    return [v or "" for v in row]


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
    dup = duplicate_names(_header_fields(first_line[0], sep))
    if dup:
        raise ReadError(f"{path.name}: {dup}")
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
        raise ReadError(explain_failure(path, exc, sep)) from None
    return Scanned(lf, notes, text=True, delimiter=sep)


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
    dup = duplicate_names(_header_fields(first, sep))
    if dup:
        raise ReadError(f"{path.name}: {dup}")
    data = text.encode("utf-8")
    try:
        df = pl.read_csv(data, separator=sep, infer_schema=False)
    except Exception as exc:  # noqa: BLE001
        raise ReadError(explain_failure(path, exc, sep, data)) from None
    return Scanned(df.with_row_index(ROW, offset=1).lazy(), notes, text=True, delimiter=sep)


def explain_failure(path: Path, exc: BaseException, delimiter: str | None = None, data: bytes | None = None) -> str:
    """One line for a reader failure: the OS error, the CSV line that breaks the layout, or the library's first line.

    ``data`` is the decoded file as UTF-8 (for re-decoded CSVs); else ``path`` is read again.
    """
    msg = os_error_message(path, exc)
    if msg:
        return msg
    if path.suffix.lower() == ".csv":
        try:
            layout = csv_layout_problem(data if data is not None else path, delimiter or ",")
        except Exception:  # noqa: BLE001 - the diagnosis is a courtesy; fall back to the reader's words
            layout = None
        if layout:
            return f"{path.name}: {layout}"
        return f"{path.name}: cannot read as CSV: {first_line(exc)}"
    return f"{path.name}: cannot read: {first_line(exc)}"


def csv_layout_problem(source: Path | bytes, sep: str, quote: str = '"') -> str | None:
    """Find the CSV line that breaks the layout: more fields than the header, or a quote never closed.

    Reads the file as plain lines (one polars query): a record spans lines
    while a quote is open; fields are counted outside quoted text. Returns a
    message with the line number (as an editor shows it) and the data row
    number (header not counted), or None when nothing is found.
    """
    opts = dict(has_header=False, separator="\x1f", quote_char=None, infer_schema=False, new_columns=["line"],
                truncate_ragged_lines=True, encoding="utf8-lossy")
    lines = pl.read_csv(source, **opts).lazy() if isinstance(source, bytes) else pl.scan_csv(source, **opts)
    line = pl.col("line").fill_null("").str.strip_chars_end("\r")
    q = re.escape(quote)
    recs = (
        lines.with_row_index("L", offset=1)
        .with_columns(line.alias("line"), (line.str.count_matches(quote, literal=True).cum_sum() % 2 == 1).alias("open"))
        .with_columns((~pl.col("open").shift(1, fill_value=False)).cum_sum().alias("rec"))
        .group_by("rec")
        .agg(pl.col("L").first(), pl.col("line").str.join("\n").alias("text"), pl.col("open").last())
        .with_columns(
            (pl.col("text").str.replace_all(q + "[^" + q + "]*" + q, "").str.count_matches(sep, literal=True) + 1).alias("fields"),
            (pl.col("text").str.strip_chars() == "").alias("blank"),
        )
        .sort("rec")
        .collect()
    )
    if recs.height == 0:
        return None
    width = int(recs.get_column("fields")[0])
    unclosed = recs.filter(pl.col("open"))
    if unclosed.height:
        r = unclosed.row(0, named=True)
        return (
            f"line {r['L']} (data row {r['rec'] - 1}) opens a quote ({quote}) that is never closed, so the rest of the "
            "file would be read as one value; close or remove that quote"
        )
    wide = recs.filter(~pl.col("blank") & (pl.col("fields") > width))
    if wide.height:
        r = wide.row(0, named=True)
        more = wide.get_column("L").to_list()[1:4]
        also = f" (also line{'s' if len(more) > 1 else ''} {', '.join(map(str, more))}{', ...' if wide.height > 4 else ''})" if more else ""
        trailing = r["fields"] == width + 1 and r["text"].rstrip().endswith(sep)
        where = f"it ends with an extra {sep!r}" if trailing else f"look there for an extra {sep!r} or a value with {sep!r} that needs quotes"
        return f"line {r['L']} (data row {r['rec'] - 1}) has {r['fields']} fields but the header has {width}{also}; {where}"
    return None


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


# --------------------------------------------------------------------------- number formats of text columns

# Currency symbols/codes and % are not part of a number; they are removed before reading it.
_NOISE = r"[€$£¥%]|\b(?:EUR|USD|GBP|CHF|MXN|ARS|COP|CLP|PEN)\b"
_SPACES = "[ \u00a0\u202f]"
_SIGN = r"^[+-]?"


@dataclass(frozen=True)
class NumberFormat:
    """How a text column writes numbers: the decimal mark and the thousands mark.

    ``thousands`` is a mark, ``"none"`` (no grouping) or ``"any"`` (decided from the column: groups of
    three digits may be separated by any of ``.`` ``,`` ``'`` and spaces other than the decimal mark).
    """

    decimal: str = "."
    thousands: str = "none"
    note: str | None = None  # a warning to show (a documented assumption was made)


@dataclass(frozen=True)
class FormatProblem:
    """A column whose format cannot be decided (or is mixed): the message and example rows/values."""

    message: str
    rows: list[int] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    n_rows: int = 0


def number_text(col: str) -> pl.Expr:
    """The column's text with currency symbols, % and surrounding spaces removed."""
    return pl.col(col).cast(pl.String).str.replace_all(_NOISE, "").str.strip_chars()


def _evidence(t: pl.Expr) -> dict[str, pl.Expr]:
    """Boolean expressions: which rows show a comma decimal, a dot decimal, or are ambiguous (61.910 / 61,910)."""
    amb_dot = t.str.contains(_SIGN + r"\d{1,3}\.\d{3}$")
    amb_comma = t.str.contains(_SIGN + r"\d{1,3},\d{3}$")
    comma = (
        (t.str.contains(_SIGN + r"\d*,\d+$") & ~amb_comma)  # 61,91 / 0,5 / 1234,567
        | t.str.contains(_SIGN + r"\d{1,3}(\.\d{3})+,\d+$")  # 1.234,56
        | t.str.contains(_SIGN + r"\d{1,3}(\.\d{3}){2,}$")  # 1.234.567
        | t.str.contains(_SIGN + r"\d{1,3}(" + _SPACES + r"\d{3})+,\d+$")  # 1 234,56
    )
    dot = (
        (t.str.contains(_SIGN + r"\d*\.\d+$") & ~amb_dot)  # 61.91 / 1234.567
        | t.str.contains(_SIGN + r"\d{1,3}(,\d{3})+\.\d+$")  # 1,234.56
        | t.str.contains(_SIGN + r"\d{1,3}(,\d{3}){2,}$")  # 1,234,567
        | t.str.contains(_SIGN + r"\d{1,3}(['" + _SPACES[1:-1] + r"]\d{3})+\.\d+$")  # 1'234.56 / 1 234.56
        | t.str.contains(_SIGN + r"\d+(\.\d+)?[eE][+-]?\d+$")  # 9.9e11
    )
    return {"comma": comma, "dot": dot, "amb_dot": amb_dot, "amb_comma": amb_comma}


def number_formats(
    frame: pl.LazyFrame,
    columns: dict[str, tuple[str | None, str | None]],
    *,
    delimiter: str | None = None,
    label: dict[str, str] | None = None,
) -> dict[str, NumberFormat | FormatProblem]:
    """Decide each text number column's format from the WHOLE column (one aggregating query).

    ``columns`` maps a source column to the mapping's ``(decimal, thousands)``
    (``None`` = decide). Rules, in order: a mapping setting wins; a column where
    some rows can only be read with a decimal comma (``61,91``, ``1.234,56``,
    ``1.234.567``) and others only with a decimal point (``61.91``, ``1,234.56``)
    is an error; one-sided evidence decides; with no evidence but values like
    ``61.910`` or ``61,910`` (a thousands mark or a decimal?), a ``;``-separated
    CSV (Excel in comma-decimal locales such as Spanish) is read with decimal
    ``,`` and thousands ``.`` (with a warning), anything else is an error that
    names the ``decimal:``/``thousands:`` mapping options.
    """
    out: dict[str, NumberFormat | FormatProblem] = {}
    todo = [c for c, (dec, _) in columns.items() if dec is None]
    for c, (dec, th) in columns.items():
        if dec is not None:
            out[c] = NumberFormat(dec, th or ("," if dec == "." else "."))
    if not todo:
        return out
    # The evidence only looks at the layout of a value, so it is decided on the distinct *shapes*
    # (every digit written 9: 61.910 -> 99.999), a handful per column; rows are read again only
    # for the example rows and values of what was found.
    got = frame.select(_shape(c).unique().implode().alias(str(i)) for i, c in enumerate(todo)).collect(engine="streaming").row(0)
    kinds = ("comma", "dot", "amb_dot", "amb_comma")
    found: dict[str, dict[str, list[str]]] = {}
    for i, c in enumerate(todo):
        shapes = pl.DataFrame({"s": got[i]}, schema={"s": pl.String}).drop_nulls()
        ev = shapes.select(pl.col("s"), **{k: e.fill_null(False) for k, e in _evidence(pl.col("s")).items()})
        found[c] = {k: ev.filter(pl.col(k)).get_column("s").to_list() for k in kinds}
    def needed(f: dict[str, list[str]]) -> list[str]:  # the kinds whose rows a message will name
        if f["comma"] and f["dot"]:
            return ["comma", "dot"]
        if f["comma"] or f["dot"]:
            return []
        return ["amb_dot"] if f["amb_dot"] else ["amb_comma"] if f["amb_comma"] else []

    aggs: list[pl.Expr] = []
    for i, c in enumerate(todo):
        for k in needed(found[c]):
            e = _shape(c).is_in(pl.Series(found[c][k], dtype=pl.String).implode()).fill_null(False)
            aggs += [
                e.sum().alias(f"{i}_{k}_n"),
                pl.col(ROW).filter(e).head(3).implode().alias(f"{i}_{k}_rows"),
                pl.col(c).filter(e).head(3).cast(pl.String).implode().alias(f"{i}_{k}_vals"),
            ]
    got = frame.select(aggs).collect(engine="streaming").row(0, named=True) if aggs else {}
    hint = "set decimal: and thousands: for this column (or table) in the mapping"
    for i, c in enumerate(todo):
        th = columns[c][1]
        g = {k: (int(got[f"{i}_{k}_n"]), list(got[f"{i}_{k}_rows"]), list(got[f"{i}_{k}_vals"])) if f"{i}_{k}_n" in got
             else (len(found[c][k]), [], []) for k in kinds}  # a count > 0 is all the decision needs
        if g["comma"][0] and g["dot"][0]:
            out[c] = FormatProblem(
                f"mixed number formats: rows {_rows(g['comma'][1])} use a decimal comma ({', '.join(g['comma'][2])}) and rows "
                f"{_rows(g['dot'][1])} a decimal point ({', '.join(g['dot'][2])}); fix the export or {hint}",
                g["comma"][1] + g["dot"][1], g["comma"][2] + g["dot"][2], g["comma"][0] + g["dot"][0],
            )
        elif g["comma"][0]:
            out[c] = NumberFormat(",", th or "any")
        elif g["dot"][0]:
            out[c] = NumberFormat(".", th or "any")
        elif g["amb_dot"][0] or g["amb_comma"][0]:
            n, rows, vals = g["amb_dot"] if g["amb_dot"][0] else g["amb_comma"]
            if delimiter == ";":
                out[c] = NumberFormat(",", th or "any", note=(
                    f"numbers like {vals[0]} read with '.' as the thousands mark and ',' as the decimal mark "
                    f"(the usual format of ';'-separated exports); if that is wrong, {hint}"
                ))
            else:
                mark = vals[0].strip()[-4] if vals and len(vals[0].strip()) >= 4 else "."
                out[c] = FormatProblem(
                    f"ambiguous numbers: {vals[0]} could be a thousands mark '{mark}' or a decimal mark; nothing else in the "
                    f"column decides; {hint} (for example decimal: ',' thousands: '.')",
                    rows, vals, n,
                )
        else:
            out[c] = NumberFormat(".", th or "any")
    return out


def _shape(col: str) -> pl.Expr:
    """The layout of a number text: currency and % removed, every digit written 9 (``€ 1.234,50`` -> ``9.999,99``)."""
    return number_text(col).str.replace_all(r"\d", "9")


def _rows(rows: list[int]) -> str:
    return ", ".join(map(str, rows))


def parse_number(col: str, fmt: NumberFormat) -> pl.Expr:
    """Float64 from a text column written in ``fmt``; null where a value does not follow it."""
    t = number_text(col)
    d = re.escape(fmt.decimal)
    if fmt.thousands == "none":
        group = ""
    elif fmt.thousands == "any":
        group = "[" + "".join(re.escape(m) for m in (".", ",", "'") if m != fmt.decimal) + _SPACES[1:-1] + "]"
    elif fmt.thousands == " ":
        group = _SPACES
    else:
        group = "[" + re.escape(fmt.thousands) + "]"
    body = r"(\d+" + (r"|\d{1,3}(" + group + r"\d{3})+" if group else "") + r")"
    pattern = _SIGN + r"(" + body + r"(" + d + r"\d+)?|" + d + r"\d+)" + (r"([eE][+-]?\d+)?" if fmt.decimal == "." else "") + "$"
    clean = t.str.replace_all(group, "") if group else t
    if fmt.decimal == ",":
        clean = clean.str.replace(",", ".", literal=True)
    return pl.when(t.str.contains(pattern)).then(clean.cast(pl.Float64, strict=False))


# --------------------------------------------------------------------------- date formats of text columns

# ISO 8601: 2025-03-04, optionally with a time (2025-03-04 10:30:00, 2025-03-04T10:30:00Z, +01:00, ...).
_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s?(?:[AaPp][Mm]|Z|[+-]\d{2}(?::?\d{2})?)?)?"
_ISO = r"^\d{4}-\d{2}-\d{2}" + _TIME + "$"
_YMD = r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})" + _TIME + "$"  # 2025/03/04: year first is never month/day swapped
_XY = r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})" + _TIME + "$"  # 04/03/2025: dd/mm or mm/dd, decided by the column
DATE_ORDER_NAMES = {"iso": "YYYY-MM-DD", "ymd": "yyyy/mm/dd", "dmy": "dd/mm/yyyy", "mdy": "mm/dd/yyyy"}


@dataclass(frozen=True)
class DateFormat:
    """How a text column writes dates: ``iso`` (the default), ``ymd``, ``dmy`` or ``mdy`` (any of / . - between parts)."""

    order: str = "iso"
    note: str | None = None  # a warning to show (the order was taken from the table's other date columns)


def _date_evidence(t: pl.Expr) -> dict[str, pl.Expr]:
    """Boolean expressions per row: ISO, year-first, and for dd/mm-or-mm/dd values which order they allow."""
    a = t.str.extract(_XY, 1).cast(pl.Int32, strict=False)
    b = t.str.extract(_XY, 2).cast(pl.Int32, strict=False)
    xy = t.str.contains(_XY)
    return {
        "iso": t.str.contains(_ISO),
        "ymd": t.str.contains(_YMD),
        "xy": xy,
        "dmy": xy & (a > 12) & (b <= 12),  # only day-first fits (25/03/2025)
        "mdy": xy & (a <= 12) & (b > 12),  # only month-first fits (03/25/2025)
        "amb": xy & (a <= 12) & (b <= 12) & (a != b),  # both fit, and give different dates (03/04/2025)
    }


def date_formats(frame: pl.LazyFrame, columns: list[str]) -> dict[str, DateFormat | FormatProblem]:
    """Decide each text date column's format from the WHOLE column.

    ISO dates (``2025-03-04``, also with a time) are the default. A column of
    ``04/03/2025``-style values is read day-first when some value can only be
    day-first (a first part above 12) and none can only be month-first, and
    the other way round; when every value fits both (all parts <= 12) the
    column is ambiguous, and a column mixing day-first-only and
    month-first-only values (or year-first with either) is mixed: both are
    :class:`FormatProblem` naming the rows, the formats that fit and the
    mapping's ``date_format:`` option. A column with any ISO value is read as
    ISO, and values of no known style are left to the validator, which names
    their rows ("expected a date YYYY-MM-DD").

    The styles are decided on the column's distinct values (one streaming
    query for all columns; dates repeat, so that is small); rows are read
    again only for the example rows of a column that has a problem.
    """
    if not columns:
        return {}
    got = frame.select(pl.col(c).cast(pl.String).unique().implode().alias(str(i)) for i, c in enumerate(columns))
    distinct = got.collect(engine="streaming").row(0)
    out: dict[str, DateFormat | FormatProblem] = {}
    ambiguous: list[str] = []
    for i, c in enumerate(columns):
        v = pl.DataFrame({"v": distinct[i]}, schema={"v": pl.String}).select(pl.col("v").str.strip_chars().unique().sort())
        ev = v.select(pl.col("v"), **{k: e.fill_null(False) for k, e in _date_evidence(pl.col("v")).items()})
        vals = {k: ev.filter(pl.col(k)).get_column("v").to_list() for k in ("iso", "ymd", "xy", "dmy", "mdy", "amb")}
        styles = [k for k in ("iso", "ymd", "xy") if vals[k]]
        if "iso" in styles:  # ISO wins: other values are reported row by row as "expected a date YYYY-MM-DD"
            out[c] = DateFormat("iso")
        elif len(styles) > 1:
            names = {"ymd": "yyyy/mm/dd", "xy": "dd/mm/yyyy or mm/dd/yyyy"}
            out[c] = _mixed(frame, c, [(names[k], vals[k]) for k in styles])
        elif vals["dmy"] and vals["mdy"]:
            out[c] = _mixed(frame, c, [("only dd/mm/yyyy", vals["dmy"]), ("only mm/dd/yyyy", vals["mdy"])])
        elif styles == ["ymd"]:
            out[c] = DateFormat("ymd")
        elif vals["dmy"] or (vals["xy"] and not vals["mdy"] and not vals["amb"]):
            out[c] = DateFormat("dmy")
        elif vals["mdy"]:
            out[c] = DateFormat("mdy")
        elif vals["amb"]:
            ambiguous.append(c)
            ((n, rows, shown),) = _where(frame, c, [vals["amb"]])
            ex = shown[0]
            sep = next((ch for ch in ex if ch in "/.-"), "/")
            dmy, mdy = (f"%d{sep}%m{sep}%Y", f"%m{sep}%d{sep}%Y")
            out[c] = FormatProblem(
                f"ambiguous dates: every value (e.g. {ex}) fits both dd{sep}mm{sep}yyyy and mm{sep}dd{sep}yyyy and no value "
                f"decides; set date_format: \"{dmy}\" (day first) or date_format: \"{mdy}\" (month first) for this table "
                "in the mapping",
                rows, shown, n,
            )
        else:
            out[c] = DateFormat("iso")
    # A file is exported with one date format: a column whose values all fit both orders (exit dates
    # are few) follows the table's other dd/mm or mm/dd columns when those agree, with a warning.
    decided = {f.order for f in out.values() if isinstance(f, DateFormat) and f.order in ("dmy", "mdy")}
    if ambiguous and len(decided) == 1:
        order = decided.pop()
        like = [k for k, f in out.items() if isinstance(f, DateFormat) and f.order == order]
        for c in ambiguous:
            out[c] = DateFormat(order, note=(
                f"every value fits both dd/mm/yyyy and mm/dd/yyyy; read as {DATE_ORDER_NAMES[order]} like "
                f"{', '.join(like)} in the same file (set date_format: in the mapping if that is wrong)"
            ))
    return out


def _where(frame: pl.LazyFrame, col: str, groups: list[list[str]]) -> list[tuple[int, list[int], list[str]]]:
    """For each group of (stripped) values of ``col``: how many rows hold one, the first 3 rows and values."""
    t = pl.col(col).cast(pl.String).str.strip_chars()
    aggs: list[pl.Expr] = []
    for j, g in enumerate(groups):
        hit = t.is_in(pl.Series(g, dtype=pl.String).implode()).fill_null(False)
        aggs += [
            hit.sum().alias(f"n{j}"),
            pl.col(ROW).filter(hit).head(3).implode().alias(f"r{j}"),
            t.filter(hit).unique(maintain_order=True).head(3).implode().alias(f"v{j}"),
        ]
    row = frame.select(aggs).collect(engine="streaming").row(0, named=True)
    return [(int(row[f"n{j}"]), list(row[f"r{j}"]), list(row[f"v{j}"])) for j in range(len(groups))]


def _mixed(frame: pl.LazyFrame, col: str, parts: list[tuple[str, list[str]]]) -> FormatProblem:
    """A FormatProblem for a column whose rows use incompatible date styles."""
    found = _where(frame, col, [vals for _, vals in parts])
    said = "; ".join(f"rows {_rows(rows)} are {name} ({', '.join(shown)})" for (name, _), (_, rows, shown) in zip(parts, found))
    return FormatProblem(
        f"mixed date formats: {said}; write every date the same way (YYYY-MM-DD is safest) or set date_format: in the mapping",
        [r for _, rows, _ in found for r in rows],
        [v for _, _, shown in found for v in shown],
        sum(n for n, _, _ in found),
    )


def parse_date(col: str, fmt: DateFormat) -> pl.Expr:
    """Date from a text column written in ``fmt``; null where a value does not follow it (or is no real date)."""
    t = pl.col(col).cast(pl.String).str.strip_chars()
    if fmt.order == "iso":
        return pl.when(t.str.contains(_ISO)).then(t.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False))
    pattern = _YMD if fmt.order == "ymd" else _XY
    parts = [t.str.extract(pattern, k) for k in (1, 2, 3)]
    y, m, d = {"ymd": (0, 1, 2), "dmy": (2, 1, 0), "mdy": (2, 0, 1)}[fmt.order]
    iso = pl.concat_str([parts[y], pl.lit("-"), parts[m].str.zfill(2), pl.lit("-"), parts[d].str.zfill(2)])
    return iso.str.to_date("%Y-%m-%d", strict=False)
