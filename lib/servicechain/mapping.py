"""mapping.yml: adapt anyone's HR / survey / customer export to the data contract.

A mapping says, per contract table, which file holds it and which of the
file's columns is which contract column, plus how to turn value labels into
numbers. Example (a one-sheet HR snapshot)::

    kind: snapshot
    tables:
      snapshot:
        file: hr_export.csv
        delimiter: ","          # optional; sniffed when absent
        encoding: utf8          # optional; utf8 (BOM ok), cp1252, latin-1, utf-16 ...
        columns:
          EmployeeNumber: employee_id
          YearsAtCompany: tenure_years
          Attrition: {column: left, labels: {"Yes": 1, "No": 0}}
          MonthlyIncome: {column: annual_salary, multiply: 12}
          JobSatisfaction:
            column: job_satisfaction        # an extra 1-5 item
            labels: {Low: 1, Medium: 2, High: 3, "Very High": 4}
            scale: [1, 4]                   # rescaled linearly to 1-5
          CanteenRating:
            column: canteen_satisfaction    # an item the project has no words for:
            scale: [1, 4]                   # name it per language (or label: "one name for both")
            label: {en: "Canteen satisfaction", es: "Satisfacción con el comedor"}

Keys under ``columns`` are the user's column names; values are contract
column names (or a dict with ``column`` and options). Structural mistakes
(unknown table, unknown contract column, bad options) raise
:class:`MappingError` listing every mistake at once; labels found in the data
but missing from the mapping are reported by the validator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from servicechain import contract
from servicechain.cli import UserError

TABLE_KEYS = {"file", "sheet", "delimiter", "encoding", "date_format", "decimal", "thousands", "columns"}
COLUMN_KEYS = {"column", "labels", "scale", "format", "multiply", "decimal", "thousands", "label"}
LABEL_LANGS = ("en", "es")  # the languages a column's display name (label:) may be given in
TOP_KEYS = {"kind", "tables", "delimiter", "encoding", "date_format", "decimal", "thousands"}
DECIMAL_MARKS = (".", ",")
# thousands: one of these, or "none" (no grouping); " " also accepts no-break and narrow no-break spaces
THOUSANDS_MARKS = (".", ",", " ", "'", "none")
# YAML 1.1 reads unquoted Yes/No/On/Off as booleans; accept the usual spellings back.
_BOOL_WORDS = {True: ("yes", "true", "on", "y"), False: ("no", "false", "off", "n")}


@dataclass(frozen=True)
class ColumnSpec:
    """One source column -> one contract column, with optional value conversion."""

    source: str
    target: str
    labels: dict[str, float] | None = None  # lower-cased label -> number
    scale: tuple[float, float] | None = None  # the source scale, rescaled to 1-5
    format: str | None = None  # strftime format for dates
    multiply: float | None = None  # e.g. 12 for monthly -> annual salary
    decimal: str | None = None  # "." or ","; None = decided from the whole column (reading.number_formats)
    thousands: str | None = None  # ".", ",", " ", "'" or "none"; None = decided from the whole column
    label: dict[str, str] | None = None  # display name per language ({"en": ..., "es": ...}), from label:


@dataclass(frozen=True)
class TableMapping:
    table: str
    file: str | None = None
    sheet: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    date_format: str | None = None
    decimal: str | None = None  # default for this table's number columns
    thousands: str | None = None
    columns: tuple[ColumnSpec, ...] = ()

    def by_source(self) -> dict[str, ColumnSpec]:
        return {c.source: c for c in self.columns}


@dataclass(frozen=True)
class Mapping:
    path: Path | None = None
    kind: str | None = None  # "panel" | "snapshot" | None (decided by the data folder)
    tables: dict[str, TableMapping] = field(default_factory=dict)

    def table(self, name: str) -> TableMapping | None:
        return self.tables.get(name)

    def item_labels(self) -> dict[str, dict[str, str]]:
        """Contract column -> its display name per language, for every column the mapping gives a ``label:``."""
        return {c.target: dict(c.label) for tm in self.tables.values() for c in tm.columns if c.label}


@dataclass(frozen=True)
class MappingIssue:
    table: str
    column: str | None
    message: str


class MappingError(UserError):
    """The mapping file itself is wrong; carries every issue found."""

    def __init__(self, path: Path | None, issues: list[MappingIssue]):
        self.path = path
        self.issues = issues
        where = path.name if path else "mapping"
        lines = [f"{where}: {i.table}{'.' + i.column if i.column else ''}: {i.message}" for i in issues]
        super().__init__("the mapping file has problems:\n  " + "\n  ".join(lines))


def load_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping.yml; raise :class:`MappingError` listing every mistake."""
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise MappingError(p, [MappingIssue("(file)", None, f"not found: {p}")]) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        msg = " ".join(str(exc).split())
        raise MappingError(p, [MappingIssue("(file)", None, f"not valid YAML: {msg}")]) from None
    return parse_mapping(raw, p)


