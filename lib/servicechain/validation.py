"""Every contract check, as one readable report (``servicechain validate``).

The validator plans each table lazily (the user's columns turned into
contract columns and types), evaluates every check as a boolean polars
expression and collects only their counts, in one streaming aggregate per
table; rows are read again only for the example row numbers of checks that
failed. The checked tables are returned as LazyFrames, so a million-employee
folder is validated without being held in memory. It reports *every*
problem, not the first: file, column, what is wrong, how many rows and up to
five example rows (data rows counted from 1, header not counted).

Errors stop the analysis (``load`` raises :class:`DataError`); warnings are
shown and some drop rows (a survey answer submitted twice, a recognition
given to oneself) - those count as *rejected* rows in the data-quality notebook.
"""

from __future__ import annotations

import argparse
import difflib
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from servicechain import asof, contract, quarters, reading
from servicechain.cli import UserError
from servicechain.reading import ROW, ReadError
from servicechain.mapping import ColumnSpec, Mapping, MappingError, TableMapping, labels_expr, load_mapping, rescale_expr

if TYPE_CHECKING:
    from servicechain.loading import Dataset

MAX_EXAMPLES = 5
NUMERIC_KINDS = ("int", "float", "likert", "nps")


@dataclass
class Problem:
    """One thing wrong with the data, where it is and how often."""

    file: str
    table: str
    column: str | None
    message: str
    n_rows: int = 0
    example_rows: list[int] = field(default_factory=list)
    severity: str = "error"  # "error" stops the analysis, "warning" is shown
    example_values: list[str] = field(default_factory=list)

    def format(self) -> str:
        where = self.file + (f", column {self.column}" if self.column else "")
        text = f"{'ERROR' if self.severity == 'error' else 'warning'}  {where}: {self.message}"
        if self.n_rows:
            text += f" - {self.n_rows:,} row{'s' if self.n_rows != 1 else ''}"
            if self.example_rows:
                more = ", ..." if self.n_rows > len(self.example_rows) else ""
                text += f" (row{'s' if len(self.example_rows) > 1 else ''} {', '.join(map(str, self.example_rows))}{more})"
        if self.example_values:
            text += "; values: " + ", ".join(repr(v) for v in self.example_values)
        return text


@dataclass
class ValidationReport:
    """All problems of one data folder plus what was read (for the data-quality notebook)."""

    data_dir: Path
    kind: str = "panel"
    mapping: Path | None = None
    problems: list[Problem] = field(default_factory=list)
    row_counts: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    items: list[str] = field(default_factory=list)
    ignored: dict[str, str] = field(default_factory=dict)  # survey/snapshot column -> why it is not read as an item
    quarters: list[str] = field(default_factory=list)
    as_of: dt.date | None = None  # the as-of date the data were checked against (see _as_of_checks)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error"]

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    def format(self) -> str:
        """The multi-line text shown by ``servicechain validate`` and in DataError."""
        lines: list[str] = []
        head = f"{self.data_dir} ({self.kind}{', mapping ' + self.mapping.name if self.mapping else ''})"
        if self.ok:
            total = sum(self.row_counts.values())
            qs = f"; quarters {self.quarters[0]}..{self.quarters[-1]} ({len(self.quarters)})" if self.quarters else ""
            qs += f"; as of {self.as_of.isoformat()}" if self.as_of else ""
            lines.append(f"OK: {head}: {len(self.row_counts)} tables, {total:,} rows{qs}")
            for t, n in self.row_counts.items():
                rej = f", {self.rejected[t]:,} rejected" if self.rejected.get(t) else ""
                lines.append(f"  {t:<18} {n:>12,} rows{rej}  {self.files[t].name if t in self.files else ''}")
        else:
            n = len(self.errors)
            lines.append(f"{n} problem{'s' if n != 1 else ''} in {head}:")
            lines.extend("  " + p.format() for p in self.errors)
        if self.items or self.ignored:
            lines.append(f"Items read ({len(self.items)}): {', '.join(self.items) or 'none'}")
            if self.ignored:
                lines.append("Not read as items: " + "; ".join(f"{c} ({why})" for c, why in self.ignored.items()))
        if self.warnings:
            lines.append("Warnings:")
            lines.extend("  " + p.format() for p in self.warnings)
        if any(p.example_rows for p in self.problems):
            lines.append("(row numbers count data rows from 1; the header line is not counted)")
        return "\n".join(lines)


class DataError(UserError):
    """The data folder fails validation; the message is the full report."""

    def __init__(self, report: ValidationReport):
        self.report = report
        super().__init__("the data does not meet the contract\n" + report.format())


@dataclass
class _Check:
    column: str | None
    message: str
    flag: pl.Expr  # True on the offending rows
    severity: str = "error"
    drop: bool = False  # warning rows removed from the table (counted as rejected)
    source: str | None = None  # show example values of this source column
    item: str | None = None  # belongs to an extra survey column that may turn out to be free text
    raw: bool = False  # the flag reads source columns, so it is computed before they are replaced
    name: str = ""  # the flag column in the collected frame


# --------------------------------------------------------------------------- entry points


def validate(data_dir: str | Path, mapping: str | Path | None = None, *, as_of: dt.date | None = None) -> ValidationReport:
    """Check a data folder (and mapping) against the contract; never raises for bad data.

    ``as_of``: the date the data are checked against (default today); see :func:`check`.
    """
    root = reading.resolve(data_dir)
    mpath = reading.resolve(mapping) if mapping not in (None, "") else None
    return check(root, mpath, as_of=as_of)[0]


def check(
    data_dir: Path, mapping_path: Path | None = None, *, as_of: dt.date | None = None
) -> tuple[ValidationReport, dict[str, pl.LazyFrame]]:
    """Validate; return the typed (not yet pseudonymised) tables as lazy queries, complete only when ok.

    ``as_of`` (default today): rows dated after it are errors, except future
    joiners' hire dates and planned leavers' exit dates (warnings; the loader
    leaves those people out of the data as of that date), see :func:`_as_of_checks`.

    Each table is read by one aggregating query (counts of every check, row
    counts, score ranges) instead of being materialised; rows are fetched
    again only for checks that failed (their example row numbers). The
    returned LazyFrames re-read the files when collected.
    """
    as_of = as_of or dt.date.today()
    rep = ValidationReport(data_dir=data_dir, mapping=mapping_path, as_of=as_of)
    mapping = Mapping()
    if mapping_path is not None:
        try:
            mapping = load_mapping(mapping_path)
        except MappingError as exc:
            for i in exc.issues:
                rep.add(Problem(mapping_path.name, i.table, i.column, i.message))
            return rep, {}
    if not data_dir.is_dir():
        rep.add(Problem(str(data_dir), "(folder)", None, "data folder not found"))
        return rep, {}
    rep.kind = mapping.kind or ("snapshot" if reading.table_files(data_dir, "snapshot") else "panel")
    specs = [contract.SNAPSHOT] if rep.kind == "snapshot" else list(contract.TABLES.values())
    tables: dict[str, pl.LazyFrame] = {}
    counts: dict[str, int] = {}
    known: dict[tuple[str, str], pl.Series] = {}  # referenced id sets, e.g. ("units", "unit_id")
    ref_counts: dict[tuple[str, str], int] = {}  # (table, column) -> rows referring to unknown ids
    for table in specs:
        path = _find_file(data_dir, table, mapping.table(table.name), rep)
        if path is None:
            continue
        rep.files[table.name] = path
        refs = {c: known[(rt, rc)] for t, c, rt, rc in _REFERENCES if t == table.name and (rt, rc) in known}
        read = _read_table(table, path, mapping.table(table.name), rep, refs if rep.kind == "panel" else {}, as_of=as_of)
        if read is None:
            continue
        tables[table.name], counts[table.name], found = read
        ref_counts.update({(table.name, c): n for c, n in found.items()})
        for _, _, rt, rc in _REFERENCES:
            if rt == table.name and (rt, rc) not in known:
                known[(rt, rc)] = tables[rt].select(pl.col(rc).drop_nulls().unique()).collect().to_series()
    if rep.kind == "panel":
        _customer_source(data_dir, tables, rep)
        _cross_checks(tables, rep, known, ref_counts)
    for name, lf in tables.items():
        tables[name] = _finish(lf)
    rep.row_counts = counts
    if rep.kind == "panel" and rep.ok:
        rep.quarters = dataset_quarters(tables)
    return rep, tables



