"""HR snapshot exports: one row per employee, no dates (``kind: snapshot``).

A snapshot says who is still employed and who has left, next to what they answered, but not when: the suite
reports cross-sectional associations between each answer and having left, never effects over time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import polars as pl
import statsmodels.api as sm
import yaml

from .estimates import Estimate, ResultMixin


# ------------------------------------------------------------------------------------------ the user's answer scales

MIN_ROWS, MIN_LEFT = 30, 5  # fit_snapshot's minimum (preconditions.SNAPSHOT_MIN_ROWS / _LEFT say the same)
MIN_ADJUST_GROUP = 20  # a department/role/salary band with fewer people is pooled before adjusting for it
GROUPS = ("department", "role", "tenure_band", "salary_band")  # the breakdowns of leaver share, in page order
ADJUST_GROUPS = ("department", "role", "salary_band")  # tenure is already in every model (log tenure)
TENURE_EDGES = (1.0, 3.0, 6.0, 11.0)  # years: <1, 1-2, 3-5, 6-10, more than 10 (whole years as exports give them)
TENURE_BANDS = ("snap_ten_0", "snap_ten_1", "snap_ten_2", "snap_ten_3", "snap_ten_4")
SALARY_BANDS = ("snap_sal_1", "snap_sal_2", "snap_sal_3", "snap_sal_4")  # quartiles of annual salary


@dataclass(frozen=True)
class ItemScale:
    """An item's answer scale as the user wrote it: the export's numbers ``low..high`` and their labels.

    The loader rescales every item linearly to the contract's 1-5 (``mapping.rescale_expr``); a snapshot's odds
    ratios and leaver shares are reported on this, the user's own scale: ``to_own`` maps a loaded 1-5 value back.
    """

    item: str
    low: float = 1.0
    high: float = 5.0
    labels: dict[float, str] = field(default_factory=dict)  # own value -> the label in the export ("Bad")

    @property
    def steps(self) -> int:
        return int(round(self.high - self.low))

    def to_own(self, e: pl.Expr) -> pl.Expr:
        """A loaded (1-5) value as the number of the user's scale (rounded: answers are whole steps)."""
        return (self.low + (e - 1.0) * (self.high - self.low) / 4.0).round(6)

    def label(self, value: float) -> str:
        """The answer's label in the export, or its number on the user's scale."""
        v = float(value)
        return self.labels.get(v) or (str(int(v)) if v.is_integer() else str(v))

    def describe(self) -> str:
        """``"Bad (1) to Best (4)"`` or ``"1 to 5"``: the scale one step of the odds ratio refers to."""
        if self.labels:
            return " → ".join(self.label(v) for v in sorted(self.labels))
        return f"{self.label(self.low)}–{self.label(self.high)}"

    def to_dict(self) -> dict:
        return {"low": self.low, "high": self.high, "labels": {self.label(k): k for k in sorted(self.labels)},
                "steps": self.steps}


def item_scales(items: list[str], mapping: str | Path | None = None) -> dict[str, ItemScale]:
    """Each item's own scale from the mapping file (``labels:`` and ``scale:``), else the contract's 1-5.

    Labels keep the spelling the mapping gives them (the loader matches them case-insensitively)."""
    out = {it: ItemScale(it) for it in items}
    if not mapping:
        return out
    from .mapping import load_mapping

    m = load_mapping(mapping).table("snapshot")
    if m is None:
        return out
    raw = (yaml.safe_load(Path(mapping).read_text(encoding="utf-8-sig")) or {})
    raw_cols = (((raw.get("tables") or {}).get("snapshot") or {}).get("columns") or {})
    for cs in m.columns:
        if cs.target not in out:
            continue
        spec = raw_cols.get(cs.source)
        names: dict[float, str] = {}
        if isinstance(spec, dict) and isinstance(spec.get("labels"), dict):
            for lab, val in spec["labels"].items():
                word = {True: "Yes", False: "No"}.get(lab, str(lab)) if isinstance(lab, bool) else str(lab)
                names.setdefault(float(val), word)
        if cs.scale is not None:
            low, high = cs.scale
        elif names:  # labels without scale: the numbers are taken as given (1-5)
            low, high = 1.0, 5.0
        else:
            continue
        out[cs.target] = ItemScale(cs.target, float(low), float(high), names)
    return out