def parse_mapping(raw: Any, path: Path | None = None) -> Mapping:
    """Check the structure of a parsed mapping document and build a :class:`Mapping`."""
    issues: list[MappingIssue] = []
    if not isinstance(raw, dict):
        raise MappingError(path, [MappingIssue("(file)", None, "must be a YAML mapping with a 'tables:' key")])
    for k in raw:
        if k not in TOP_KEYS:
            issues.append(MappingIssue("(top level)", None, f"unknown key {k!r}; allowed: {', '.join(sorted(TOP_KEYS))}"))
    kind = raw.get("kind")
    if kind not in (None, "panel", "snapshot"):
        issues.append(MappingIssue("(top level)", None, f"kind must be 'panel' or 'snapshot', not {kind!r}"))
    tables_raw = raw.get("tables") or {}
    if not isinstance(tables_raw, dict):
        issues.append(MappingIssue("(top level)", None, "'tables' must map table names to their settings"))
        tables_raw = {}
    defaults = {k: raw.get(k) for k in ("delimiter", "encoding", "date_format", "decimal", "thousands")}
    tables: dict[str, TableMapping] = {}
    for name, spec in tables_raw.items():
        name = str(name)
        if name not in contract.ALL_TABLES:
            known = ", ".join(contract.ALL_TABLES)
            issues.append(MappingIssue(name, None, f"unknown table; the contract has: {known}"))
            continue
        tm = _parse_table(contract.ALL_TABLES[name], spec or {}, defaults, issues)
        if tm is not None:
            tables[name] = tm
    if "snapshot" in tables and kind == "panel":
        issues.append(MappingIssue("snapshot", None, "a panel mapping cannot map the snapshot table"))
    if kind == "snapshot" and any(t != "snapshot" for t in tables):
        others = ", ".join(t for t in tables if t != "snapshot")
        issues.append(MappingIssue(others, None, "a snapshot mapping maps only the 'snapshot' table"))
    if issues:
        raise MappingError(path, issues)
    if kind is None and "snapshot" in tables:
        kind = "snapshot"
    return Mapping(path=path, kind=kind, tables=tables)