def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="the data folder (parquet/csv/xlsx files)")
    parser.add_argument("--mapping", default=None, help="mapping.yml adapting your export to the contract")
    parser.add_argument("--as-of", default=None, metavar="YYYY-MM-DD",
                        help="the date the data are checked against: rows dated later are errors (default: today)")
    parser.add_argument("--assumptions", default=None, metavar="FILE",
                        help="also check an assumptions.yml for the money page (keys, values, Spanish sources)")


def parse_as_of(value: str | dt.date | None, today: dt.date | None = None) -> dt.date:
    """The ``--as-of`` option: a date YYYY-MM-DD, not after today; None or "" -> today."""
    today = today or dt.date.today()
    if value in (None, ""):
        return today
    if isinstance(value, dt.date):
        d = value
    else:
        try:
            d = dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise UserError(f"--as-of must be a date YYYY-MM-DD, got {value!r}") from None
    if d > today:
        raise UserError(f"--as-of {d.isoformat()} is after today ({today.isoformat()}): data cannot be dated in the future")
    return d


def main(args: argparse.Namespace) -> int:
    as_of = parse_as_of(getattr(args, "as_of", None))
    root = reading.resolve(args.data)
    report, tables = check(root, reading.resolve(args.mapping) if args.mapping not in (None, "") else None, as_of=as_of)
    print(report.format())
    if getattr(args, "assumptions", None):
        print(assumptions_text(Path(args.assumptions).expanduser()))
    if report.ok and report.kind == "panel":
        print(coverage_text(tables, report.quarters, as_of))
    if report.ok:
        from servicechain import preconditions  # on top of validation (it uses the models' features)

        print(preconditions.format_parts(*reversed(preconditions.for_validation(report, tables, as_of))))
    return 0 if report.ok else 1


def assumptions_text(path: Path) -> str:
    """``validate --assumptions FILE``: a bad file is an error (AssumptionsError, exit 2 like run's); else one line
    saying it is fine, plus a warning for sources without ``source_es:`` (Spanish pages show them in English)."""
    from servicechain import assumptions

    a = assumptions.load(path)
    warning = assumptions.source_es_warning(a, path.name)
    return f"Assumptions {path.name}: OK" + (f"\nwarning  {warning}" if warning else "")


def coverage_text(tables: dict[str, pl.LazyFrame], qs: list[str], as_of: dt.date) -> str:
    """What ``run --quarter latest`` would report: each table's last date, the latest complete quarter
    as of ``as_of`` and why later quarters are not complete (the rule: ``asof.incomplete_reason``)."""
    tables = asof.apply_as_of(tables, as_of)
    through = asof.data_through(tables)
    incomplete = asof.incomplete_quarters(qs, as_of, through, asof.survey_quarters(tables) if "survey" in tables else None)
    latest = asof.latest_complete(qs, incomplete)
    lines = [f"Data through (as of {as_of.isoformat()}): "
             + ", ".join(f"{t} {d.isoformat()}" for t, d in through.items() if d is not None)]
    lines.append(f"Latest complete quarter: {latest} (what run --quarter latest reports)" if latest else
                 "Latest complete quarter: none, so run --quarter latest would stop (pass --quarter and --allow-incomplete)")
    lines += [f"  {q} not complete: {why}" for q, why in incomplete.items()]
    return "\n".join(lines)


# --------------------------------------------------------------------------- files


def _find_file(data_dir: Path, table: contract.Table, tmap: TableMapping | None, rep: ValidationReport) -> Path | None:
    if tmap is not None and tmap.file:
        p = Path(tmap.file)
        p = p if p.is_absolute() else data_dir / p
        if not p.is_file():
            why = reading.not_a_file(p)
            rep.add(Problem(p.name, table.name, None, why or f"the file named in the mapping is not in {data_dir}"))
            return None
        return p
    found = reading.table_files(data_dir, table.name)
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        rep.add(Problem(found[0].name, table.name, None, f"several files for one table ({names}); keep one"))
        return None
    if not found:
        odd = reading.odd_entries(data_dir, table.name)  # a folder or broken link named like the table
        for entry, why in odd:
            rep.add(Problem(entry.name, table.name, None, why))
        if table.required and not odd:
            rep.add(
                Problem(f"{table.name}.*", table.name, None, f"missing table: expected {table.name}.parquet, .csv or .xlsx")
            )
        return None
    return found[0]


# --------------------------------------------------------------------------- one table


ROW_IDS_NOTE = ("no employee id column: each row is one employee and its row number is its id (pseudonymised like any "
                "id); fine for a snapshot, whose report shows aggregates only, but two exports cannot be linked")


