"""Which parts of the quarterly suite can run on a data folder, and why not.

``servicechain validate`` lists them and ``servicechain run`` skips a part that cannot run
(a short page saying why, en/es) instead of failing the whole suite. Both call :func:`check`
on the validated tables, so what validate says is what run does.

The rules are those of the library functions the notebooks call (read them there):

* 01 retention: ``features.person_quarters`` lags the drivers, so the survey must cover at
  least 2 quarters; ``retention.fit_hazard`` needs >= 50 person-quarters with last quarter's
  answers and >= 10 voluntary exits among them; ``retention.out_of_time`` fits on the earlier
  outcome quarters (the same minimum) and scores the last one, so it needs surveys in at least
  3 quarters.
* 02 customer loyalty: ``loyalty.fit_unit_model`` for NPS and customer retention, pooled and
  within units: >= len(drivers) + 10 unit-quarters with last quarter's survey in >= 5 units;
  within units, only units seen in at least 2 such quarters count.
* 04 money: ``finance.analyse`` needs the retention model and the pooled unit models.
* 00 data quality, 03 the chain (it says on its page what it cannot estimate) and 05 the
  summary (it lists the missing parts) always run.

Snapshot data (one HR export) runs 00 and 01 only; 01 fits ``retention.fit_snapshot``: >= 30
rows complete on the items and tenure, >= 5 of them leavers. A notebook says
which part it is in its metadata (``"servicechain": {"part": "retention"}``), so the runner
checks only the suite's notebooks.

>>> part = Part("retention", 1, False, "pre_ret_quarters", {"n": 1})
>>> part.reason("en")
'retention needs surveys in at least 2 quarters; found 1'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from servicechain import i18n
from servicechain import quarters as Q

# notebook number -> part of the suite
PARTS = {0: "data_quality", 1: "retention", 2: "loyalty", 3: "chain", 4: "finance", 5: "summary", 6: "internal_customer"}
# the thresholds of retention.fit_hazard, retention.fit_snapshot and loyalty.fit_unit_model
RETENTION_MIN_ROWS = 50
RETENTION_MIN_EXITS = 10
SNAPSHOT_MIN_ROWS = 30
SNAPSHOT_MIN_LEFT = 5
LOYALTY_MIN_UNITS = 5
LOYALTY_EXTRA_ROWS = 10  # rows needed beyond one per driver
LOYALTY_OUTCOMES = {"nps": "pre_w_nps", "customer_retention_pct": "pre_w_customer_retention"}  # outcome -> word key


@dataclass(frozen=True)
class Part:
    """One part of the suite on this data: ``can_run``, and if not, why (an i18n key and its values)."""

    name: str
    notebook: int
    can_run: bool = True
    key: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    because: Part | None = None  # the part whose reason this one repeats (money needs retention)

    def reason(self, lang: str = "en") -> str:
        """The sentence saying why the part cannot run, in ``lang`` ("" when it can)."""
        if self.can_run or not self.key:
            return ""
        values = dict(self.values)
        for k, v in values.items():  # words, quarters and counts in the reader's language
            if isinstance(v, str) and k.endswith("_word") and i18n.has(v):
                values[k] = i18n.t(v, lang)
            elif isinstance(v, str) and k.endswith("_quarter"):
                values[k] = i18n.fmt_quarter(v, lang)
            elif isinstance(v, int) and not isinstance(v, bool):
                values[k] = i18n.fmt_number(v, lang)
        if self.because is not None:
            values["why"] = self.because.reason(lang)
        return i18n.t(self.key, lang, **values)


def _no(name: str, key: str, because: Part | None = None, **values: Any) -> Part:
    num = {v: k for k, v in PARTS.items()}[name]
    return Part(name, num, False, key, values, because)


def _ok(name: str) -> Part:
    return Part(name, {v: k for k, v in PARTS.items()}[name])


def survey_quarters(tables: Mapping[str, Any]) -> list[str]:
    """Quarters with at least one survey answer, in order."""
    qi = (tables["survey"].lazy().select(Q.index_expr("survey_date").drop_nulls().unique().sort().alias("qi"))
          .collect().get_column("qi").to_list())
    return [Q.label(int(i)) for i in qi]


def _retention(tables: Mapping[str, Any], n_quarters: int) -> tuple[Part, Part]:
    """(the retention model, the whole retention part with its out-of-time check)."""
    from servicechain import features, retention

    if n_quarters < 2:
        p = _no("retention", "pre_ret_quarters", n=n_quarters)
        return p, p
    pq, _ = features.person_quarters(tables)
    rows = retention.model_rows(pq).select("quarter", "voluntary_exit")
    n, exits = rows.height, int(rows["voluntary_exit"].sum())
    if n < RETENTION_MIN_ROWS or exits < RETENTION_MIN_EXITS:
        p = _no("retention", "pre_ret_rows", rows=n, exits=exits, min_rows=RETENTION_MIN_ROWS,
                min_exits=RETENTION_MIN_EXITS)
        return p, p
    model = _ok("retention")
    qs = sorted(rows["quarter"].unique().to_list())
    if len(qs) < 2:
        return model, _no("retention", "pre_ret_oot_quarters", n=n_quarters)
    train = rows.filter(pl.col("quarter") < qs[-1])
    n_tr, exits_tr = train.height, int(train["voluntary_exit"].sum())
    if n_tr < RETENTION_MIN_ROWS or exits_tr < RETENTION_MIN_EXITS:
        return model, _no("retention", "pre_ret_oot_rows", test_quarter=qs[-1], rows=n_tr, exits=exits_tr,
                          min_rows=RETENTION_MIN_ROWS, min_exits=RETENTION_MIN_EXITS)
    return model, model


def _unit_quarters(tables: Mapping[str, Any]) -> pl.DataFrame:
    """``features.unit_quarters`` for counting model rows, without its costly customer join.

    Which customers came back is the expensive part (every customer of every quarter); the
    loyalty models only need it where ``customers_prev`` (last quarter's distinct customers of
    the unit) is large enough, and that is one group-by. ``customer_retention_pct`` here is a
    placeholder, non-null exactly where the real one is.
    """
    from servicechain import features

    act = tables.get("customer_activity")
    if act is None:
        return features.unit_quarters(tables)
    uq = features.unit_quarters({**tables, "customer_activity": act.lazy().head(0)})
    prev = (act.lazy().group_by("unit_id", (Q.index_expr("date") + 1).alias("qi"))
            .agg(pl.col("customer_id").n_unique().cast(uq.schema["customers_prev"]).alias("customers_prev"))
            .collect())
    return (uq.drop("customers_prev", "customer_retention_pct")
            .join(prev.with_columns(pl.col("qi").cast(uq.schema["qi"])), on=["unit_id", "qi"], how="left")
            .with_columns(pl.when(pl.col("customers_prev") > 0).then(pl.lit(0.0)).alias("customer_retention_pct")))


def _loyalty(tables: Mapping[str, Any], n_quarters: int) -> tuple[Part, Part]:
    """(the pooled unit models money needs, the whole loyalty part with the within-unit models)."""
    from servicechain import features, loyalty

    if n_quarters < 2:
        p = _no("loyalty", "pre_loy_quarters", n=n_quarters)
        return p, p
    uq = _unit_quarters(tables)
    need = len(loyalty.UNIT_DRIVERS) + LOYALTY_EXTRA_ROWS
    pooled: Part | None = None
    within: Part | None = None
    for outcome, word in LOYALTY_OUTCOMES.items():
        rows = loyalty.model_rows(uq, outcome).select("unit_id")
        units = rows["unit_id"].n_unique()
        if pooled is None and (rows.height < need or units < LOYALTY_MIN_UNITS):
            pooled = _no("loyalty", "pre_loy_rows", outcome_word=word, rows=rows.height, units=units, need=need,
                         min_units=LOYALTY_MIN_UNITS)
        fe = rows.filter(pl.len().over("unit_id") > 1)
        fe_units = fe["unit_id"].n_unique()
        if within is None and (fe.height < need or fe_units < LOYALTY_MIN_UNITS):
            within = _no("loyalty", "pre_loy_within", outcome_word=word, rows=fe.height, units=fe_units, need=need,
                         min_units=LOYALTY_MIN_UNITS)
    pooled = pooled or _ok("loyalty")
    return pooled, (pooled if not pooled.can_run else within or pooled)


def _snapshot(snap: Any, items: list[str] | None) -> Part:
    """01 on snapshot data: the notebook's item selection (numeric, answered) and fit_snapshot's minimum."""
    df = snap.lazy().collect() if isinstance(snap, pl.LazyFrame) else snap
    use = [c for c in (items or []) if c in df.columns and df.schema[c].is_numeric() and df[c].count() > 0]
    rows = df.drop_nulls([*use, "tenure_years", "left"])
    left = int(rows["left"].sum()) if rows.height else 0
    if rows.height < SNAPSHOT_MIN_ROWS or left < SNAPSHOT_MIN_LEFT:
        return _no("retention", "pre_snap_rows", rows=rows.height, left=left, min_rows=SNAPSHOT_MIN_ROWS,
                   min_left=SNAPSHOT_MIN_LEFT)
    return _ok("retention")


def check(tables: Mapping[str, Any], kind: str, quarter: str | None, items: list[str] | None = None) -> dict[str, Part]:
    """Every part of the suite -> :class:`Part` (can it run on these validated tables, and why not).

    ``tables``: validated tables (DataFrames or LazyFrames, pseudonymised or not); ``kind``:
    "panel" or "snapshot"; ``quarter``: the report's quarter (the data are cut to it as the
    notebooks do, with ``features.as_of``); ``items``: the survey items validation read (snapshot
    data). Counts only: nothing here is shown to anyone.
    """
    parts = {name: _ok(name) for name in PARTS.values()}
    if kind == "snapshot":  # a snapshot runs 00 and 01 only
        parts = {k: v for k, v in parts.items() if k in ("data_quality", "retention")}
        if "snapshot" in tables:
            parts["retention"] = _snapshot(tables["snapshot"], items)
        return parts
    if kind != "panel" or quarter is None or "survey" not in tables or "employees" not in tables:
        return parts
    from servicechain import features

    cut = features.as_of(tables, quarter)
    n = len(survey_quarters(cut))
    # a ValueError here is the one the notebook would stop with: the part cannot run, for that reason
    try:
        model, parts["retention"] = _retention(cut, n)
    except ValueError as exc:
        model = parts["retention"] = _no("retention", "pre_error", message=str(exc))
    try:
        pooled, parts["loyalty"] = _loyalty(cut, n)
    except ValueError as exc:
        pooled = parts["loyalty"] = _no("loyalty", "pre_error", message=str(exc))
    for need in (model, pooled):
        if not need.can_run:
            parts["finance"] = _no("finance", "pre_fin", because=need)
            break
    if tables.get("internal_service") is None and tables.get("trainings") is None:  # issue 15: page 06
        parts["internal_customer"] = _no("internal_customer", "pre_is15_none")
    return parts


def for_validation(report: Any, tables: Mapping[str, Any], as_of: dt.date | None) -> tuple[str | None, dict[str, Part]]:
    """(the quarter ``run --quarter latest`` would report, :func:`check` for it) from ``validation.check``'s result."""
    from servicechain import asof as A

    if report.kind != "panel" or not report.quarters:
        return None, check(tables, report.kind, None, list(report.items))
    as_of = as_of or dt.date.today()
    qs = list(report.quarters)
    cut = A.apply_as_of(dict(tables), as_of)
    surveyed = A.survey_quarters(cut) if "survey" in cut else None
    quarter = A.latest_complete(qs, A.incomplete_quarters(qs, as_of, A.data_through(cut), surveyed))
    if quarter is None:  # run --quarter latest stops before any notebook
        return None, {}
    return quarter, check(cut, report.kind, quarter)