def _parse_table(
    table: contract.Table, spec: Any, defaults: dict[str, Any], issues: list[MappingIssue]
) -> TableMapping | None:
    name = table.name
    if not isinstance(spec, dict):
        issues.append(MappingIssue(name, None, "settings must be a mapping (file:, columns:, ...)"))
        return None
    for k in spec:
        if k not in TABLE_KEYS:
            issues.append(MappingIssue(name, None, f"unknown key {k!r}; allowed: {', '.join(sorted(TABLE_KEYS))}"))
    cols_raw = spec.get("columns") or {}
    if not isinstance(cols_raw, dict):
        issues.append(MappingIssue(name, None, "'columns' must map your column names to contract columns"))
        cols_raw = {}
    date_format = spec.get("date_format", defaults.get("date_format"))
    marks = _parse_marks(name, None, spec, {"decimal": defaults.get("decimal"), "thousands": defaults.get("thousands")}, issues)
    columns: list[ColumnSpec] = []
    targets: dict[str, str] = {}
    for source, target_spec in cols_raw.items():
        cs = _parse_column(table, str(source), target_spec, date_format, issues, marks)
        if cs is None:
            continue
        if cs.target in targets:
            issues.append(
                MappingIssue(name, cs.target, f"mapped twice (from {targets[cs.target]!r} and {cs.source!r})")
            )
        targets[cs.target] = cs.source
        columns.append(cs)
    delim = spec.get("delimiter", defaults.get("delimiter"))
    if delim is not None and (not isinstance(delim, str) or len(delim.encode()) != 1):
        issues.append(MappingIssue(name, None, f"delimiter must be one character, not {delim!r}"))
    enc = spec.get("encoding", defaults.get("encoding"))
    if enc is not None:
        import codecs

        try:
            codecs.lookup(str(enc))
        except LookupError:
            issues.append(MappingIssue(name, None, f"unknown encoding {enc!r}"))
    return TableMapping(
        table=name,
        file=str(spec["file"]) if spec.get("file") is not None else None,
        sheet=str(spec["sheet"]) if spec.get("sheet") is not None else None,
        delimiter=delim,
        encoding=str(enc) if enc is not None else None,
        date_format=date_format,
        decimal=marks["decimal"],
        thousands=marks["thousands"],
        columns=tuple(columns),
    )


def _parse_marks(
    table: str, source: str | None, spec: dict, defaults: dict[str, str | None], issues: list[MappingIssue]
) -> dict[str, str | None]:
    """``decimal:`` and ``thousands:`` of a table or column (inheriting ``defaults``), checked."""
    dec = spec.get("decimal", defaults.get("decimal"))
    th = spec.get("thousands", defaults.get("thousands"))
    th = None if th is None else ("none" if th in (False, "", "none") else str(th))
    if dec is not None and dec not in DECIMAL_MARKS:
        issues.append(MappingIssue(table, source, f"decimal must be '.' or ',', not {dec!r}"))
        dec = None
    if th is not None and th not in THOUSANDS_MARKS:
        issues.append(MappingIssue(table, source, f"thousands must be one of '.', ',', ' ', \"'\" or none, not {th!r}"))
        th = None
    if dec is not None and th == dec:
        issues.append(MappingIssue(table, source, f"decimal and thousands cannot both be {dec!r}"))
        th = None
    return {"decimal": dec, "thousands": th}


def _parse_column(
    table: contract.Table,
    source: str,
    spec: Any,
    date_format: str | None,
    issues: list[MappingIssue],
    marks: dict[str, str | None] | None = None,
) -> ColumnSpec | None:
    name = table.name
    if isinstance(spec, str):
        spec = {"column": spec}
    if not isinstance(spec, dict) or "column" not in spec:
        issues.append(MappingIssue(name, source, "give the contract column name, or a dict with 'column:'"))
        return None
    for k in spec:
        if k not in COLUMN_KEYS:
            issues.append(MappingIssue(name, source, f"unknown key {k!r}; allowed: {', '.join(sorted(COLUMN_KEYS))}"))
    target = str(spec["column"])
    labels = _parse_labels(name, source, spec.get("labels"), issues)
    scale = _parse_scale(name, source, spec.get("scale"), issues)
    is_item = labels is not None or scale is not None
    if target not in table.names:
        if not (table.extra_likert and is_item and target not in contract.SURVEY_KEYS):
            hint = " (an extra survey item needs labels: or scale:)" if table.extra_likert else ""
            issues.append(
                MappingIssue(
                    name, source, f"unknown contract column {target!r}{hint}; known: {', '.join(table.names)}"
                )
            )
            return None
    kind = table.column(target).kind if target in table.names else "likert"
    if scale is not None and kind not in ("likert",):
        issues.append(MappingIssue(name, source, f"scale: only applies to 1-5 items, not to {target!r} ({kind})"))
    multiply = spec.get("multiply")
    if multiply is not None and not isinstance(multiply, (int, float)):
        issues.append(MappingIssue(name, source, f"multiply must be a number, not {multiply!r}"))
        multiply = None
    fmt = spec.get("format", date_format if kind == "date" else None)
    m = _parse_marks(name, source, spec, marks or {}, issues)
    label = _parse_label(name, source, spec.get("label"), issues) if "label" in spec else None
    return ColumnSpec(
        source, target, labels, scale, fmt, float(multiply) if multiply is not None else None, m["decimal"], m["thousands"],
        label,
    )