def _read_table(
    table: contract.Table,
    path: Path,
    tmap: TableMapping | None,
    rep: ValidationReport,
    refs: dict[str, pl.Series] | None = None,
    as_of: dt.date | None = None,
) -> tuple[pl.LazyFrame, int, dict[str, int]] | None:
    """Scan, map, parse and check one table (dates against ``as_of`` when given).

    Returns the lazy table (contract columns plus ``__row``), its row count and,
    for each column in ``refs`` (column -> the ids it must refer to), how many
    kept rows refer to an unknown id. One aggregating ``collect`` evaluates
    every check and reference count; nothing of the table is kept in memory.
    """
    fname = path.name
    opts = dict(
        delimiter=tmap.delimiter if tmap else None,
        encoding=tmap.encoding if tmap else None,
        sheet=tmap.sheet if tmap else None,
    )
    try:
        scanned = reading.scan(path, **opts)
    except ReadError as exc:
        rep.add(Problem(fname, table.name, None, str(exc).removeprefix(f"{fname}: ")))
        return None
    schema = scanned.frame.collect_schema()
    specs, extras = _column_specs(table, [c for c in schema if c != ROW], tmap, fname, rep)
    if specs is None:
        if len(scanned.sheets) > 1:  # the table may be on another sheet of the workbook
            others = ", ".join(repr(n) for n in scanned.sheets if n != scanned.sheet)
            rep.add(Problem(fname, table.name, None, f"these columns are from sheet {scanned.sheet!r}; the workbook also has "
                            f"sheets {others}: if the table is there, set sheet: for this table in the mapping"))
        return None
    numfmts = _number_formats(table, specs, extras, schema, scanned, fname, rep)
    datefmts = _date_formats(table, specs, schema, scanned, fname, rep)
    if numfmts is None or datefmts is None:
        return None
    lf, checks = _plan(table, specs, extras, schema, numfmts, datefmts)
    screened = _screen_items(table, extras, lf(scanned.frame)) if not (tmap and tmap.columns) else {}
    if screened:  # plan again without the undeclared columns whose values are not answers
        for e, why in screened.items():
            _ignore_item(rep, fname, table, specs.pop(e).source, why)
        extras = [e for e in extras if e not in screened]
        lf, checks = _plan(table, specs, extras, schema, numfmts, datefmts)
    lf, checks = _with_as_of_checks(lf, checks, table, as_of)
    scores_all = [c.name for c in table.columns if c.kind in ("likert", "nps")] + list(extras)
    drop = [c.name for c in checks if c.drop]
    stats_query = _stats_query(checks, extras, scores_all, drop, refs or {}, touch_all=scanned.text)
    try:
        stats = stats_query(lf(scanned.frame))
    except Exception as exc:  # noqa: BLE001 - a reader failure beyond the header is the user's file
        if path.suffix.lower() == ".csv" and reading.is_encoding_error(exc) and not opts["encoding"]:
            try:
                scanned = reading.decode_csv(path, delimiter=opts["delimiter"], encoding=None)
                stats = stats_query(lf(scanned.frame))
            except Exception as exc2:  # noqa: BLE001
                rep.add(Problem(fname, table.name, None, _read_failure(path, exc2, scanned)))
                return None
        else:
            rep.add(Problem(fname, table.name, None, _read_failure(path, exc, scanned)))
            return None
    planned = lf(scanned.frame)
    for note in scanned.notes:
        rep.add(Problem(fname, table.name, None, note, severity="warning"))
    if table.name == "snapshot" and "employee_id" not in specs:
        rep.add(Problem(fname, table.name, "employee_id", ROW_IDS_NOTE, severity="warning"))
    height = int(stats["__n"])
    if height == 0:
        sev = "error" if table.required or table.name in CUSTOMER_TABLES else "warning"  # one of them is needed
        rep.add(Problem(fname, table.name, None, "the table has no data rows", severity=sev))
    # Extra survey columns with no numeric value at all are free text (comments): ignored, not errors.
    ignored = [c for c in extras if height and stats[f"__nulls_{c}"] == height and stats[f"__any_{c}"]]
    for c in ignored:
        _ignore_item(rep, fname, table, specs[c].source, "no numeric values (free text?)")
    checks = [c for c in checks if c.item not in ignored]
    _report_checks(table, fname, height, stats, planned, checks, scanned.frame, specs, rep)
    items = [c.name for c in table.columns if c.kind == "likert" and c.name in specs]
    items += [c for c in extras if c not in ignored]
    if table.name in ("survey", "snapshot"):
        rep.items = items
        _item_name_warnings(rep, fname, table, items, specs)
    out = planned.filter(~pl.any_horizontal(pl.col(drop))) if drop else planned
    keep = [ROW] + [c.name for c in table.columns] + [c for c in extras if c not in ignored]
    scores = [c for c in scores_all if c not in ignored]
    out = out.select(keep).with_columns(pl.col(c).cast(pl.Int8) for c in scores if _whole_int8(stats, c))
    if table.name == "snapshot":
        out = out.with_columns(pl.col("left").cast(pl.Int8))
    return out, int(stats["__kept"]), {c: int(stats[f"__ref_{c}"]) for c in refs or {}}


def _read_failure(path: Path, exc: BaseException, scanned: reading.Scanned) -> str:
    """The one-line Problem message for a reader failure beyond the header (the file name is the Problem's)."""
    return reading.explain_failure(path, exc, scanned.delimiter).removeprefix(f"{path.name}: ")


def _stats_query(
    checks: list[_Check], extras: list[str], scores: list[str], drop: list[str], refs: dict[str, pl.Series], *, touch_all: bool
):
    """One aggregating query over the planned frame: rows, rows kept, every check's count, score ranges, unknown references."""

    def run(planned: pl.LazyFrame) -> dict:
        kept = ~pl.any_horizontal(pl.col(drop)) if drop else pl.lit(True)
        aggs: list[pl.Expr] = [pl.len().alias("__n"), (kept.sum() if drop else pl.len()).alias("__kept")]
        aggs += [pl.col(c.name).sum().alias(c.name) for c in checks]
        for c in extras:
            aggs += [pl.col(c).null_count().alias(f"__nulls_{c}"), pl.col(f"__present_{c}").any().alias(f"__any_{c}")]
        for c in scores:
            v = pl.col(c).filter(kept & pl.col(c).is_not_null())
            aggs += [
                (v == v.round()).all().alias(f"__whole_{c}"),
                v.min().alias(f"__min_{c}"),
                v.max().alias(f"__max_{c}"),
                v.len().alias(f"__len_{c}"),
            ]
        aggs += [(kept & _unknown(c, ids)).sum().alias(f"__ref_{c}") for c, ids in refs.items()]
        if touch_all:  # read every text column so an encoding error surfaces here, not later
            names = planned.collect_schema().names()
            aggs += [pl.col(c).null_count().alias(f"__touch{i}") for i, c in enumerate(names)]
        return planned.select(aggs).collect(engine="streaming").row(0, named=True)

    return run


def _number_formats(
    table: contract.Table,
    specs: dict[str, ColumnSpec],
    extras: list[str],
    schema: pl.Schema,
    scanned: reading.Scanned,
    fname: str,
    rep: ValidationReport,
) -> dict[str, reading.NumberFormat] | None:
    """The number format of every numeric text column, decided from the whole column; None if one is undecidable."""
    kinds = {c.name: c.kind for c in table.columns}
    wanted = {
        cs.source: (cs.decimal, cs.thousands)
        for target, cs in specs.items()
        if (kinds.get(target, "likert") in NUMERIC_KINDS) and schema[cs.source] == pl.String and not cs.labels
    }
    if not wanted:
        return {}
    try:
        found = reading.number_formats(scanned.frame, wanted, delimiter=scanned.delimiter)
    except Exception:  # noqa: BLE001 - a file that fails here fails again, with its message, in the main query
        return {c: reading.NumberFormat() for c in wanted}
    out: dict[str, reading.NumberFormat] = {}
    ok = True
    for src, f in found.items():
        if isinstance(f, reading.FormatProblem):
            rep.add(Problem(fname, table.name, src, f.message, f.n_rows, sorted(f.rows)[:MAX_EXAMPLES], example_values=f.values[:3]))
            ok = False
            continue
        if f.note:
            rep.add(Problem(fname, table.name, src, f.note, severity="warning"))
        out[src] = f
    return out if ok else None


def _date_formats(
    table: contract.Table,
    specs: dict[str, ColumnSpec],
    schema: pl.Schema,
    scanned: reading.Scanned,
    fname: str,
    rep: ValidationReport,
) -> dict[str, reading.DateFormat] | None:
    """The date format of every text date column without a mapped ``date_format:``; None if one is ambiguous or mixed."""
    kinds = {c.name: c.kind for c in table.columns}
    wanted = [cs.source for t, cs in specs.items() if kinds.get(t) == "date" and schema[cs.source] == pl.String and not cs.format]
    if not wanted:
        return {}
    try:
        found = reading.date_formats(scanned.frame, wanted)
    except Exception:  # noqa: BLE001 - a file that fails here fails again, with its message, in the main query
        return {c: reading.DateFormat() for c in wanted}
    out: dict[str, reading.DateFormat] = {}
    for src, f in found.items():
        if isinstance(f, reading.FormatProblem):
            rep.add(Problem(fname, table.name, src, f.message, f.n_rows, sorted(f.rows)[:MAX_EXAMPLES], example_values=f.values[:3]))
        else:
            if f.note:
                rep.add(Problem(fname, table.name, src, f.note, severity="warning"))
            out[src] = f
    return out if len(out) == len(found) else None


def _whole_int8(stats: dict, col: str) -> bool:
    """Scores that are whole numbers (no rescaled labels) are stored as Int8, others stay Float64."""
    if not stats[f"__len_{col}"]:
        return True
    return bool(stats[f"__whole_{col}"]) and stats[f"__min_{col}"] >= -128 and stats[f"__max_{col}"] <= 127