def format_parts(parts: Mapping[str, Part], quarter: str | None, lang: str = "en") -> str:
    """The lines ``servicechain validate`` prints: which notebooks can run on this data, and why not."""
    if not parts:
        return "Parts of the suite on this data: none runs until a quarter is complete (see above)"
    head = f"Parts of the suite on this data (quarter {quarter}):" if quarter else "Parts of the suite on this data:"
    lines = [head]
    for p in sorted(parts.values(), key=lambda p: p.notebook):
        label = f"{p.notebook:02d} {i18n.t(f'nb_{p.notebook:02d}', lang)}"
        lines.append(f"  {'can run ' if p.can_run else 'CANNOT  '} {label}" + ("" if p.can_run else f": {p.reason(lang)}"))
    if any(not p.can_run for p in parts.values()):
        lines.append("servicechain run skips the parts that cannot run (a page says why) and publishes the others.")
    return "\n".join(lines)


def fallback_results(part: str, tables: Mapping[str, Any], quarter: str, as_of: Any = None) -> dict[str, dict]:
    """Results a skipped part would have saved that need no model: the quarter at a glance
    (headcount, turnover, NPS, customer retention) comes from 02, so the index keeps its cards; a snapshot's
    (employees in the export, leavers, their share, the snapshot's date ``as_of``) from 01."""
    if part == "retention" and "snapshot" in tables:
        from servicechain import snapshot

        snap = tables["snapshot"]
        snap = snap.collect() if hasattr(snap, "collect") else snap
        return {"overview": {"quarter": quarter, **snapshot.snapshot_overview(
            snap, as_of.isoformat() if hasattr(as_of, "isoformat") else as_of)}}
    if part != "loyalty":
        return {}
    from servicechain import features

    return {"overview": features.overview(tables, quarter)}


def skipped_notebook(number: int, reason: str, lang: str) -> Any:
    """The notebook published in place of a part that cannot run: its title and why (no code)."""
    import nbformat

    title = i18n.t(f"nb_{number:02d}", lang)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\n{i18n.t('pre_skipped_md', lang, reason=reason)}")]
    nb.metadata["servicechain"] = {"skipped": True, "reason": reason}
    return nb
