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

import datetime as dt
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from servicechain import contract, privacy, quarters, validation
from servicechain.asof import (  # noqa: F401 - re-exported: the as-of rules used to live here
    COVER_DAYS,
    STREAMS,
    apply_as_of,
    data_through,
    incomplete_quarters,
    incomplete_reason,
    latest_complete,
    survey_quarters,
)
from servicechain.cli import UserError
from servicechain.reading import (  # noqa: F401 - re-exported: the reading layer used to live here
    DELIMITERS,
    ROW,
    SNIFF_BYTES,
    SUFFIXES,
    ReadError,
    Scanned,
    _short,
    decode_csv,
    guess_delimiter,
    height,
    is_encoding_error,
    resolve,
    scan,
    scan_csv,
    short,
    sniff,
    table_files,
)
from servicechain.validation import DataError, Problem, ValidationReport, check, dataset_quarters  # noqa: F401


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
    as_of: dt.date | None = None  # the data as known on this date (validated against it)
    data_through: dict[str, str] = field(default_factory=dict)  # table (and "exits") -> last date, ISO
    incomplete_quarters: dict[str, str] = field(default_factory=dict)  # quarter -> why it is not complete
    # a validated copy with dense integer keys (issue 17): kind ("person", "customer") -> parquet of (key, id)
    keys: dict[str, Path] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        """Whether table ``name`` was provided (optional tables may be absent)."""
        return name in self.tables

    def __repr__(self) -> str:
        rows = ", ".join(f"{k}={height(v):,}" for k, v in self.tables.items())
        return f"Dataset({self.kind}, {self.data_dir}, {rows}, quarters={len(self.quarters)})"