def _column_specs(
    table: contract.Table, src_cols: list[str], tmap: TableMapping | None, fname: str, rep: ValidationReport
) -> tuple[dict[str, ColumnSpec] | None, list[str]]:
    """Which source column feeds each contract column; missing required columns are reported."""
    specs: dict[str, ColumnSpec] = {}
    mapped = tmap is not None and bool(tmap.columns)
    date_format = tmap.date_format if tmap else None
    ok = True
    unmatched: set[str] = set()  # contract columns whose mapped source is missing: reported once, no knock-on
    for cs in tmap.columns if tmap else ():
        if cs.source in src_cols:
            specs[cs.target] = cs
        else:
            rep.add(Problem(fname, table.name, cs.source, _not_in_file(cs.source, src_cols)))
            unmatched.add(cs.target)
            ok = False
    used = {s.source for s in specs.values()}
    by_lower = {c.strip().lower(): c for c in src_cols if c not in used}
    for col in table.columns:
        if col.name in specs:
            continue
        if col.name in by_lower:
            src = by_lower.pop(col.name)
            specs[col.name] = ColumnSpec(
                src, col.name, format=date_format if col.kind == "date" else None,
                decimal=tmap.decimal if tmap else None, thousands=tmap.thousands if tmap else None,
            )
        elif col.required and col.name not in unmatched:
            rep.add(Problem(fname, table.name, col.name, f"missing column (the file has: {', '.join(src_cols) or 'none'})"))
            ok = False
    extras = [t for t in specs if t not in table.names]
    if table.extra_likert and not mapped:
        used = {s.source for s in specs.values()}
        for c in src_cols:
            if c not in used and c.strip() and c.strip().lower() not in contract.SURVEY_KEYS:
                why = _not_item_name(c, [*src_cols, *table.names])
                if why:
                    _ignore_item(rep, fname, table, c, why)
                    continue
                specs[c] = ColumnSpec(c, c, decimal=tmap.decimal if tmap else None, thousands=tmap.thousands if tmap else None)
                extras.append(c)
    elif table.extra_likert:  # a mapping with columns: reads only what it names (listed by validate, no warning)
        used = {s.source for s in specs.values()}
        rep.ignored.update({c: "not in the mapping" for c in src_cols if c not in used and c.strip()})
    return (specs if ok else None), extras


def _name_words(name: str) -> list[str]:
    """A column name's words, lower-cased, split at spaces, punctuation, digits and camelCase
    (``"SurveyWave2"`` -> ``["survey", "wave", "2"]``, ``"Recognition duplicated 0"`` -> ``["recognition", "duplicated", "0"]``)."""
    spaced = re.sub(r"(?<=[a-záéíóúñü])(?=[A-ZÁÉÍÓÚÑÜ])", " ", name)
    return [w.lower() for w in re.findall(r"\d+|[^\W\d_]+", spaced)]


def _not_item_name(name: str, others: list[str]) -> str | None:
    """Why an undeclared survey column is not an item judging by its name alone, or None.

    Not an item: a name with a key, date, period or grouping word (:data:`contract.NOT_ITEM_WORDS`: ``wave``,
    ``survey_round``, ``FechaEnvio``, ``store_no``), or the name of another column plus only copy words or digits
    (:data:`contract.COPY_WORDS`: ``Recognition duplicated 0``, ``recognition.1``).
    """
    words = _name_words(name)
    hit = next((w for w in words if w in contract.NOT_ITEM_WORDS), None)
    if hit:
        return f"its name says key, date, period or group ({hit!r})"
    for other in others:
        ow = _name_words(other)
        rest = words[len(ow):]
        if other != name and ow and words[: len(ow)] == ow and rest and all(w.isdigit() or w in contract.COPY_WORDS for w in rest):
            return f"it looks like a copy of column {other}"
    return None


def _screen_items(table: contract.Table, extras: list[str], planned: pl.LazyFrame) -> dict[str, str]:
    """Undeclared extra columns whose values are not answers to a rating question -> why (one query).

    An undeclared column with numbers is read as an item only when at least 95% of its values lie within
    :data:`contract.ITEM_MIN`-:data:`contract.ITEM_MAX` (1-5, 1-7 and 0-10 scales; values outside 1-5 are then
    errors asking for ``scale:``), at least half are whole numbers, it has at least
    :data:`contract.ITEM_MIN_DISTINCT` different values and, in the survey, it does not hold one value per survey
    date (a wave or period number; judged when there are at least two answers per date). A column failing any of
    these is listed as not read, with the reason; declaring it in a mapping reads it as an item.
    """
    if not extras:
        return {}
    dated = table.name == "survey"
    aggs: list[pl.Expr] = []
    for i, e in enumerate(extras):
        has = pl.col(e).is_not_null()
        v = pl.col(e).filter(has)
        aggs += [v.len().alias(f"n{i}"), v.n_unique().alias(f"k{i}"), v.min().alias(f"lo{i}"), v.max().alias(f"hi{i}"),
                 v.is_between(contract.ITEM_MIN, contract.ITEM_MAX).mean().alias(f"in{i}"),
                 (v == v.round()).mean().alias(f"w{i}")]
        if dated:
            d = pl.col("survey_date").filter(has)
            aggs += [d.n_unique().alias(f"d{i}"), pl.struct(d, v).n_unique().alias(f"p{i}")]
    try:
        got = planned.select(aggs).collect(engine="streaming").row(0, named=True)
    except Exception:  # noqa: BLE001 - a file that fails here fails again, with its message, in the main query
        return {}
    out: dict[str, str] = {}
    for i, e in enumerate(extras):
        n, k = got[f"n{i}"], got[f"k{i}"]
        if not n:
            continue
        if got[f"in{i}"] < 0.95:
            out[e] = f"its values run from {got[f'lo{i}']:g} to {got[f'hi{i}']:g}, not a rating of {contract.ITEM_MIN}-{contract.ITEM_MAX}"
        elif got[f"w{i}"] < 0.5:
            out[e] = "most of its values are not whole numbers"
        elif k < contract.ITEM_MIN_DISTINCT:
            out[e] = f"only {k} different value{'s' if k != 1 else ''}"
        elif dated and n >= 2 * got[f"d{i}"] and got[f"p{i}"] == got[f"d{i}"]:
            out[e] = "one value per survey date (a wave or period number?)"
    return out


def _item_name_warnings(rep: ValidationReport, fname: str, table: contract.Table, items: list[str],
                        specs: dict[str, ColumnSpec]) -> None:
    """A warning for each item the project has no words for and the mapping gives no Spanish name: Spanish pages
    would show it in English (``canteen_satisfaction`` -> "Canteen satisfaction"). The message shows the mapping line to add."""
    from servicechain import i18n

    for item in items:
        cs = specs.get(item)
        own = cs.label if cs is not None else None
        if i18n.has(item) or (own and own.get("es")):
            continue
        en = (own or {}).get("en") or item.replace("_", " ").capitalize()
        source = cs.source if cs is not None else item
        label = f'label: {{en: "{en}", es: "<nombre en español>"}}'
        if rep.mapping is not None and cs is not None and (cs.labels is not None or cs.scale is not None or own is not None
                                                           or cs.source != item):
            how = f"add {label} to the mapping entry of column {source!r} (tables: {table.name}: columns:)"
        else:  # read by its name, without a mapping entry; an item declared in a mapping needs scale: or labels:
            how = (f"name it in a mapping under tables: {table.name}: columns: with the line  "
                   f"{source}: {{column: {item}, scale: [1, 5], {label}}}  (a table whose columns: are listed reads "
                   f"only those columns: list its other items too)")
        rep.add(Problem(fname, table.name, source,
                        f"the item {item!r} has no Spanish name, so Spanish pages show it as {en!r}; {how}",
                        severity="warning"))