def _parse_label(table: str, source: str, raw: Any, issues: list[MappingIssue]) -> dict[str, str] | None:
    """``label: "Job involvement"`` (one name for every language) or ``label: {en: ..., es: ...}``. A language
    left out of the dict is not filled in here: :func:`item_label` falls back to English, and ``validate`` warns
    about an item with no Spanish name."""
    if isinstance(raw, str) and raw.strip():
        return {lang: raw.strip() for lang in LABEL_LANGS}
    if isinstance(raw, dict) and raw:
        bad = [k for k in raw if k not in LABEL_LANGS]
        if bad:
            issues.append(MappingIssue(table, source, f"label: languages are {', '.join(LABEL_LANGS)}, not {', '.join(map(repr, bad))}"))
            return None
        empty = [k for k, v in raw.items() if not isinstance(v, str) or not v.strip()]
        if empty:
            issues.append(MappingIssue(table, source, f"label: the name in {', '.join(empty)} must be non-empty text"))
            return None
        return {k: v.strip() for k, v in raw.items()}
    issues.append(MappingIssue(table, source, 'label must be a name, or names per language: {en: "Job involvement", '
                                              'es: "Implicación en el trabajo"}'))
    return None


# ------------------------------------------------------------------ display names of the user's items
# The notebooks' setup() registers the mapping's labels (use_item_labels); charts.word, the one function that
# turns a column or item name into the words on a page, asks item_label first.
_ITEM_LABELS: dict[str, dict[str, str]] = {}


def use_item_labels(labels: dict[str, dict[str, str]] | None) -> None:
    """Make ``labels`` (``Mapping.item_labels()``) the display names of this process's pages; None clears them."""
    _ITEM_LABELS.clear()
    _ITEM_LABELS.update({k: dict(v) for k, v in (labels or {}).items()})


def item_label(name: str, lang: str) -> str | None:
    """The user's name for item ``name`` in ``lang`` (``"es-MX"`` counts as ``"es"``), else in English, else None."""
    lab = _ITEM_LABELS.get(str(name))
    if not lab:
        return None
    return lab.get(str(lang)[:2]) or lab.get("en") or next(iter(lab.values()))


def _parse_labels(table: str, source: str, raw: Any, issues: list[MappingIssue]) -> dict[str, float] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw:
        issues.append(MappingIssue(table, source, "labels must map each text value to a number"))
        return None
    out: dict[str, float] = {}
    for label, value in raw.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            issues.append(MappingIssue(table, source, f"label {label!r} must map to a number, not {value!r}"))
            continue
        words = _BOOL_WORDS[label] if isinstance(label, bool) else (str(label),)
        for w in words:
            out[w.strip().lower()] = float(value)
    return out


def _parse_scale(table: str, source: str, raw: Any, issues: list[MappingIssue]) -> tuple[float, float] | None:
    if raw is None:
        return None
    ok = isinstance(raw, (list, tuple)) and len(raw) == 2 and all(isinstance(v, (int, float)) for v in raw)
    if not ok or raw[0] >= raw[1]:
        issues.append(MappingIssue(table, source, f"scale must be [low, high] with low < high, not {raw!r}"))
        return None
    return float(raw[0]), float(raw[1])


def rescale_expr(e: pl.Expr, low: float, high: float) -> pl.Expr:
    """Linear map of [low, high] onto the contract's 1-5 Likert scale."""
    span = contract.LIKERT_MAX - contract.LIKERT_MIN
    return contract.LIKERT_MIN + (e - low) * span / (high - low)


def labels_expr(e: pl.Expr, labels: dict[str, float]) -> pl.Expr:
    """Text labels -> numbers (case and surrounding spaces ignored); unknown labels -> null."""
    keys = list(labels)
    return (
        e.cast(pl.String)
        .str.strip_chars()
        .str.to_lowercase()
        .replace_strict(keys, [labels[k] for k in keys], default=None, return_dtype=pl.Float64)
    )
