"""Read a data folder into a :class:`Dataset`: validated, typed, pseudonymised.

``load()`` is the only door into the data for the rest of the suite. It runs
every contract check first (``validation.check``) and raises
:class:`~servicechain.validation.DataError` with the full report if anything
is wrong, so analysis code never sees a half-valid table or a raw employee id.

Reading is lazy (``scan_parquet`` / ``scan_csv``): validation collects only
counts, pseudonyms are joined in, and each table is collected once at the end
(or never, with ``lazy=True``). CSV files are read as text so that a bad value
becomes a reported problem with its row number instead of a parser crash.

``servicechain run`` validates once per run: :func:`write_validated` streams
the checked, pseudonymised tables into the run's work folder with a
``validated.json`` marker, and ``load`` of that folder trusts the marker.
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from servicechain import contract, quarters
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
        raise ReadError(f"{path.name}: cannot read parquet: {_short(exc)}") from None
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
        raise ReadError(f"{path.name}: cannot read the Excel file: {_short(exc)}") from None
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
        raise ReadError(f"{path.name}: cannot read as CSV: {_short(exc)}") from None
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
            raise ReadError(f"{path.name}: cannot decode as {encoding}: {_short(exc)}") from None
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
        raise ReadError(f"{path.name}: cannot read as CSV: {_short(exc)}") from None
    return Scanned(df.with_row_index(ROW, offset=1).lazy(), notes, text=True)


def is_encoding_error(exc: BaseException) -> bool:
    """True when a lazy CSV collect failed on invalid UTF-8 beyond the sniffed head."""
    return "utf-8" in str(exc).lower() or "utf8" in str(exc).lower()


def _short(exc: BaseException) -> str:
    msg = " ".join(str(exc).split())
    return msg[:200] + ("..." if len(msg) > 200 else "")


# --------------------------------------------------------------------------- Dataset


@dataclass
class Dataset:
    """Validated, typed, pseudonymised tables of one data folder."""

    kind: str  # "panel" | "snapshot"
    tables: dict[str, pl.DataFrame]  # LazyFrames when loaded lazily or from a validated folder (see load)
    files: dict[str, Path]
    items: list[str]
    data_dir: Path
    report: "object | None" = None  # the ValidationReport (warnings, row counts) for the data-quality notebook
    quarters: list[str] = field(default_factory=list)
    latest_complete_quarter: str | None = None

    def has(self, name: str) -> bool:
        """Whether table ``name`` was provided (optional tables may be absent)."""
        return name in self.tables

    def __repr__(self) -> str:
        rows = ", ".join(f"{k}={height(v):,}" for k, v in self.tables.items())
        return f"Dataset({self.kind}, {self.data_dir}, {rows}, quarters={len(self.quarters)})"


def height(f: pl.DataFrame | pl.LazyFrame) -> int:
    """Rows of an eager or lazy table (a parquet scan answers from its metadata)."""
    return f.height if isinstance(f, pl.DataFrame) else int(f.select(pl.len()).collect().item())


def dataset_quarters(tables: "dict[str, pl.DataFrame | pl.LazyFrame]") -> list[str]:
    """Sorted quarter labels present in the survey and customer activity (eager or lazy tables)."""
    parts = []
    for name, col in (("survey", "survey_date"), ("customer_activity", "date")):
        if name in tables:
            parts.append(tables[name].lazy().select(quarters.index_expr(col).alias("q")).unique())
    if not parts:
        return []
    idx = pl.concat(parts).collect(engine="streaming").get_column("q").drop_nulls().unique().sort().to_list()
    return [quarters.label(int(i)) for i in idx]


def max_date(tables: "dict[str, pl.DataFrame | pl.LazyFrame]") -> dt.date | None:
    """The latest date in any dated column of any table (eager or lazy tables)."""
    best: dt.date | None = None
    for f in tables.values():
        dates = [c for c, t in f.collect_schema().items() if t == pl.Date]
        if not dates:
            continue
        if isinstance(f, pl.DataFrame):
            row = f.select(pl.col(dates).max()).row(0)
        else:
            row = f.select(pl.col(dates).max()).collect(engine="streaming").row(0)
        for m in row:
            if m is not None and (best is None or m > best):
                best = m
    return best


def latest_complete(qs: list[str], last_date: dt.date | None) -> str | None:
    """Latest present quarter whose last day is on or before the last date seen.

    Restricting to quarters present in the survey/activity keeps sentinel
    dates (an exit date of 2099-12-31) from inventing quarters without data.
    """
    if last_date is None:
        return None
    done = [q for q in qs if quarters.end(q) <= last_date]
    return done[-1] if done else None


def load(
    data_dir: str | os.PathLike[str],
    mapping: str | os.PathLike[str] | None = None,
    key: str | os.PathLike[str] | bytes | None = None,
    *,
    lazy: bool = False,
) -> Dataset:
    """Validate and read ``data_dir``; raise ``DataError`` (with the full report) on any error.

    ``mapping``: a mapping.yml path (or None). ``key``: the pseudonymisation key
    as bytes or a key-file path; None uses $SERVICECHAIN_PSEUDONYM_KEY or the
    per-checkout ``.servicechain-key``. ``lazy``: keep the tables as LazyFrames
    (validated, pseudonymised query plans over the files) instead of collecting them.

    A folder written by :func:`write_validated` (it holds ``validated.json``) is
    trusted: its tables already passed validation and carry pseudonyms, so they
    are scanned lazily, with neither validation nor the key applied again, and
    ``mapping`` and ``key`` are not used (a mapping other than the one the data
    were validated with is refused).
    """
    from servicechain import privacy, validation  # validation imports this module

    root = resolve(data_dir)
    mpath = resolve(mapping) if mapping not in (None, "") else None
    if (root / VALIDATED_MARKER).is_file():
        return _load_validated(root, mpath)
    report, tables = validation.check(root, mpath)
    if not report.ok:
        raise validation.DataError(report)
    secret = privacy.resolve_key(key)
    spec = {name: contract.ALL_TABLES[name].pseudonymise for name in tables}
    # Validation proved every employee reference is an employee_id, so those are all the ids to key.
    ids = tables["employees"].select("employee_id").collect().to_series() if "employees" in tables else None
    planned = privacy.pseudonymise_tables(tables, spec, secret, ids=ids)
    out: dict = planned if lazy else {name: lf.collect(engine="streaming") for name, lf in planned.items()}
    qs = list(report.quarters) if report.kind == "panel" else []
    return Dataset(
        kind=report.kind,
        tables=out,
        files=dict(report.files),
        items=list(report.items),
        data_dir=root,
        report=report,
        quarters=qs,
        latest_complete_quarter=latest_complete(qs, max_date(out)) if report.kind == "panel" else None,
    )


# --------------------------------------------------------------------------- validated once per run

VALIDATED_MARKER = "validated.json"
VALIDATED_FORMAT = "servicechain-validated/1"


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_validated(ds: Dataset, dest: str | os.PathLike[str], mapping: str | os.PathLike[str] | None = None) -> Path:
    """Write ``ds`` (as returned by :func:`load`) to ``dest`` as parquet plus ``validated.json``.

    The marker records the SHA-256 of each source file and of the mapping, what
    the dataset is (kind, items, quarters) and the full validation report, so
    that ``load(dest)`` can skip validation and pseudonymisation. Lazy tables
    are streamed to disk (``sink_parquet``), so nothing large is held in memory.
    ``dest`` must be a new or empty folder outside the user's data folder.
    """
    out = Path(dest)
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise ValueError(f"write_validated: {out} is not empty")
    tables = {}
    for name, f in ds.tables.items():
        path = out / f"{name}.parquet"
        if isinstance(f, pl.LazyFrame):
            f.sink_parquet(path, engine="streaming")
        else:
            f.write_parquet(path)
        tables[name] = f"{name}.parquet"
    rep = ds.report
    mpath = resolve(mapping) if mapping not in (None, "") else getattr(rep, "mapping", None)
    marker = {
        "format": VALIDATED_FORMAT,
        "source": {
            "data_dir": str(ds.data_dir),
            "files": {t: {"name": p.name, "sha256": file_sha256(p)} for t, p in ds.files.items()},
            "mapping": {"name": mpath.name, "sha256": file_sha256(mpath)} if mpath else None,
        },
        "tables": tables,
        "dataset": {
            "kind": ds.kind,
            "items": list(ds.items),
            "quarters": list(ds.quarters),
            "latest_complete_quarter": ds.latest_complete_quarter,
        },
        "report": _report_to_dict(rep) if rep is not None else None,
    }
    tmp = out / (VALIDATED_MARKER + ".tmp")
    tmp.write_text(json.dumps(marker, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.rename(out / VALIDATED_MARKER)  # the marker appears only once every table is complete
    return out


def _report_to_dict(rep: "object") -> dict:
    from dataclasses import asdict

    return {
        "data_dir": str(rep.data_dir),
        "kind": rep.kind,
        "mapping": str(rep.mapping) if rep.mapping else None,
        "problems": [asdict(p) for p in rep.problems],
        "row_counts": dict(rep.row_counts),
        "rejected": dict(rep.rejected),
        "files": {t: str(p) for t, p in rep.files.items()},
        "items": list(rep.items),
        "quarters": list(rep.quarters),
    }


def _load_validated(root: Path, mapping: Path | None) -> Dataset:
    """A folder written by :func:`write_validated`: scan its tables, restore the report; no checks, no key."""
    from servicechain import validation

    try:
        marker = json.loads((root / VALIDATED_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReadError(f"{root / VALIDATED_MARKER}: unreadable ({_short(exc)})") from None
    if marker.get("format") != VALIDATED_FORMAT:
        raise ReadError(f"{root / VALIDATED_MARKER}: unknown format {marker.get('format')!r}")
    src = marker["source"]
    if mapping is not None:
        want = (src.get("mapping") or {}).get("sha256")
        if want != file_sha256(mapping):
            raise UserError(f"{root} was validated with {'another mapping' if want else 'no mapping'}, not {mapping.name}")
    tables: dict[str, pl.DataFrame | pl.LazyFrame] = {}
    for name, fname in marker["tables"].items():
        path = root / fname
        if not path.is_file():
            raise ReadError(f"{root}: {fname} is missing although {VALIDATED_MARKER} lists it")
        # the snapshot (one row per person) is small and read eagerly by its notebook; the rest stay lazy
        tables[name] = pl.read_parquet(path) if name == "snapshot" else pl.scan_parquet(path)
    r = marker.get("report")
    report = None
    if r is not None:
        report = validation.ValidationReport(
            data_dir=Path(r["data_dir"]),
            kind=r["kind"],
            mapping=Path(r["mapping"]) if r["mapping"] else None,
            problems=[validation.Problem(**p) for p in r["problems"]],
            row_counts=dict(r["row_counts"]),
            rejected=dict(r["rejected"]),
            files={t: Path(p) for t, p in r["files"].items()},
            items=list(r["items"]),
            quarters=list(r["quarters"]),
        )
    d = marker["dataset"]
    source_dir = Path(src["data_dir"])
    return Dataset(
        kind=d["kind"],
        tables=tables,
        files={t: source_dir / f["name"] for t, f in src["files"].items()},
        items=list(d["items"]),
        data_dir=root,
        report=report,
        quarters=list(d["quarters"]),
        latest_complete_quarter=d["latest_complete_quarter"],
    )