def _ignore_item(rep: ValidationReport, fname: str, table: contract.Table, column: str, why: str) -> None:
    """Record an extra survey column that is not read as an item (listed by validate, and a warning)."""
    rep.ignored[column] = why
    rep.add(Problem(fname, table.name, column, f"ignored, not read as a survey item: {why}; declare it in a mapping to read it",
                    severity="warning"))


def _not_in_file(source: str, src_cols: list[str]) -> str:
    """The message for a mapped column the file does not have, with the closest name ("did you mean ...?")."""
    lower = {c.strip().lower(): c for c in src_cols}
    close = difflib.get_close_matches(source.strip().lower(), list(lower), n=1, cutoff=0.6)
    hint = f"did you mean {lower[close[0]]}? " if close else ""
    return f"the mapping names this column but the file has no such column; {hint}the file has: {', '.join(src_cols) or 'none'}"


def _parse(
    src: str,
    dtype: pl.DataType,
    kind: str,
    cs: ColumnSpec,
    values: tuple[str, ...],
    numfmt: "reading.NumberFormat | None" = None,
    datefmt: "reading.DateFormat | None" = None,
) -> tuple[pl.Expr, pl.Expr, pl.Expr | None, str]:
    """(parsed value, present-in-source flag, unparseable flag or None, what was expected)."""
    raw = pl.col(src)
    text = raw.cast(pl.String).str.strip_chars() if dtype == pl.String else None
    present = (text.is_not_null() & (text != "")) if text is not None else raw.is_not_null()
    if dtype.is_float():  # NaN is how pandas and some exports write an empty cell
        present = present & ~raw.is_nan()
    if cs.labels:
        val = labels_expr(raw, cs.labels)
        if cs.scale:
            val = rescale_expr(val, *cs.scale)
        return val, present, present & val.is_null(), "a value listed under labels: in the mapping (add it there)"
    if kind in ("id", "str", "enum"):
        if text is not None:
            # 1001.0 is how a float id column is exported (pandas with empty cells): the id is 1001
            val = pl.when(present).then(text.str.replace(r"^(\d+)\.0+$", "${1}") if kind == "id" else text)
        elif dtype.is_float():
            whole = raw.is_finite() & (raw == raw.floor()) & (raw.abs() < 2**53)
            val = pl.when(present & whole).then(raw.cast(pl.Int64, strict=False).cast(pl.String)).when(present).then(raw.cast(pl.String))
        else:
            val = raw.cast(pl.String)
        if kind == "enum":
            val = val.str.to_lowercase()
            return val, present, present & ~val.is_in(list(values)), f"one of {', '.join(values)}"
        return val, present, None, ""
    if kind == "date":
        if dtype == pl.Date:
            return raw, present, None, ""
        if isinstance(dtype, pl.Datetime):
            return raw.dt.date(), present, None, ""
        if text is None:
            return pl.lit(None, dtype=pl.Date), present, present, f"a date (the column holds {dtype})"
        if cs.format:
            val = text.str.to_date(cs.format, strict=False)
            return val, present, present & val.is_null(), f"a date like {cs.format}"
        fmt = datefmt or reading.DateFormat()
        val = reading.parse_date(src, fmt)
        like = reading.DATE_ORDER_NAMES[fmt.order]
        seen = "" if fmt.order == "iso" else " (as the rest of the column)"
        return val, present, present & val.is_null(), f"a date {like}{seen} (or set date_format: in a mapping)"
    # numbers
    if text is not None:
        fmt = numfmt or reading.NumberFormat()
        val = reading.parse_number(src, fmt)
        bad = present & val.is_null()
    elif dtype.is_numeric() or dtype == pl.Boolean:
        val, bad = pl.when(present).then(raw.cast(pl.Float64)), None  # NaN counts as empty
    else:
        val, bad = pl.lit(None, dtype=pl.Float64), present
    if cs.multiply is not None:
        val = val * cs.multiply
    if cs.scale:
        val = rescale_expr(val, *cs.scale)
    expected = "a number" if numfmt is None or numfmt.decimal == "." else (
        "a number with a decimal comma" + ("" if numfmt.thousands in ("none", "any") else f" and thousands mark '{numfmt.thousands}'")
    )
    return val, present, bad, expected


def _plan(
    table: contract.Table,
    specs: dict[str, ColumnSpec],
    extras: list[str],
    schema: pl.Schema,
    numfmts: "dict[str, reading.NumberFormat] | None" = None,
    datefmts: "dict[str, reading.DateFormat] | None" = None,
) -> tuple:
    """Build the lazy query (a function of the scanned frame) and the list of checks it evaluates."""
    stage1: list[pl.Expr] = [pl.col(ROW)]
    checks: list[_Check] = []
    for col in table.columns:
        if col.name not in specs and (table.name, col.name) == ("snapshot", "employee_id"):
            stage1.append(pl.format("row-{}", pl.col(ROW)).alias(col.name))  # no id column: row numbers (ROW_IDS_NOTE)
            continue
        if col.name not in specs:
            dtype = {"date": pl.Date, "id": pl.String, "str": pl.String, "enum": pl.String}.get(col.kind, pl.Float64)
            stage1.append(pl.lit(None, dtype=dtype).alias(col.name))
            continue
        cs = specs[col.name]
        val, present, bad, expected = _parse(
            cs.source, schema[cs.source], col.kind, cs, col.values, (numfmts or {}).get(cs.source), (datefmts or {}).get(cs.source)
        )
        stage1.append(val.alias(col.name))
        if bad is not None:
            checks.append(_Check(col.name, f"expected {expected}", bad, source=cs.source, raw=True))
        if not col.nullable:
            checks.append(_Check(col.name, "empty value in a required column", ~present, raw=True))
    for name in extras:
        cs = specs[name]
        val, present, bad, expected = _parse(cs.source, schema[cs.source], "likert", cs, (), (numfmts or {}).get(cs.source))
        stage1.append(val.alias(name))
        stage1.append(present.alias(f"__present_{name}"))
        if bad is not None:
            checks.append(_Check(name, f"expected {expected}", bad, source=cs.source, item=name, raw=True))
    # stage 2: checks on parsed values
    for col in [c for c in table.columns if c.kind in ("likert", "nps")]:
        lo, hi = (contract.LIKERT_MIN, contract.LIKERT_MAX) if col.kind == "likert" else (contract.NPS_MIN, contract.NPS_MAX)
        v = pl.col(col.name)
        checks.append(_Check(col.name, f"outside {lo}-{hi}", v.is_not_null() & ((v < lo) | (v > hi)), source=specs[col.name].source if col.name in specs else None))
        if col.name in specs and not col.mean:  # a mean of ratings (internal_service.score 3.3) may be a decimal
            checks.extend(_whole_check(col.name, col.kind, specs[col.name]))
    for name in extras:
        v = pl.col(name)
        checks.append(_Check(name, "outside 1-5 (another scale needs scale: [low, high] in a mapping)",
                             v.is_not_null() & ((v < 1) | (v > 5)), source=specs[name].source, item=name))
        checks.extend(_whole_check(name, "likert", specs[name], item=name))
    for name in table.unique:
        v = pl.col(name)
        checks.append(_Check(name, "duplicate id (the same value on more than one row)", v.is_not_null() & v.is_duplicated()))
    checks.extend(_table_rules(table, extras))
    checks.extend(_bound_checks(table, specs))
    flags2: list[pl.Expr] = []
    for i, c in enumerate(checks):
        c.name = f"__c{i}"
        (stage1 if c.raw else flags2).append(c.flag.fill_null(False).alias(c.name))

    def query(frame: pl.LazyFrame) -> pl.LazyFrame:
        return frame.select(stage1).with_columns(flags2)

    return query, checks