def load(
    data_dir: str | os.PathLike[str],
    mapping: str | os.PathLike[str] | None = None,
    key: str | os.PathLike[str] | bytes | None = None,
    *,
    lazy: bool = False,
    as_of: dt.date | None = None,
) -> Dataset:
    """Validate and read ``data_dir``; raise ``DataError`` (with the full report) on any error.

    ``as_of`` (default today): the date the data are known on. Rows dated after
    it are errors, future joiners and planned exits are left out
    (:func:`apply_as_of`), and a quarter counts as complete only by
    :func:`incomplete_reason`.

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
    root = resolve(data_dir)
    mpath = resolve(mapping) if mapping not in (None, "") else None
    if (root / VALIDATED_MARKER).is_file():
        return _load_validated(root, mpath)
    as_of = as_of or dt.date.today()
    report, tables = validation.check(root, mpath, as_of=as_of)
    if not report.ok:
        raise validation.DataError(report)
    tables = apply_as_of(tables, as_of)
    secret = privacy.resolve_key(key)
    spec = {name: tuple(c for c in contract.ALL_TABLES[name].pseudonymise if c not in CUSTOMER_ID_COLUMNS)
            for name in tables}
    # Validation proved every employee reference is an employee_id, so those are all the ids to key.
    ids = tables["employees"].select("employee_id").collect().to_series() if "employees" in tables else None
    planned = privacy.pseudonymise_tables(tables, spec, secret, ids=ids)
    planned = pseudonymise_customers(planned, secret)
    out: dict = planned if lazy else {name: lf.collect(engine="streaming") for name, lf in planned.items()}
    qs = list(report.quarters) if report.kind == "panel" else []
    # dates do not depend on pseudonyms: read them from the checked tables (no keyed join to evaluate)
    through = data_through(tables) if report.kind == "panel" else {}
    surveyed = survey_quarters(tables) if "survey" in tables else None
    incomplete = incomplete_quarters(qs, as_of, through, surveyed) if report.kind == "panel" else {}
    return Dataset(
        kind=report.kind,
        tables=out,
        files=dict(report.files),
        items=list(report.items),
        data_dir=root,
        report=report,
        quarters=qs,
        latest_complete_quarter=latest_complete(qs, incomplete) if report.kind == "panel" else None,
        as_of=as_of,
        data_through={t: d.isoformat() for t, d in through.items() if d is not None},
        incomplete_quarters=incomplete,
    )


CUSTOMER_ID_COLUMNS = ("customer_id",)


def pseudonymise_customers(tables: dict, secret: bytes) -> dict:
    """Key the customer ids of customer_feedback and customer_activity (issue 16), one pseudonym per customer.

    Only when customer_feedback carries a ``customer_id`` (the answers can then be linked to the customer's
    activity): both tables' ids are swapped through one HMAC over their union, as employee ids are. Without it
    customer_activity's ids are left as they are (nothing links them to an answer; they are only counted).
    """
    fb = tables.get("customer_feedback")
    if fb is None or "customer_id" not in fb.collect_schema().names():
        return tables
    cols = {t: CUSTOMER_ID_COLUMNS for t in ("customer_feedback", "customer_activity") if t in tables}
    return privacy.pseudonymise_tables(tables, cols, secret)


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
    keys: dict[str, str] = {}
    src_tables = ds.tables
    if ds.kind == "panel":  # joins and group-bys on integers; the pseudonyms stay in keys/ for what leaves the run
        src_tables, maps = dense_keys(ds.tables)
        (out / KEYS_DIR).mkdir()
        for kind, m in maps.items():
            m.write_parquet(out / KEYS_DIR / f"{kind}.parquet")
            keys[kind] = f"{KEYS_DIR}/{kind}.parquet"
    for name, f in src_tables.items():
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
        "keys": keys,
        "dataset": {
            "kind": ds.kind,
            "items": list(ds.items),
            "quarters": list(ds.quarters),
            "latest_complete_quarter": ds.latest_complete_quarter,
            "as_of": ds.as_of.isoformat() if ds.as_of else None,
            "data_through": dict(ds.data_through),
            "incomplete_quarters": dict(ds.incomplete_quarters),
        },
        "report": _report_to_dict(rep) if rep is not None else None,
    }
    tmp = out / (VALIDATED_MARKER + ".tmp")
    tmp.write_text(json.dumps(marker, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.rename(out / VALIDATED_MARKER)  # the marker appears only once every table is complete
    return out


KEYS_DIR = "keys"
KEY_DTYPE = pl.UInt32  # dense keys: 4 bytes a row instead of a pseudonym string (~17 bytes + offsets)


def key_columns(tables: Mapping[str, object]) -> dict[str, dict[str, tuple[str, ...]]]:
    """Which columns hold which kind of id, table by table: ``{"person": {table: cols}, "customer": {...}}``.
    Person ids are the contract's pseudonymised columns (employee, manager, giver, receiver, rater ids); customer
    ids are ``customer_id`` (feedback and activity)."""
    out: dict[str, dict[str, tuple[str, ...]]] = {"person": {}, "customer": {}}
    for name, f in tables.items():
        spec = contract.ALL_TABLES.get(name)
        if spec is None or f is None:
            continue
        names = set(f.collect_schema().names())
        person = tuple(c for c in spec.pseudonymise if c in names and c not in CUSTOMER_ID_COLUMNS)
        customer = tuple(c for c in CUSTOMER_ID_COLUMNS if c in names)
        if person:
            out["person"][name] = person
        if customer:
            out["customer"][name] = customer
    return {k: v for k, v in out.items() if v}


def dense_keys(tables: Mapping[str, pl.DataFrame | pl.LazyFrame]) -> tuple[dict[str, pl.LazyFrame], dict[str, pl.DataFrame]]:
    """Swap every person id and every customer id of ``tables`` (already pseudonymised) for a dense integer key
    (0..n-1, :data:`KEY_DTYPE`), one numbering per kind of id over the union of its columns, in sorted-id order
    (the same data and key give the same numbers). Returns the lazy tables and, per kind, the map
    ``(key, id)`` that turns a key back into its pseudonym; nulls stay null. Used for the run's validated copy,
    so every join and group-by of the panels runs on integers."""
    cols = key_columns(tables)
    out = {n: (f.lazy() if isinstance(f, pl.DataFrame) else f) for n, f in tables.items() if f is not None}
    maps: dict[str, pl.DataFrame] = {}
    for kind, where in cols.items():
        ids = pl.concat([out[t].select(pl.col(c).cast(pl.String).alias("id")) for t, cs in where.items() for c in cs])
        m = (ids.drop_nulls().unique().sort("id").collect(engine="streaming")
             .with_row_index("key").with_columns(pl.col("key").cast(KEY_DTYPE)))
        maps[kind] = m
        for t, cs in where.items():
            out[t] = out[t].with_columns(pl.col(c).cast(pl.String).replace_strict(m["id"], m["key"], default=None,
                                                                                 return_dtype=KEY_DTYPE) for c in cs)
    return out, maps


def key_pseudonyms(ds: Dataset) -> dict[str, pl.Series]:
    """The pseudonyms behind a validated copy's integer keys, per kind (``{}`` when its ids are not keyed)."""
    return {k: pl.read_parquet(p, columns=["id"]).get_column("id") for k, p in ds.keys.items()}


def unkey(ds: Dataset) -> dict[str, pl.LazyFrame]:
    """``ds``'s tables with the pseudonyms back in place of a validated copy's integer keys (the tables as
    :func:`load` gave them before :func:`write_validated`); ``ds.tables`` as lazy frames when not keyed."""
    out = {n: (f.lazy() if isinstance(f, pl.DataFrame) else f) for n, f in ds.tables.items()}
    if not ds.keys:
        return out
    for kind, where in key_columns(out).items():
        m = pl.read_parquet(ds.keys[kind])
        for t, cs in where.items():
            out[t] = out[t].with_columns(pl.col(c).replace_strict(m["key"], m["id"], default=None, return_dtype=pl.String)
                                         for c in cs)
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
        "as_of": rep.as_of.isoformat() if getattr(rep, "as_of", None) else None,
    }


def _load_validated(root: Path, mapping: Path | None) -> Dataset:
    """A folder written by :func:`write_validated`: scan its tables, restore the report; no checks, no key."""
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
            as_of=dt.date.fromisoformat(r["as_of"]) if r.get("as_of") else None,
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
        as_of=dt.date.fromisoformat(d["as_of"]) if d.get("as_of") else None,
        data_through=dict(d.get("data_through") or {}),
        incomplete_quarters=dict(d.get("incomplete_quarters") or {}),
        keys={k: root / f for k, f in (marker.get("keys") or {}).items()},
    )