# ------------------------------------------------------------------------------------------ the model


@dataclass(repr=False)
class SnapshotResult(ResultMixin):
    """Cross-sectional logit of a left/stayed flag (snapshot data: no timing), per step of each item's own scale.

    ``odds_ratios``/``effects``: each item adjusted for the other items and log(1 + tenure); ``adjusted_odds_ratios``:
    the same model plus ``adjusted_for`` (department, role, salary band dummies), None when no group was mapped.
    """

    odds_ratios: dict[str, Estimate]
    effects: dict[str, Estimate]
    n: int
    n_left: int
    items: list[str]
    limitations: list[str]
    scales: dict[str, ItemScale] = field(default_factory=dict)
    adjusted_odds_ratios: dict[str, Estimate] | None = None
    adjusted_for: list[str] = field(default_factory=list)
    n_adjusted: int = 0
    notes: list[str] = field(default_factory=list)
    model_result: Any = field(default=None, repr=False)  # the statsmodels GLM result (items + log tenure)
    adjusted_model_result: Any = field(default=None, repr=False)

    _title: ClassVar[str] = "Snapshot: logit of having left (HC1 robust SE), per step of each item's own scale"

    def _estimate_rows(self) -> list[tuple[str, Estimate]]:
        rows = [("odds ratio", e) for e in self.odds_ratios.values()]
        return rows + [("adjusted odds ratio", e) for e in (self.adjusted_odds_ratios or {}).values()]

    def _info(self) -> list[tuple[str, Any]]:
        return [("model", "cross-sectional logit, items + log(1 + tenure)"), ("method", "HC1 robust covariance"),
                ("employees", self.n), ("leavers", self.n_left),
                ("adjusted for", ", ".join(self.adjusted_for) or "-"), ("n adjusted", self.n_adjusted)]

    def _notes(self) -> list[str]:
        return [*self.notes, *self.limitations]

    def to_dict(self) -> dict:
        return {"effects": {k: v.to_dict() for k, v in self.effects.items()},
                "odds_ratios": {k: v.to_dict() for k, v in self.odds_ratios.items()},
                "adjusted_odds_ratios": ({k: v.to_dict() for k, v in self.adjusted_odds_ratios.items()}
                                         if self.adjusted_odds_ratios is not None else None),
                "adjusted_for": list(self.adjusted_for), "n_adjusted": self.n_adjusted,
                "scales": {k: v.to_dict() for k, v in self.scales.items()}, "per": "step of the item's own answer scale",
                "n": self.n, "n_left": self.n_left, "items": self.items, "limitations": self.limitations,
                "notes": list(self.notes)}


SNAPSHOT_LIMITATIONS = [
    "One row per employee: no dates, so no hazard over time and no out-of-time validation.",
    "Satisfaction was measured at the same time as (or after) leaving: association only, and reverse causation "
    "(people about to leave rate things lower) cannot be ruled out.",
    "No units or customers: nothing can be said about customer loyalty or money from customers.",
]
SCALE_STEP = "log-odds of having left per step of the item's own answer scale (snapshot, cross-sectional)"