def _table_rules(table: contract.Table, extras: list[str]) -> list[_Check]:
    """Rules specific to one table (dates in order, survey duplicates, self-recognition, ...)."""
    c = pl.col
    if table.name == "employees":
        return [
            _Check("exit_date", "exit date before hire date", c("exit_date") < c("hire_date")),
            _Check("exit_reason", "exit reason given but no exit date", c("exit_reason").is_not_null() & c("exit_date").is_null(), "warning"),
        ]
    if table.name == "survey":
        items = [x.name for x in table.columns if x.kind == "likert"] + extras
        return [
            _Check("survey_date", "the same person answered twice on one day: kept the first answer",
                   ~pl.struct("employee_id", "survey_date").is_first_distinct(), "warning", drop=True),
            _Check(None, "responses with no item answered: dropped", pl.all_horizontal(c(items).is_null()), "warning", drop=True),
        ]
    if table.name == "recognitions":
        return [_Check("giver_id", "recognition given to oneself: dropped", c("giver_id") == c("receiver_id"), "warning", drop=True)]
    if table.name == "internal_service":
        checks = [_Check("quarter", "expected a quarter like 2026Q3", c("quarter").is_not_null() & ~c("quarter").str.contains(r"^\d{4}Q[1-4]$")),
                  _Check("to_department", "a department rating itself as its own supplier: dropped",
                         c("from_department") == c("to_department"), "warning", drop=True)]
        # issue 15: a row with rater_id is one rating (the optional columns are all-null when the export lacks them)
        checks.append(_Check("score", "a single rating (a row with rater_id) is a whole number 1-5",
                             c("rater_id").is_not_null() & c("score").is_between(1, 5) & (c("score") != c("score").round())))
        return checks
    if table.name == "customer_quarters":
        n, ret, new = c("customers"), c("returning_customers"), c("new_customers")
        return [
            _Check("quarter", "expected a quarter like 2026Q3", c("quarter").is_not_null() & ~c("quarter").str.contains(r"^\d{4}Q[1-4]$")),
            _Check("returning_customers", "more returning customers than customers", ret > n),
            _Check("new_customers", "more new customers than customers", new > n),
            _Check("new_customers", "returning plus new customers exceed customers (a new customer cannot be returning)",
                   (ret <= n) & (new <= n) & (ret + new > n)),
            _Check("customers", "customers, returning and new customers are whole numbers",
                   pl.any_horizontal([(x != x.round()) for x in (n, ret, new)])),
            _Check("revenue", "revenue without any customer", (n == 0) & (c("revenue") != 0), "warning"),
            _Check("quarter", "the same unit, quarter and breakdown on more than one row",
                   pl.struct("unit_id", "quarter", "touchpoint", "segment").is_duplicated()),
        ]
    if table.name == "snapshot":
        return [
            _Check("left", "expected 1 (left) or 0 (stayed); map Yes/No with labels:", c("left").is_not_null() & ~c("left").is_in([0.0, 1.0])),
        ]
    return []


def _whole_check(name: str, kind: str, cs: ColumnSpec, item: str | None = None) -> list[_Check]:
    """Answers are whole numbers on their scale: NPS always (8.5 is neither promoter nor passive), a Likert item
    unless the mapping rescales it (``labels:`` or ``scale:``). Values outside the scale are reported by the range
    check only, so a row is reported once."""
    if kind == "likert" and (cs.labels or cs.scale):
        return []
    lo, hi = (contract.NPS_MIN, contract.NPS_MAX) if kind == "nps" else (contract.LIKERT_MIN, contract.LIKERT_MAX)
    v = pl.col(name)
    hint = "NPS is asked as a whole number" if kind == "nps" else "another scale needs scale: [low, high] in a mapping"
    return [_Check(name, f"not a whole number {lo}-{hi} ({hint})", v.is_not_null() & v.is_between(lo, hi) & (v != v.round()),
                   source=cs.source, item=item)]


_OPS = {"<": pl.Expr.lt, "<=": pl.Expr.le, ">": pl.Expr.gt, ">=": pl.Expr.ge}


def _bound_checks(table: contract.Table, specs: dict[str, ColumnSpec]) -> list[_Check]:
    """The plausibility bands of :data:`contract.BOUNDS` for this table's columns present in the file.

    A value breaking an error bound (the impossible) is not counted again by a warning of the same column, so
    each row is reported once per column with the strongest class.
    """
    bounds = [b for b in contract.BOUNDS if b.table == table.name and b.column in specs]
    out: list[_Check] = []
    impossible: dict[str, pl.Expr] = {}
    for b in sorted(bounds, key=lambda b: b.severity != "error"):
        v = pl.col(b.column)
        limit = pl.lit(b.limit) * v.median() if b.relative else pl.lit(b.limit)
        flag = v.is_not_null() & _OPS[b.op](v, limit)
        if isinstance(b.limit, str):  # quarter labels compare as text only when well formed (else another check)
            flag = flag & v.str.contains(r"^\d{4}Q[1-4]$")
        if b.severity == "error":
            impossible[b.column] = flag if b.column not in impossible else impossible[b.column] | flag
        elif b.column in impossible:
            flag = flag & ~impossible[b.column]
        out.append(_Check(b.column, b.message, flag, b.severity, source=specs[b.column].source))
    return out


# Dated columns checked against the as-of date: rows dated after it are errors, except these
# (future joiners and planned leavers are real HR records: the loader keeps them out of the data
# as of that date, see loading.apply_as_of).
FUTURE_JOINER_DAYS = 365  # a hire date later than this after the as-of date is a typo, not a pre-boarded joiner
AS_OF_WARNINGS = {
    ("employees", "hire_date"): "hire date after the as-of date {d} (a future joiner): not counted in any headcount",
    ("employees", "exit_date"): "exit date after the as-of date {d} (a planned leaver): counted as employed, not as an exit",
}


def _as_of_checks(table: contract.Table, as_of: dt.date) -> list[_Check]:
    """One check per dated column (and ``internal_service.quarter``): True on rows after ``as_of``."""
    checks = []
    for col in table.columns:
        if col.kind != "date":
            continue
        warn = AS_OF_WARNINGS.get((table.name, col.name))
        msg = (warn or "dated after the as-of date {d} (--as-of, default today)").format(d=as_of.isoformat())
        later = (pl.col(col.name) > as_of) & (pl.col(col.name) < contract.DATE_CEILING)  # 9999-12-31: a placeholder
        if (table.name, col.name) == ("employees", "hire_date"):
            far = as_of + dt.timedelta(days=FUTURE_JOINER_DAYS)
            checks.append(_Check(col.name, f"hire date more than {FUTURE_JOINER_DAYS} days after the as-of date "
                                 f"{as_of.isoformat()} (a typo? a joiner is hired within a year)",
                                 later & (pl.col(col.name) > far)))
            later = later & (pl.col(col.name) <= far)
        checks.append(_Check(col.name, msg, later, "warning" if warn else "error"))
    if table.name in ("internal_service", "customer_quarters"):
        later = pl.col("quarter").str.contains(r"^\d{4}Q[1-4]$") & (pl.col("quarter") > quarters.of_date(as_of))
        later = later & (pl.col("quarter") < f"{contract.DATE_CEILING.year}Q1")  # 9999Q4: a placeholder (a bound)
        checks.append(_Check("quarter", f"a quarter after the as-of date {as_of.isoformat()}", later))
    return checks