def with_bands(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` plus ``tenure_band`` (:data:`TENURE_BANDS`) and ``salary_band`` (quartiles, :data:`SALARY_BANDS`;
    null without salaries)."""
    t = pl.col("tenure_years")
    ten = pl.when(t.is_null()).then(None)
    for edge, key in zip(TENURE_EDGES, TENURE_BANDS):
        ten = ten.when(t < edge).then(pl.lit(key))
    out = df.with_columns(ten.otherwise(pl.lit(TENURE_BANDS[-1])).alias("tenure_band"))
    if "annual_salary" in df.columns and df["annual_salary"].drop_nulls().n_unique() >= 4:
        q = salary_edges(df)
        s = pl.col("annual_salary")
        sal = pl.when(s.is_null()).then(None)
        for edge, key in zip(q, SALARY_BANDS):
            sal = sal.when(s < edge).then(pl.lit(key))
        return out.with_columns(sal.otherwise(pl.lit(SALARY_BANDS[-1])).alias("salary_band"))
    return out.with_columns(pl.lit(None, dtype=pl.String).alias("salary_band"))


def salary_edges(df: pl.DataFrame) -> list[float]:
    """The quartile edges of annual salary, rounded to the nearest thousand (no edge is one person's salary)."""
    s = df["annual_salary"].drop_nulls()
    return [float(round(s.quantile(p, "linear") / 1000) * 1000) for p in (0.25, 0.5, 0.75)]


def _design_groups(rows: pl.DataFrame, groups: list[str], notes: list[str]) -> tuple[np.ndarray, list[str]]:
    """0/1 dummies of each group column (largest level the reference; levels under MIN_ADJUST_GROUP pooled)."""
    cols, names = [], []
    for g in groups:
        counts = rows[g].value_counts(sort=True, name="n")
        big = [v for v, n in counts.iter_rows() if n >= MIN_ADJUST_GROUP]
        small = [v for v, n in counts.iter_rows() if n < MIN_ADJUST_GROUP]
        if small:
            notes.append(f"{g}: {len(small)} level(s) with fewer than {MIN_ADJUST_GROUP} people pooled")
        pooled = rows.select(pl.when(pl.col(g).is_in(big)).then(pl.col(g)).otherwise(pl.lit("(other)")).alias(g))[g]
        levels = [v for v in big[1:]] + (["(other)"] if sum(n for v, n in counts.iter_rows() if v in small)
                                         >= MIN_ADJUST_GROUP else [])
        for lv in levels:
            cols.append((pooled == lv).cast(pl.Float64).to_numpy())
            names.append(f"{g}[{lv}]")
    return (np.column_stack(cols) if cols else np.zeros((rows.height, 0))), names


def _full_rank(X: np.ndarray, names: list[str], keep: int, notes: list[str]) -> tuple[np.ndarray, list[str]]:
    """Drop columns (after the first ``keep``) that are constant or linear combinations of earlier ones."""
    take = list(range(keep))
    for j in range(keep, X.shape[1]):
        trial = take + [j]
        if np.linalg.matrix_rank(X[:, trial]) == len(trial):
            take = trial
        else:
            notes.append(f"dropped {names[j]}: constant or determined by the other columns")
    return X[:, take], [names[j] for j in take]


def _fit(y: np.ndarray, X: np.ndarray):
    return sm.GLM(y, X, family=sm.families.Binomial()).fit(cov_type="HC1")


def fit_snapshot(df: pl.DataFrame, items: list[str], scales: dict[str, ItemScale] | None = None,
                 groups: list[str] | tuple[str, ...] | None = None) -> SnapshotResult:
    """Logit of ``left`` on the items (on their own scales: ``scales``, default 1-5) and log(1 + tenure), robust
    (HC1) errors; with ``groups`` (default: those of :data:`ADJUST_GROUPS` the data hold) a second fit adds their
    dummies. Each item's odds ratio is per step of its own answer scale, holding the other items and tenure fixed.
    """
    scales = {it: (scales or {}).get(it) or ItemScale(it) for it in items}
    rows = df.drop_nulls([*items, "tenure_years", "left"])
    if rows.height < MIN_ROWS or rows["left"].sum() < MIN_LEFT:
        raise ValueError(f"too little snapshot data: {rows.height} complete rows, {int(rows['left'].sum())} leavers")
    own = rows.select(scales[it].to_own(pl.col(it).cast(pl.Float64)).alias(it) for it in items).to_numpy()
    X = np.column_stack([np.ones(rows.height), own, np.log1p(rows["tenure_years"].to_numpy().astype(float))])
    y = rows["left"].to_numpy().astype(float)
    res = _fit(y, X)
    se = np.sqrt(np.diag(res.cov_params()))
    eff = {it: Estimate.from_normal(it, res.params[i + 1], se[i + 1], rows.height, SCALE_STEP) for i, it in enumerate(items)}
    out = SnapshotResult({k: v.exp() for k, v in eff.items()}, eff, rows.height, int(rows["left"].sum()), items,
                         SNAPSHOT_LIMITATIONS, scales=scales, model_result=res)
    banded = with_bands(rows)
    if groups is None:
        groups = [g for g in ADJUST_GROUPS if g in banded.columns and banded[g].drop_nulls().n_unique() > 1]
    groups = [g for g in groups if g in banded.columns]
    if groups:
        sub = banded.drop_nulls(groups)
        if sub.height >= MIN_ROWS and sub["left"].sum() >= MIN_LEFT:
            notes: list[str] = []
            own_s = sub.select(scales[it].to_own(pl.col(it).cast(pl.Float64)).alias(it) for it in items).to_numpy()
            G, gnames = _design_groups(sub, list(groups), notes)
            Xa = np.column_stack([np.ones(sub.height), own_s, np.log1p(sub["tenure_years"].to_numpy().astype(float)), G])
            Xa, _ = _full_rank(Xa, ["const", *items, "log_tenure", *gnames], len(items) + 2, notes)
            ra = _fit(sub["left"].to_numpy().astype(float), Xa)
            sa = np.sqrt(np.diag(ra.cov_params()))
            out.adjusted_odds_ratios = {it: Estimate.from_normal(it, ra.params[i + 1], sa[i + 1], sub.height,
                                                                 SCALE_STEP).exp() for i, it in enumerate(items)}
            out.adjusted_for, out.n_adjusted, out.notes, out.adjusted_model_result = list(groups), sub.height, notes, ra
    return out


# ------------------------------------------------------------------------------------------ leaver shares


def _shares(g: pl.DataFrame) -> pl.DataFrame:
    """``employees``/``leavers`` -> ``share`` with a Wilson 95% interval."""
    z = 1.959963984540054
    n, k = pl.col("employees").cast(pl.Float64), pl.col("leavers").cast(pl.Float64)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)).sqrt()) / (1 + z * z / n)
    return g.with_columns(share=p, share_low=(centre - half).clip(0, 1), share_high=(centre + half).clip(0, 1))


def _suppress(g: pl.DataFrame, by: str, threshold: int) -> pl.DataFrame:
    from .privacy import suppress_small

    return suppress_small(g, "employees", threshold, by,
                          value_cols=["employees", "leavers", "share", "share_low", "share_high"])


def leaver_share_by_answer(df: pl.DataFrame, items: list[str], scales: dict[str, ItemScale] | None = None,
                           threshold: int = 5) -> pl.DataFrame:
    """One row per item and answer (own scale, low to high): ``item``, ``value``, ``answer`` (the export's label),
    ``employees``, ``leavers``, ``share`` with ``share_low``/``share_high`` (Wilson 95%) and ``suppressed``.

    Answers given by fewer than ``threshold`` people are hidden, with complementary suppression within the item
    (:func:`privacy.suppress_small`): hidden cells have null counts and shares and say why in ``suppressed``.
    """
    scales = {it: (scales or {}).get(it) or ItemScale(it) for it in items}
    parts = []
    for it in items:
        sc = scales[it]
        g = (df.filter(pl.col(it).is_not_null() & pl.col("left").is_not_null())
             .group_by(sc.to_own(pl.col(it).cast(pl.Float64)).alias("value"))
             .agg(pl.len().cast(pl.Int64).alias("employees"), pl.col("left").cast(pl.Int64).sum().alias("leavers"))
             .sort("value"))
        g = g.with_columns(pl.lit(it).alias("item"),
                           pl.col("value").map_elements(sc.label, return_dtype=pl.String).alias("answer"))
        parts.append(_suppress(_shares(g), "item", threshold))
    cols = ["item", "value", "answer", "employees", "leavers", "share", "share_low", "share_high", "suppressed"]
    return pl.concat([p.select(cols) for p in parts]) if parts else pl.DataFrame()


def leaver_share_by_group(df: pl.DataFrame, threshold: int = 5, groups: tuple[str, ...] = GROUPS) -> pl.DataFrame:
    """Leaver share by department, role, tenure band and salary band (those the data hold): ``group``, ``level``,
    ``employees``, ``leavers``, ``share`` (Wilson 95%), ``suppressed`` (fewer than ``threshold`` people, with
    complementary suppression within each breakdown). Departments and roles by size, bands in their order."""
    b = with_bands(df.filter(pl.col("left").is_not_null()))
    parts = []
    for grp in groups:
        if grp not in b.columns or b[grp].drop_nulls().is_empty():
            continue
        g = (b.filter(pl.col(grp).is_not_null()).group_by(pl.col(grp).cast(pl.String).alias("level"))
             .agg(pl.len().cast(pl.Int64).alias("employees"), pl.col("left").cast(pl.Int64).sum().alias("leavers")))
        order = list(TENURE_BANDS if grp == "tenure_band" else SALARY_BANDS if grp == "salary_band" else [])
        g = (g.with_columns(pl.col("level").replace_strict(order, list(range(len(order))), default=None).alias("__o"))
             .sort(["__o", "employees", "level"], descending=[False, True, False]).drop("__o"))
        parts.append(_suppress(_shares(g.with_columns(pl.lit(grp).alias("group"))), "group", threshold))
    cols = ["group", "level", "employees", "leavers", "share", "share_low", "share_high", "suppressed"]
    return pl.concat([p.select(cols) for p in parts]) if parts else pl.DataFrame(
        schema={"group": pl.String, "level": pl.String, "employees": pl.Int64, "leavers": pl.Int64,
                "share": pl.Float64, "share_low": pl.Float64, "share_high": pl.Float64, "suppressed": pl.String})


def snapshot_overview(df: pl.DataFrame, snapshot_date: str | None = None) -> dict:
    """What index.html can say from a snapshot: the employees in the export, who is still employed, who left and
    their share of the export. No turnover rate: a snapshot has no period (``leaver_share`` is not per year)."""
    left = int(df["left"].fill_null(0).sum())
    out = {"headcount": df.height - left, "employees_in_export": df.height, "left": left,
           "leaver_share": left / df.height if df.height else None}
    if snapshot_date:
        out["snapshot_date"] = str(snapshot_date)
    return out




# ------------------------------------------------------------------------------------------ report text and tables


def _join(words: list[str], lang: str) -> str:
    from . import i18n

    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" {i18n.t('snap_method_and', lang)} " + words[-1]


def item_word(item: str, lang: str) -> str:
    """An item's name in the report language (the catalog's word, else the column name made readable)."""
    from . import charts

    return charts.word(item, lang)


def level_word(group: str, level: str, lang: str, salary: list[float] | None = None) -> str:
    """A breakdown level as the reader sees it: tenure and salary bands in words (salary bands with their edges)."""
    from . import i18n

    if group == "salary_band" and level in SALARY_BANDS:
        k = SALARY_BANDS.index(level)
        edges = [None, *(salary or [None] * 3), None]
        n = lambda v: i18n.fmt_number(v, lang, 0) if v is not None else "?"  # noqa: E731
        return i18n.t(level, lang, lo=n(edges[k]), hi=n(edges[k + 1]))
    if group == "tenure_band" and level in TENURE_BANDS:
        return i18n.t(level, lang)
    return level


def method_text(sr: SnapshotResult, lang: str) -> str:
    """Exactly what each odds ratio is adjusted for: the other items and log tenure, plus the groups if added."""
    from . import i18n
    from .notebook import fmt

    if len(sr.items) > 1:
        out = i18n.t("snap_method", lang, others=_join([item_word(i, lang).lower() for i in sr.items], lang))
    else:
        out = i18n.t("snap_method_single", lang)
    if sr.adjusted_odds_ratios is not None:
        groups = _join([i18n.t(f"snap_group_{g}", lang).lower() for g in sr.adjusted_for], lang)
        out += " " + fmt(i18n.t("snap_method_adjusted", lang), lang, groups=groups, n=sr.n_adjusted, min=MIN_ADJUST_GROUP)
    return out


def odds_table(sr: SnapshotResult, lang: str) -> pl.DataFrame:
    """One row per item: its answer scale (what one step is), the odds ratio per step and, if fitted, adjusted."""
    from . import charts

    rows = []
    for it in sr.items:
        o = sr.odds_ratios[it]
        row = {"item": item_word(it, lang), "snap_scale": sr.scales[it].describe(),
               "snap_or_ci": charts.ci_text(o.estimate, o.ci_low, o.ci_high, lang, 2)}
        if sr.adjusted_odds_ratios is not None:
            a = sr.adjusted_odds_ratios[it]
            row["snap_or_adj_ci"] = charts.ci_text(a.estimate, a.ci_low, a.ci_high, lang, 2)
        rows.append(row)
    return pl.DataFrame(rows)


def _share_cells(df: pl.DataFrame, lang: str, threshold: int) -> list[str]:
    from . import charts, i18n

    out = []
    for r in df.iter_rows(named=True):
        if r["suppressed"]:
            if r["suppressed"] == "small":
                out.append(f"{i18n.t('snap_hidden', lang)} ({i18n.t('snap_hidden_small', lang, threshold=threshold)})")
            else:
                out.append(i18n.t("snap_hidden_complementary", lang))
        else:
            out.append(charts.ci_text(r["share"], r["share_low"], r["share_high"], lang, 0, pct=True))
    return out


def answers_table(shares: pl.DataFrame, lang: str, threshold: int) -> pl.DataFrame:
    """:func:`leaver_share_by_answer` as report text: item, answer, employees, leavers, share (95% range) or why hidden."""
    return pl.DataFrame({
        "item": [item_word(i, lang) for i in shares["item"]], "answer": shares["answer"],
        "employees": shares["employees"], "leavers": shares["leavers"],
        "snap_share_ci": _share_cells(shares, lang, threshold),
    }, schema_overrides={"employees": pl.Int64, "leavers": pl.Int64})


def groups_table(groups: pl.DataFrame, lang: str, threshold: int, salary: list[float] | None = None) -> pl.DataFrame:
    """:func:`leaver_share_by_group` as report text (group, level, employees, leavers, share or why hidden)."""
    from . import i18n

    return pl.DataFrame({
        "snap_group": [i18n.t(f"snap_group_{g}", lang) for g in groups["group"]],
        "snap_level": [level_word(g, lv, lang, salary) for g, lv in zip(groups["group"], groups["level"])],
        "employees": groups["employees"], "leavers": groups["leavers"],
        "snap_share_ci": _share_cells(groups, lang, threshold),
    }, schema_overrides={"employees": pl.Int64, "leavers": pl.Int64})


def _share_forest(frame: pl.DataFrame, labels: list[str], overall: float, lang: str, title: str, x_title: str):
    from . import charts

    f = pl.DataFrame({"name": labels, "estimate": (frame["share"] * 100).to_list(),
                      "ci_low": (frame["share_low"] * 100).to_list(), "ci_high": (frame["share_high"] * 100).to_list()})
    fig = charts.forest(f, lang, title=title, x_title=charts.wrap(x_title, 26), ref=overall * 100, decimals=0)
    # from 0 (a share), with room right of the widest range for its value text
    return fig.update_layout(margin=dict(b=96)).update_xaxes(range=[0, float(f["ci_high"].max()) * 1.35])


def answers_figures(shares: pl.DataFrame, overall: float, lang: str) -> list:
    """One chart per item: the shown answers' leaver shares (percent, 95% ranges), low answer to high, titled with
    the answer whose share is highest against the range of the others (a threshold shows as one answer apart).
    Hidden answers are left out (the table says why); an item with fewer than two shown answers has no chart."""
    from . import i18n

    out = []
    pct = lambda x: i18n.fmt_pct(x, lang, 0)  # noqa: E731
    for it in shares["item"].unique(maintain_order=True).to_list():
        shown = shares.filter((pl.col("item") == it) & pl.col("suppressed").is_null())
        if shown.height < 2:
            continue
        top = shown.sort("share", descending=True).row(0, named=True)
        rest = shown.filter(pl.col("answer") != top["answer"])["share"]
        title = i18n.t("snap_title_item", lang, item=item_word(it, lang), share=pct(top["share"]), answer=top["answer"],
                       lo=pct(rest.min()), hi=pct(rest.max()), overall=pct(overall))
        out.append(_share_forest(shown, shown["answer"].to_list(), overall, lang, title, i18n.t("snap_axis_share", lang)))
    return out


def groups_figures(groups: pl.DataFrame, overall: float, lang: str, salary: list[float] | None = None) -> list:
    """Leaver share by tenure band, then by salary band (the ordered breakdowns, one chart each, labelled with the
    band alone; departments and roles are in the table). Each title compares the first band with the last."""
    from . import i18n

    out = []
    pct = lambda x: i18n.fmt_pct(x, lang, 0)  # noqa: E731
    for grp, bands, key in (("tenure_band", TENURE_BANDS, "snap_title_groups"),
                            ("salary_band", SALARY_BANDS, "snap_title_salary")):
        shown = groups.filter((pl.col("group") == grp) & pl.col("suppressed").is_null())
        if shown.height < 2:
            continue
        first, last = (shown.filter(pl.col("level") == b)["share"] for b in (bands[0], bands[-1]))
        title = (i18n.t(key, lang, first=pct(first[0]), last=pct(last[0])) if first.len() and last.len()
                 else i18n.t(f"snap_group_{grp}", lang))
        labels = [level_word(grp, lv, lang, salary) for lv in shown["level"]]
        out.append(_share_forest(shown, labels, overall, lang, title, i18n.t("snap_axis_share", lang)))
    return out


# ------------------------------------------------------------------------------------------ the snapshot's index


@dataclass(frozen=True)
class SnapshotSummary:
    """The snapshot's executive summary (index.html): the export, what it shows, the caveat, what a panel adds."""

    export: str
    heading: str
    points: list[str]
    caveat: str
    panel: str

    def markdown(self) -> str:
        return "\n\n".join([self.export, self.heading + "\n" + "\n".join(f"- {p}" for p in self.points),
                            self.caveat, self.panel])


def _snapshot_date(metrics: dict, fallback: Any = None) -> Any:
    import datetime as dt

    d = (metrics.get("overview") or {}).get("snapshot_date")
    try:
        return dt.date.fromisoformat(str(d)) if d else fallback
    except ValueError:
        return fallback


def clear_associations(metrics: dict, k: int = 2) -> list[tuple[str, dict]]:
    """Up to ``k`` items whose odds-ratio 95% range excludes 1, strongest (furthest from 1 on the log scale) first."""
    import math

    ors = ((metrics.get("retention") or {}).get("odds_ratios") or {})
    clear = [(it, e) for it, e in ors.items() if isinstance(e, dict) and e.get("ci_low") is not None
             and e.get("ci_high") is not None and (e["ci_high"] < 1 or e["ci_low"] > 1)]
    return sorted(clear, key=lambda x: -abs(math.log(x[1]["estimate"])))[:k]


def executive_summary(metrics: dict, lang: str, date: Any = None) -> SnapshotSummary:
    """What the snapshot says, in the report language, from metrics.json only (aggregates)."""
    from . import i18n

    ov, ret = metrics.get("overview") or {}, metrics.get("retention") or {}
    pct = lambda x: i18n.fmt_pct(x, lang, 0)  # noqa: E731
    num = lambda x: i18n.fmt_number(x, lang, 0)  # noqa: E731
    n, left, share = ov.get("employees_in_export"), ov.get("left"), ov.get("leaver_share")
    export = i18n.t("snap_sum_export", lang, date=i18n.fmt_date(_snapshot_date(metrics, date), lang), n=num(n),
                    left=num(left), share=pct(share))
    points = []
    for it, e in clear_associations(metrics):
        points.append(i18n.t("snap_sum_assoc", lang, item=item_word(it, lang), or_=i18n.fmt_number(e["estimate"], lang, 2),
                             lo=i18n.fmt_number(e["ci_low"], lang, 2), hi=i18n.fmt_number(e["ci_high"], lang, 2)))
    if not points and ret.get("odds_ratios"):
        points.append(i18n.t("snap_sum_none", lang))
    if not ret:  # 01 did not run (too little data): its page says why
        points.append(i18n.t("snap_sum_not_run", lang))
    shown = [r for r in ret.get("by_answer") or [] if isinstance(r, dict) and not r.get("suppressed")
             and r.get("share") is not None]
    if shown:
        top = max(shown, key=lambda r: r["share"])
        points.append(i18n.t("snap_sum_answer", lang, share=pct(top["share"]), n=num(top["employees"]),
                             answer=top["answer"], item=item_word(top["item"], lang).lower(), overall=pct(share)))
    groups = [r for r in ret.get("by_group") or [] if isinstance(r, dict) and not r.get("suppressed")
              and r.get("share") is not None]
    if groups:
        top = max(groups, key=lambda r: r["share"])
        points.append(i18n.t("snap_sum_group", lang, share=pct(top["share"]), n=num(top["employees"]),
                             level=level_word(top["group"], top["level"], lang, ret.get("salary_edges")),
                             group=i18n.t(f"snap_group_{top['group']}", lang).lower()))
    return SnapshotSummary(export, i18n.t("snap_sum_assoc_h", lang), points, i18n.t("snap_sum_caveat", lang),
                           i18n.t("snap_sum_panel", lang))


def index_cards(metrics: dict, lang: str) -> list[dict]:
    """The snapshot index's cards: employees in the export, still employed, had left, leaver share (no deltas, no
    trends: one export has no earlier quarter). A card without its figure says why instead of 'not available'."""
    from . import i18n

    ov = metrics.get("overview") or {}
    cards = []
    for key, field_, kind, note in (("snap_card_employees", "employees_in_export", "int", "snap_note_employees"),
                                    ("snap_card_still", "headcount", "int", ""),
                                    ("snap_card_left", "left", "int", ""),
                                    ("snap_card_share", "leaver_share", "pct", "snap_note_share")):
        v = i18n.as_number(ov.get(field_))
        if v is None:
            continue  # the export did not give it (01 did not run): no card rather than an empty one
        cards.append({"key": field_, "label": i18n.t(key, lang), "available": True,
                      "value": i18n.fmt_pct(v, lang, 1) if kind == "pct" else i18n.fmt_number(v, lang, 0),
                      "delta": "", "delta_class": "", "spark": "", "note": i18n.t(note, lang) if note else ""})
    return cards


def index_context(metrics: dict, lang: str, generated: Any = None) -> dict:
    """What :func:`servicechain.report.build_index` shows for a snapshot instead of a quarter's index: the label
    with the snapshot's date (the run's as-of date), the export's cards and the executive summary."""
    from . import i18n

    s = executive_summary(metrics, lang, generated)
    date = _snapshot_date(metrics, generated)
    return {
        "quarter_label": i18n.t("snap_report_label", lang, date=i18n.fmt_date(date, lang)) if date else
        i18n.t("data_kind_snapshot", lang),
        "cards": index_cards(metrics, lang),
        "lead_heading": i18n.t("snap_summary_h", lang),
        "glance_heading": i18n.t("snap_glance_h", lang),
        "lead": {"finding": s.export, "actions": s.points, "actions_heading": s.heading if s.points else "",
                 "caveat": s.caveat, "panel": s.panel},
    }


def odds_figure(sr: SnapshotResult, lang: str, title: str):
    """The odds ratios per answer step with 95% ranges: each item adjusted for the other items and tenure and, when
    fitted, also for the groups (side by side); a log axis with readable ticks around 1."""
    from . import charts, i18n

    rows = [{"name": it, "spec": "snap_spec_base", "estimate": e.estimate, "ci_low": e.ci_low, "ci_high": e.ci_high}
            for it, e in sr.odds_ratios.items()]
    if sr.adjusted_odds_ratios is not None:
        rows += [{"name": it, "spec": "snap_spec_groups", "estimate": e.estimate, "ci_low": e.ci_low,
                  "ci_high": e.ci_high} for it, e in sr.adjusted_odds_ratios.items()]
    df = pl.DataFrame(rows)
    labels = {it: item_word(it, lang) for it in sr.items}
    labels["snap_spec_base"] = i18n.t("snap_spec_base", lang)
    labels["snap_spec_groups"] = i18n.t("snap_spec_groups", lang, groups=_join(
        [i18n.t(f"snap_group_{g}", lang).lower() for g in sr.adjusted_for], lang)) if sr.adjusted_for else ""
    fig = charts.forest(df, lang, title=title, x_title=i18n.t("snap_axis_or", lang), ref=1.0, log_x=True,
                        group_col="spec" if sr.adjusted_odds_ratios is not None else None, labels=labels)
    lo, hi = min(df["ci_low"].min(), 1.0) / 1.08, max(df["ci_high"].max(), 1.0) * 1.08
    ticks = [v for v in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 10.0)
             if lo <= v <= hi]
    fig.update_xaxes(range=[float(np.log10(lo)), float(np.log10(hi))], tickvals=ticks, dtick=None,
                     ticktext=[i18n.fmt_number(v, lang, 2 if v in (1.25,) else 1) for v in ticks],
                     title_text=charts.wrap(i18n.t("snap_axis_or", lang), 26))  # two or three lines: fits a phone
    fig.update_layout(margin=dict(b=96))
    return fig