def _with_as_of_checks(query, checks: list[_Check], table: contract.Table, as_of: dt.date | None) -> tuple:
    """Add :func:`_as_of_checks` to a planned table (its query and checks, as :func:`_plan` returns them)."""
    extra = _as_of_checks(table, as_of) if as_of is not None else []
    if not extra:
        return query, checks
    for i, c in enumerate(extra):
        c.name = f"__asof{i}"
    flags = [c.flag.fill_null(False).alias(c.name) for c in extra]

    def planned(frame: pl.LazyFrame) -> pl.LazyFrame:
        return query(frame).with_columns(flags)

    return planned, [*checks, *extra]


def _report_checks(
    table: contract.Table,
    fname: str,
    height: int,
    stats: dict,
    planned: pl.LazyFrame,
    checks: list[_Check],
    frame: pl.LazyFrame,
    specs: dict[str, ColumnSpec],
    rep: ValidationReport,
) -> None:
    """Turn check counts into Problems; only failing checks fetch example rows (one more query) and values."""
    flags = [c.name for c in checks]
    if not flags or height == 0:
        rep.rejected[table.name] = 0
        return
    failing = [c for c in checks if stats[c.name]]
    bad = [c.name for c in checks if c.severity == "error" or c.drop]
    if not failing:
        rep.rejected[table.name] = 0
        return
    exprs = [pl.col(ROW).filter(pl.col(c.name)).bottom_k(MAX_EXAMPLES).sort().implode().alias(c.name) for c in failing]
    if any(stats[b] for b in bad):
        exprs.append(pl.any_horizontal(pl.col(bad)).sum().alias("__rejected"))
    got = planned.select(exprs).collect().row(0, named=True)
    found: list[tuple[_Check, Problem]] = []
    for chk in failing:
        col = specs[chk.column].source if chk.column in specs else chk.column
        p = Problem(fname, table.name, col, chk.message, int(stats[chk.name]), list(got[chk.name]), chk.severity)
        found.append((chk, p))
        rep.add(p)
    rep.rejected[table.name] = int(got.get("__rejected") or 0)
    # Example values (never for pseudonymised id columns): one extra read of just those rows.
    wanted = [(c, p) for c, p in found if c.source and c.column not in table.pseudonymise]
    if wanted:
        rows = sorted({r for _, p in wanted for r in p.example_rows})
        sources = sorted({c.source for c, _ in wanted if c.source})
        try:
            ex = frame.filter(pl.col(ROW).is_in(rows)).select([ROW, *sources]).collect()
        except Exception:  # noqa: BLE001 - examples are a courtesy
            return
        for c, p in wanted:
            vals = ex.filter(pl.col(ROW).is_in(p.example_rows)).sort(ROW).get_column(c.source).cast(pl.String).to_list()
            p.example_values = list(dict.fromkeys(str(v) for v in vals))[:3]


# --------------------------------------------------------------------------- across tables


_REFERENCES = (
    # (table, column, referenced table, referenced column)
    ("employees", "unit_id", "units", "unit_id"),
    ("employees", "manager_id", "employees", "employee_id"),
    ("survey", "employee_id", "employees", "employee_id"),
    ("recognitions", "receiver_id", "employees", "employee_id"),
    ("recognitions", "giver_id", "employees", "employee_id"),
    ("trainings", "employee_id", "employees", "employee_id"),
    ("internal_service", "rater_id", "employees", "employee_id"),
    ("customer_feedback", "unit_id", "units", "unit_id"),
    ("customer_activity", "unit_id", "units", "unit_id"),
    ("customer_quarters", "unit_id", "units", "unit_id"),
)


CUSTOMER_TABLES = ("customer_activity", "customer_quarters")


def _customer_source(data_dir: Path, tables: dict[str, pl.LazyFrame], rep: ValidationReport) -> None:
    """Exactly one of customer_activity (raw) and customer_quarters (its aggregate) is needed (issue 17).

    Neither: an error. Both: the raw table is used (the suite aggregates it with the one definition,
    ``aggregate.customer_quarters``) and customer_quarters is left out, with a warning; checking that two exports
    agree would cost the aggregation anyway and a disagreement could not say which one is right.
    """
    found = [t for t in CUSTOMER_TABLES if t in rep.files]
    if not found:
        rep.add(Problem("customer_activity.*", "customer_activity", None,
                        "missing table: expected customer_activity.parquet, .csv or .xlsx (raw purchases or visits), "
                        "or customer_quarters (their aggregate per unit and quarter)"))
    elif len(found) == 2:
        rep.add(Problem(rep.files["customer_quarters"].name, "customer_quarters", None,
                        f"both customer_activity and customer_quarters given: the raw {rep.files['customer_activity'].name} "
                        "is used and this aggregate is ignored (keep one)", severity="warning"))
        tables.pop("customer_quarters", None)
        rep.files.pop("customer_quarters", None)


def _unknown(col: str, ids: pl.Series) -> pl.Expr:
    """True where ``col`` holds an id that is not among ``ids``."""
    v = pl.col(col)
    return v.is_not_null() & ~v.is_in(ids.implode())


def _cross_checks(
    tables: dict[str, pl.LazyFrame],
    rep: ValidationReport,
    known: dict[tuple[str, str], pl.Series],
    counts: dict[tuple[str, str], int],
) -> None:
    """References to unknown employees/units, and survey answers outside employment.

    Most counts were taken while reading each table (``counts``); the rest (a
    table referring to itself, like managers) take one query per table here.
    Example rows and values are fetched only for references that fail.
    """
    refs = [r for r in _REFERENCES if r[0] in tables and r[2] in tables]
    counts = dict(counts)
    for t in dict.fromkeys(r[0] for r in refs):
        todo = [(c, rt, rc) for tt, c, rt, rc in refs if tt == t and (t, c) not in counts]
        if todo:
            row = tables[t].select(_unknown(c, known[(rt, rc)]).sum().alias(c) for c, rt, rc in todo).collect().row(0)
            counts.update({(t, c): int(n) for (c, _, _), n in zip(todo, row)})
    for t, col, ref_t, ref_col in refs:
        n = counts[(t, col)]
        if not n:
            continue
        flag = _unknown(col, known[(ref_t, ref_col)])
        what = "employee" if ref_t == "employees" else "unit"
        msg = f"refers to {what}s not in {rep.files[ref_t].name}"
        ex = tables[t].select(
            pl.col(ROW).filter(flag).bottom_k(MAX_EXAMPLES).sort().implode().alias("rows"),
            pl.col(col).filter(flag).unique(maintain_order=True).head(3).implode().alias("values"),
        ).collect().row(0, named=True)
        p = Problem(rep.files[t].name, t, col, msg, n, list(ex["rows"]))
        if ref_t == "units":
            p.example_values = list(ex["values"])
        rep.add(p)
        rep.rejected[t] = rep.rejected.get(t, 0) + n
    if "survey" in tables and "employees" in tables:
        emp = tables["employees"].select("employee_id", "hire_date", "exit_date").unique("employee_id")
        s = tables["survey"].select(ROW, "employee_id", "survey_date").join(emp, on="employee_id", how="inner")
        outside = (pl.col("survey_date") < pl.col("hire_date")) | (pl.col("survey_date") > pl.col("exit_date"))
        got = s.select(
            outside.sum().alias("n"), pl.col(ROW).filter(outside).bottom_k(MAX_EXAMPLES).sort().implode().alias("rows")
        ).collect(engine="streaming").row(0, named=True)
        if got["n"]:
            rep.add(
                Problem(
                    rep.files["survey"].name, "survey", "survey_date", "answer dated before hire or after exit",
                    int(got["n"]), list(got["rows"]), "warning",
                )
            )


def dataset_quarters(tables: "dict[str, pl.DataFrame | pl.LazyFrame]") -> list[str]:
    """Sorted quarter labels present in the survey and customer activity (eager or lazy tables)."""
    parts = []
    for name, col in (("survey", "survey_date"), ("customer_activity", "date")):
        if name in tables:
            parts.append(tables[name].lazy().select(quarters.index_expr(col).alias("q")).unique())
    if "customer_quarters" in tables and "customer_activity" not in tables:
        q = pl.col("quarter")
        parts.append(tables["customer_quarters"].lazy().select(
            (q.str.slice(0, 4).cast(pl.Int32) * 4 + q.str.slice(5, 1).cast(pl.Int32) - 1).alias("q")).unique())
    if not parts:
        return []
    idx = pl.concat(parts).collect(engine="streaming").get_column("q").drop_nulls().unique().sort().to_list()
    return [quarters.label(int(i)) for i in idx]


def _finish(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Drop the internal row-number column."""
    return lf.drop(ROW, strict=False)



# --------------------------------------------------------------------------- data-quality summary


@dataclass
class DataQualitySummary:
    """Aggregates only (never individual rows), for notebooks/00_data_quality.ipynb."""

    kind: str
    tables: pl.DataFrame  # table, file, rows, rejected
    coverage: pl.DataFrame  # table, quarter, rows
    response_rate: pl.DataFrame  # quarter, headcount, respondents, response_rate
    missingness: pl.DataFrame  # item, answered, missing, missing_share
    problems: pl.DataFrame  # severity, file, column, message, n_rows, rows
    quarters: list[str]
    latest_complete_quarter: str | None
    as_of: dt.date | None = None  # the date the data are known on (run --as-of)


_DATED = {
    "survey": "survey_date",
    "recognitions": "date",
    "customer_feedback": "date",
    "customer_activity": "date",
    "trainings": "date",
}


def data_quality_summary(ds: "Dataset") -> DataQualitySummary:
    """Coverage per quarter, survey response rates, item missingness and what was rejected."""
    rep: ValidationReport | None = ds.report  # type: ignore[assignment]
    tables = pl.DataFrame(
        {
            "table": list(ds.tables),
            "file": [ds.files[t].name for t in ds.tables],
            "rows": [reading.height(df) for df in ds.tables.values()],
            "rejected": [(rep.rejected.get(t, 0) if rep else 0) for t in ds.tables],
        },
        schema={"table": pl.String, "file": pl.String, "rows": pl.Int64, "rejected": pl.Int64},
    )
    parts = []
    for t, col in _DATED.items():
        if ds.has(t):
            parts.append(
                ds.tables[t].lazy().group_by(quarters.index_expr(col).alias("qi")).len("rows").with_columns(table=pl.lit(t))
            )
    if ds.has("customer_quarters"):
        parts.append(
            ds.tables["customer_quarters"].lazy()
            .group_by(pl.col("quarter").map_elements(quarters.parse, return_dtype=pl.Int32).alias("qi"))
            .len("rows").with_columns(table=pl.lit("customer_quarters"))
        )
    if ds.has("internal_service"):
        parts.append(
            ds.tables["internal_service"]
            .lazy()
            .group_by(pl.col("quarter").map_elements(quarters.parse, return_dtype=pl.Int32).alias("qi"))
            .len("rows")
            .with_columns(table=pl.lit("internal_service"))
        )
    coverage_schema = {"table": pl.String, "quarter": pl.String, "rows": pl.Int64}
    if parts:
        coverage = (
            pl.concat([p.select(pl.col("table"), pl.col("qi").cast(pl.Int32), pl.col("rows").cast(pl.Int64)) for p in parts])
            .collect()
            .drop_nulls("qi")
            .sort("table", "qi")
            .select("table", quarters.label_expr("qi").alias("quarter"), "rows")
        )
    else:
        coverage = pl.DataFrame(schema=coverage_schema)
    return DataQualitySummary(
        kind=ds.kind,
        tables=tables,
        coverage=coverage,
        response_rate=_response_rate(ds),
        missingness=_missingness(ds),
        problems=_problems_frame(rep),
        quarters=list(ds.quarters),
        latest_complete_quarter=ds.latest_complete_quarter,
        as_of=getattr(ds, "as_of", None),
    )


def _response_rate(ds: "Dataset") -> pl.DataFrame:
    """Respondents in a quarter / employees employed on the quarter's first day."""
    schema = {"quarter": pl.String, "headcount": pl.Int64, "respondents": pl.Int64, "response_rate": pl.Float64}
    if not (ds.has("survey") and ds.has("employees")) or not ds.quarters:
        return pl.DataFrame(schema=schema)
    emp = ds.tables["employees"].lazy()
    d0, d1 = ds.tables["survey"].lazy().select(pl.col("survey_date").min().alias("d0"), pl.col("survey_date").max().alias("d1")).collect().row(0)
    if d0 is None:
        return pl.DataFrame(schema=schema)
    # quarters from the first to the last survey wave: a quarter with only customer data is no 0% wave
    first, last = quarters.of_date(d0), quarters.of_date(d1)
    qs = [q for q in ds.quarters if quarters.parse(first) <= quarters.parse(q) <= quarters.parse(last)]
    head = () if not qs else emp.select(
        [
            ((pl.col("hire_date") <= quarters.start(q)) & (pl.col("exit_date").is_null() | (pl.col("exit_date") >= quarters.start(q))))
            .sum()
            .cast(pl.Int64)
            .alias(q)
            for q in qs
        ]
    ).collect().row(0)
    resp = (
        ds.tables["survey"]
        .lazy()
        .group_by(quarters.label_expr(quarters.index_expr("survey_date")).alias("quarter"))
        .agg(pl.col("employee_id").n_unique().cast(pl.Int64).alias("respondents"))
        .collect()
    )
    out = pl.DataFrame({"quarter": qs, "headcount": list(head)}, schema={"quarter": pl.String, "headcount": pl.Int64})
    out = out.join(resp, on="quarter", how="left").with_columns(pl.col("respondents").fill_null(0))
    return out.with_columns(
        (pl.col("respondents") / pl.when(pl.col("headcount") > 0).then(pl.col("headcount"))).alias("response_rate")
    ).select(list(schema))


def _missingness(ds: "Dataset") -> pl.DataFrame:
    name = "snapshot" if ds.kind == "snapshot" else "survey"
    schema = {"item": pl.String, "answered": pl.Int64, "missing": pl.Int64, "missing_share": pl.Float64}
    if not ds.has(name) or not ds.items:
        return pl.DataFrame(schema=schema)
    df = ds.tables[name].lazy()
    items = [i for i in ds.items if i in df.collect_schema()]
    row = df.select(pl.len().alias("__n"), *(pl.col(i).null_count() for i in items)).collect().row(0)
    n, nulls = int(row[0]), row[1:]
    out = pl.DataFrame(
        {"item": items, "missing": [int(v) for v in nulls]}, schema={"item": pl.String, "missing": pl.Int64}
    )
    return out.with_columns(
        answered=pl.lit(n, dtype=pl.Int64) - pl.col("missing"),
        missing_share=pl.col("missing") / max(n, 1),
    ).select(list(schema))


def _problems_frame(rep: ValidationReport | None) -> pl.DataFrame:
    schema = {"severity": pl.String, "file": pl.String, "column": pl.String, "message": pl.String, "n_rows": pl.Int64, "rows": pl.String}
    probs = rep.problems if rep else []
    return pl.DataFrame(
        [
            (p.severity, p.file, p.column, p.message, p.n_rows, ", ".join(map(str, p.example_rows)))
            for p in probs
        ],
        schema=schema,
        orient="row",
    )
