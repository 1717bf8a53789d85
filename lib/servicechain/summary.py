"""The executive summary (notebook 05): short narrative text generated from the run's results.

Every function takes the merged metrics dict (``{"overview": ..., "retention": ...,
"loyalty": ..., "chain": ..., "finance": ..., "data_quality": ...}``, i.e. what the
runner writes to ``metrics.json``) and a language, and returns text (markdown) or a
small plotly figure built from aggregates. Nothing here reads person-level data.

Missing pieces never raise: a notebook that did not run, a model that could not be
fitted or snapshot data (only 00 and 01) leave their section out, and
:func:`missing` explains what is not available and why.

    >>> s = build(metrics, "es", threshold=5)
    >>> s.markdown()          # the whole summary, one string
    >>> s.figure              # the three actions with P10-P90 bars (or None)
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from servicechain import i18n

WEEKLY_PER_MONTH = 52 / 12  # recognition "weekly" in recognitions per month
RESULT_NAMES = ("data_quality", "overview", "retention", "loyalty", "chain", "finance")
# Which notebook produces which result (for "the X report produced no results").
PRODUCER = {"data_quality": "nb_00", "overview": "nb_00", "retention": "nb_01", "loyalty": "nb_02",
            "chain": "nb_03", "finance": "nb_04"}
SNAPSHOT_RESULTS = {"data_quality", "overview", "retention"}
DRIVER_ORDER = {"recognition_per_month": 0, "empowerment": 1, "leadership": 2, "voluntary_turnover_pct": 3}
_QUARTER_DIR = re.compile(r"^\d{4}Q[1-4]$")


# ------------------------------------------------------------------------------------- result objects


@dataclass(frozen=True)
class Action:
    """One money scenario: value per year with its P10-P90 range, and what it means in people and customers."""

    name: str
    label: str
    p10: float | None
    p50: float
    p90: float | None
    currency: str
    exits_avoided: float | None = None
    customers_retained: float | None = None
    combined: bool = False
    components: dict[str, float] | None = None  # replacement / acquisition / margin (averages over the draws)
    placeholder: bool = False  # net of an illustrative programme cost the user has not replaced
    beyond_data: bool = False  # the scenario goes past what the units reach today
    reach_units: float | None = None  # share of units already at the scenario's level
    conservative: float | None = None  # P50 with every assumption at its cautious end


@dataclass(frozen=True)
class Finding:
    """One finding as a sentence, with the estimate and 95% CI it rests on (on the sentence's scale)."""

    key: str
    text: str
    estimate: float
    ci_low: float
    ci_high: float
    n: int | None
    clear: bool  # the 95% CI excludes "no difference"

    def __post_init__(self) -> None:
        # words no stronger than the evidence: a range that includes no effect is never a bold finding
        if not self.clear and "**" in self.text:
            object.__setattr__(self, "text", self.text.replace("**", ""))


@dataclass(frozen=True)
class Missing:
    """A part of the summary that is not available, and why (both in the report language)."""

    part: str
    what: str
    why: str


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    body: str


@dataclass
class ExecutiveSummary:
    """The whole summary: sections in reading order, the chart (or None) and what is missing."""

    lang: str
    sections: list[Section]
    figure: Any = None
    actions: list[Action] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    def markdown(self) -> str:
        return "\n\n".join(f"## {s.title}\n\n{s.body}" for s in self.sections)

    def to_results(self) -> dict:
        """Small machine-readable record for ``save_results("summary", ...)`` (no text, no paths)."""
        return {"top_actions": [a.name for a in self.actions if not a.combined],
                "findings": [f.key for f in self.findings],
                "missing": [m.part for m in self.missing]}


# ------------------------------------------------------------------------------------- small helpers


_num = i18n.as_number


def _part(metrics: dict, name: str) -> dict:
    v = metrics.get(name) if isinstance(metrics, dict) else None
    return v if isinstance(v, dict) else {}


def _est(d: Any) -> tuple[float, float, float, int | None] | None:
    """``{estimate, ci_low, ci_high, n}`` -> floats, or None when incomplete."""
    if not isinstance(d, dict):
        return None
    e, lo, hi = _num(d.get("estimate")), _num(d.get("ci_low")), _num(d.get("ci_high"))
    if e is None or lo is None or hi is None:
        return None
    n = _num(d.get("n", d.get("n_obs")))
    return e, min(lo, hi), max(lo, hi), int(n) if n is not None else None


def _range3(s: dict, base: str) -> tuple[float | None, float | None, float | None]:
    """P10/P50/P90 of ``base`` in a scenario: ``base_p50`` keys, a ``{p10, p50, p90}`` dict, or a number (P50)."""
    v = s.get(base)
    if isinstance(v, dict):
        return _num(v.get("p10")), _num(v.get("p50", v.get("median", v.get("estimate")))), _num(v.get("p90"))
    if f"{base}_p50" in s:
        return _num(s.get(f"{base}_p10")), _num(s.get(f"{base}_p50")), _num(s.get(f"{base}_p90"))
    return None, _num(v), None


def _first(s: dict, bases: tuple[str, ...]) -> float | None:
    for b in bases:
        p50 = _range3(s, b)[1]
        if p50 is not None:
            return p50
    return None


def _label(s: dict, lang: str) -> str:
    lab = s.get("label")
    if isinstance(lab, dict):
        lab = lab.get(i18n.base(lang)) or lab.get("en") or next(iter(lab.values()), None)
    if isinstance(lab, str) and lab.strip():
        return lab.strip()
    name = str(s.get("name") or "")
    return i18n.t(name, lang) if name and i18n.has(name) else name.replace("_", " ")


def _money(x: float | None, currency: str, lang: str) -> str:
    return i18n.fmt_money(x, currency, lang, compact=True)


def _pct0(x: float, lang: str) -> str:
    return i18n.fmt_pct(x, lang, 0)


def _ci(rng: str, lang: str) -> str:
    return i18n.t("sum_ci", lang, range=rng)


def _is_snapshot(metrics: dict) -> bool:
    dq, ret = _part(metrics, "data_quality"), _part(metrics, "retention")
    return dq.get("kind") == "snapshot" or ret.get("kind") == "snapshot" or metrics.get("kind") == "snapshot"


def _quarter(metrics: dict) -> str:
    q = metrics.get("quarter") or _part(metrics, "overview").get("quarter") or ""
    return str(q)


# ------------------------------------------------------------------------------------- the quarter at a glance


def glance(metrics: dict, lang: str) -> str:
    """One paragraph with the overview numbers (headcount, voluntary turnover, NPS, customers who come back)."""
    ov = _part(metrics, "overview")
    q = i18n.fmt_quarter(_quarter(metrics), lang)
    parts = []
    hc = _num(ov.get("headcount"))
    if hc is not None:
        parts.append(i18n.t("sum_glance_headcount", lang, quarter=q, headcount=i18n.fmt_number(hc, lang)))
    vt = _num(ov.get("voluntary_turnover_rate"))
    if vt is not None:
        ex = _num(ov.get("voluntary_exits"))
        split = {k: _num(ov.get(k)) for k in ("voluntary_turnover_rate_annualised", "voluntary_leavers_from_start",
                                               "voluntary_joined_and_left", "early_leavers", "early_days")}
        if ex is not None and None not in split.values():
            f = lambda k: i18n.fmt_number(split[k], lang)  # noqa: E731
            parts.append(i18n.t("sum_glance_turnover_full", lang, rate=i18n.fmt_pct(vt, lang), exits=i18n.fmt_number(ex, lang),
                                annual=i18n.fmt_pct(split["voluntary_turnover_rate_annualised"], lang, 0),
                                from_start=f("voluntary_leavers_from_start"), joined=f("voluntary_joined_and_left"),
                                early=f("early_leavers"), days=f("early_days")))
        elif ex is not None:
            parts.append(i18n.t("sum_glance_turnover", lang, rate=i18n.fmt_pct(vt, lang), exits=i18n.fmt_number(ex, lang)))
        else:
            parts.append(i18n.t("sum_glance_turnover_rate", lang, rate=i18n.fmt_pct(vt, lang)))
    nps = _num(ov.get("nps"))
    if nps is not None:
        resp = _num(ov.get("nps_responses"))
        if resp is not None:
            parts.append(i18n.t("sum_glance_nps", lang, nps=i18n.fmt_number(nps, lang, 1), responses=i18n.fmt_number(resp, lang)))
        else:
            parts.append(i18n.t("sum_glance_nps_plain", lang, nps=i18n.fmt_number(nps, lang, 1)))
    cr = _num(ov.get("customer_retention_rate"))
    if cr is not None:
        parts.append(i18n.t("sum_glance_retention", lang, rate=i18n.fmt_pct(cr, lang)))
    if not parts:
        return i18n.t("sum_glance_none", lang)
    return " ".join(parts)


# ------------------------------------------------------------------------------------- the actions worth most


def scenarios(metrics: dict, lang: str) -> list[Action]:
    """Every finance scenario with a P50 value: those within the data first (a scenario the money report marks as
    going beyond what the units reach today comes after them), then highest P50 first (ties by name, so the order
    is stable)."""
    fin = _part(metrics, "finance")
    cur = str(fin.get("currency") or "EUR")
    asm = fin.get("assumptions") if isinstance(fin.get("assumptions"), dict) else {}
    combos = {str(x.get("name")) for x in (asm.get("scenarios") or []) if isinstance(x, dict) and x.get("includes")}
    out = []
    # page 06's training-cadence scenario (issue 15) is ranked with the money page's, priced the same way
    extra = [x for part in ("training", "internal_service") for x in (_part(metrics, part).get("scenarios") or [])]
    for s in [*(fin.get("scenarios") or []), *extra]:
        if not isinstance(s, dict):
            continue
        p50 = _num(s.get("value_p50"))
        if p50 is None:
            continue
        out.append(Action(
            name=str(s.get("name") or ""), label=_label(s, lang), p10=_num(s.get("value_p10")), p50=p50,
            p90=_num(s.get("value_p90")), currency=str(s.get("currency") or cur),
            exits_avoided=_first(s, ("exits_avoided", "voluntary_exits_avoided", "exits_avoided_per_year")),
            customers_retained=_first(s, ("customers_retained", "customers_kept", "customers_retained_per_year")),
            combined=bool(s.get("includes") or s.get("combined")) or str(s.get("name")) in combos,
            components=_components(s), placeholder=bool(s.get("programme_cost_placeholder")),
            beyond_data=bool(s.get("extrapolates")), reach_units=_num(s.get("reach_units")),
            conservative=_num(s.get("conservative_value_p50")),
        ))
    return sorted(out, key=lambda a: (a.beyond_data, -a.p50, a.name))


def _components(s: dict) -> dict[str, float] | None:
    """A scenario's value split into replacement / acquisition / margin (None when any part is missing)."""
    c = s.get("components") if isinstance(s.get("components"), dict) else {}
    parts = {k: _num(c.get(k)) for k in ("replacement_cost_avoided", "acquisition_spend_avoided", "margin_kept")}
    return parts if all(v is not None for v in parts.values()) else None


def top_actions(metrics: dict, lang: str = "en", n: int = 3) -> list[Action]:
    """The ``n`` single actions worth most money (by P50); combinations of actions are left out."""
    return [a for a in scenarios(metrics, lang) if not a.combined][:n]


def _action_line(a: Action, lang: str) -> str:
    line = i18n.t("sum_action_item", lang, label=a.label, p50=_money(a.p50, a.currency, lang),
                  p10=_money(a.p10, a.currency, lang), p90=_money(a.p90, a.currency, lang)) \
        if a.p10 is not None and a.p90 is not None else \
        i18n.t("sum_action_item_p50", lang, label=a.label, p50=_money(a.p50, a.currency, lang))
    ex = i18n.fmt_number(a.exits_avoided, lang) if a.exits_avoided is not None else None
    cu = i18n.fmt_number(a.customers_retained, lang) if a.customers_retained is not None else None
    if ex and cu:
        line += " " + i18n.t("sum_action_people", lang, exits=ex, customers=cu)
    elif ex:
        line += " " + i18n.t("sum_action_exits", lang, exits=ex)
    elif cu:
        line += " " + i18n.t("sum_action_customers", lang, customers=cu)
    if a.conservative is not None:
        line += " " + i18n.t("sum_action_conservative", lang, value=_money(a.conservative, a.currency, lang))
    if a.components:
        c = {k: _money(v, a.currency, lang) for k, v in a.components.items()}
        line += " " + i18n.t("sum_action_parts", lang, rep=c["replacement_cost_avoided"],
                             acq=c["acquisition_spend_avoided"], margin=c["margin_kept"])
    if a.beyond_data:
        line += " " + i18n.t("sum_action_beyond", lang, units=i18n.fmt_pct(a.reach_units or 0.0, lang, 0))
    if a.placeholder:
        line += " " + i18n.t("sum_action_placeholder", lang)
    return line


def actions_text(metrics: dict, lang: str) -> str | None:
    """The three actions worth most, each with its P10-P90 range and what it means in people and customers.
    None when there are no money estimates (see :func:`missing`)."""
    acts = top_actions(metrics, lang)
    if not acts:
        return None
    lines = [f"{i}. {_action_line(a, lang)}" for i, a in enumerate(acts, 1)]
    out = "\n".join(lines)
    if len(acts) < 3:
        out += "\n\n" + i18n.t("sum_actions_fewer", lang)
    combo = next((a for a in scenarios(metrics, lang) if a.combined), None)
    if combo is not None:
        out += "\n\n" + i18n.t("sum_actions_combined", lang, label=combo.label,
                               p50=_money(combo.p50, combo.currency, lang),
                               p10=_money(combo.p10, combo.currency, lang), p90=_money(combo.p90, combo.currency, lang))
        if combo.beyond_data:
            out += " " + i18n.t("sum_action_beyond", lang, units=i18n.fmt_pct(combo.reach_units or 0.0, lang, 0))
        if combo.placeholder:
            out += " " + i18n.t("sum_action_placeholder", lang)
    mult = _num(_part(metrics, "finance").get("acquisition_cost_multiple"))
    if isinstance(_part(metrics, "finance").get("acquisition_cost_multiple"), dict):
        mult = _num(_part(metrics, "finance")["acquisition_cost_multiple"].get("value"))
    out += "\n\n" + (i18n.t("sum_actions_range", lang, multiple=i18n.fmt_number(mult, lang, 1 if mult % 1 else 0))
                     if mult is not None else i18n.t("sum_actions_range_plain", lang))
    return out


def actions_title(metrics: dict, lang: str) -> str:
    acts = top_actions(metrics, lang)
    if not acts:
        return i18n.t("sum_actions_h", lang)
    a = acts[0]
    if a.p50 <= 0:  # nothing gains money: no "worth most" headline
        return i18n.t("sum_actions_h", lang)
    mid = a.label if a.label[:2].isupper() else a.label[:1].lower() + a.label[1:]
    return i18n.t("sum_actions_title", lang, label_mid=mid, p50=_money(a.p50, a.currency, lang))


def actions_figure(metrics: dict, lang: str):
    """Horizontal bars: P50 value per year of the top actions, with P10-P90 error bars. None without actions."""
    acts = top_actions(metrics, lang)
    if not acts:
        return None
    import plotly.graph_objects as go

    from servicechain import theme

    acts = list(reversed(acts))  # plotly draws the first category at the bottom
    cur = acts[0].currency
    x = [a.p50 for a in acts]
    plus = [(a.p90 - a.p50) if a.p90 is not None else 0.0 for a in acts]
    minus = [(a.p50 - a.p10) if a.p10 is not None else 0.0 for a in acts]
    hover = [i18n.t("sum_chart_hover", lang, label=a.label, p50=_money(a.p50, a.currency, lang),
                    p10=_money(a.p10, a.currency, lang), p90=_money(a.p90, a.currency, lang)) for a in acts]
    fig = go.Figure(go.Bar(
        x=x, y=[a.label for a in acts], orientation="h", marker_color=theme.ACCENT,
        error_x={"type": "data", "symmetric": False, "array": plus, "arrayminus": minus, "color": theme.INK,
                 "thickness": 1.5, "width": 6},
        hovertext=hover, hoverinfo="text",
    ))
    top = acts[-1]
    if top.p10 is not None and top.p10 > 0:
        title = i18n.t("sum_chart_title", lang, label=top.label, p10=_money(top.p10, top.currency, lang))
    else:
        title = i18n.t("sum_chart_title_risky", lang, label=top.label)
    fig.update_layout(
        title=title,
        xaxis_title=i18n.t("sum_chart_x", lang, currency=i18n.currency_symbol(cur, lang)),
        yaxis_title="", height=120 + 70 * len(acts), showlegend=False,
        separators=i18n.plotly_separators(lang), margin={"l": 10, "r": 30},
    )
    fig.update_yaxes(automargin=True)
    fig.update_xaxes(rangemode="tozero")
    return fig


# ------------------------------------------------------------------------------------- findings


def _ratio_phrase(r: float, lang: str, family: str) -> str:
    """A ratio of exit odds in words: ``about half as often as`` / ``26% fewer`` (family A: comparison; B: amount)."""
    if 0.42 <= r <= 0.58:
        return i18n.t(f"sum_{family}_half", lang)
    if 1.8 <= r <= 2.2:
        return i18n.t(f"sum_{family}_twice", lang)
    if r < 1:
        return i18n.t(f"sum_{family}_less", lang, pct=_pct0(1 - r, lang))
    return i18n.t(f"sum_{family}_more", lang, pct=_pct0(r - 1, lang))


def _ratio_range(lo: float, hi: float, lang: str) -> str:
    """95% CI of an odds ratio in words about exits: ``36% to 60% fewer exits``."""
    if hi < 1:
        return i18n.t("sum_rr_fewer", lang, a=_pct0(1 - hi, lang), b=_pct0(1 - lo, lang))
    if lo > 1:
        return i18n.t("sum_rr_more", lang, a=_pct0(lo - 1, lang), b=_pct0(hi - 1, lang))
    return i18n.t("sum_rr_mixed", lang, a=_pct0(1 - lo, lang), b=_pct0(hi - 1, lang))


def _signed(x: float, lang: str, decimals: int = 1) -> str:
    return i18n.fmt_signed(x, lang, decimals)


def _dir(x: float, lang: str, kind: str) -> str:
    return i18n.t(f"sum_{kind}_{'up' if x >= 0 else 'down'}", lang)


def _driver_what(driver: str, lang: str) -> str:
    key = f"sum_what_{driver}"
    return i18n.t(key, lang) if i18n.has(key) else i18n.t(driver, lang).lower()


def _suffix(lo: float, hi: float, null: float, lang: str) -> str:
    return "" if (hi < null or lo > null) else i18n.t("sum_not_clear", lang)


def _recognition_is_events(metrics: dict) -> bool:
    return _part(metrics, "retention").get("recognition_source", "events") == "events"


def retention_findings(metrics: dict, lang: str) -> list[Finding]:
    """Exit findings from the retention model's log-odds effects (odds ratios; weekly recognition vs none)."""
    ret = _part(metrics, "retention")
    eff = ret.get("effects") if isinstance(ret.get("effects"), dict) else {}
    out = []
    events = _recognition_is_events(metrics)
    for driver, d in sorted(eff.items(), key=lambda kv: (DRIVER_ORDER.get(kv[0], 99), kv[0])):
        e = _est(d)
        if e is None:
            continue
        b, lo, hi, n = e
        if driver == "recognition_per_month" and events:
            k = WEEKLY_PER_MONTH
            r, rlo, rhi = math.exp(b * k), math.exp(lo * k), math.exp(hi * k)
            text = i18n.t("sum_f_exit_recognition", lang, change=_ratio_phrase(r, lang, "A"))
        else:
            r, rlo, rhi = math.exp(b), math.exp(lo), math.exp(hi)
            text = i18n.t("sum_f_exit_driver", lang, what=_driver_what(driver, lang), change=_ratio_phrase(r, lang, "B"))
        text += f" ({_ci(_ratio_range(rlo, rhi, lang), lang)}{_suffix(rlo, rhi, 1.0, lang)})."
        out.append(Finding(f"retention.{driver}", text, r, rlo, rhi, n, rhi < 1 or rlo > 1))
    return out


def _clearest(eff: dict) -> tuple[str, tuple[float, float, float, int | None]] | None:
    """The driver whose estimate is furthest from zero relative to its CI width (ties: name)."""
    best = None
    for k, d in sorted(eff.items()):
        e = _est(d)
        if e is None or e[2] - e[1] <= 0:
            continue
        z = abs(e[0]) / (e[2] - e[1])
        if best is None or z > best[0]:
            best = (z, k, e)
    return (best[1], best[2]) if best else None


def _unit_finding(prefix: str, driver: str, e: tuple, lang: str, events: bool) -> Finding:
    """A unit-level finding (NPS points, or customers per 100 who come back)."""
    b, lo, hi, n = e
    if driver == "recognition_per_month" and events:  # per extra recognition a month (no extrapolation to weekly)
        key = f"sum_f_{prefix}_recognition"
    elif driver in ("voluntary_turnover_pct", "voluntary_turnover_rate"):
        key = f"sum_f_{prefix}_turnover"
    else:
        key = f"sum_f_{prefix}_driver"
    kind = "pts" if prefix == "nps" else "cust"
    text = i18n.t(key, lang, what=_driver_what(driver, lang), x=i18n.fmt_number(abs(b), lang, 1), dir=_dir(b, lang, kind))
    rng = i18n.t(f"sum_range_{kind}", lang, lo=_signed(lo, lang), hi=_signed(hi, lang))
    text += f" ({_ci(rng, lang)}{_suffix(lo, hi, 0.0, lang)})."
    return Finding(f"{prefix}.{driver}", text, b, lo, hi, n, hi < 0 or lo > 0)


def _touchpoint(name: str, lang: str) -> str:
    key = f"sum_tp_{name}"
    return i18n.t(key, lang) if i18n.has(key) else i18n.t("sum_tp_other", lang, name=name)


def loyalty_findings(metrics: dict, lang: str) -> list[Finding]:
    """The clearest NPS driver, the clearest customers-who-come-back driver, and the strongest moment of truth."""
    loy = _part(metrics, "loyalty")
    events = _recognition_is_events(metrics)
    out = []
    nps = loy.get("effects") if isinstance(loy.get("effects"), dict) else {}
    c = _clearest(nps)
    if c:
        out.append(_unit_finding("nps", c[0], c[1], lang, events))
    cr = loy.get("customer_retention") if isinstance(loy.get("customer_retention"), dict) else {}
    c = _clearest(cr.get("effects") if isinstance(cr.get("effects"), dict) else {})
    if c:
        out.append(_unit_finding("cr", c[0], c[1], lang, events))
    new_mot = _customer_moment(loy, lang)  # issue 16: the customer-level link, else the corrected unit-level model
    if new_mot is not None:
        out.append(new_mot)
        return out
    mot = [m for m in (loy.get("moments_of_truth") or []) if isinstance(m, dict) and _est(m) and m.get("touchpoint")]
    if mot and not isinstance(loy.get("moments_unit"), dict):  # metrics written before issue 16
        ranked = sorted(mot, key=lambda m: (-_num(m["estimate"]), str(m["touchpoint"])))
        m = ranked[0]
        b, lo, hi, n = _est(m)
        # named as *the* moment of truth only when its range excludes zero and clears the runner-up's range
        second_hi = _est(ranked[1])[2] if len(ranked) > 1 else -math.inf
        stands_out = (lo > 0 or hi < 0) and lo > second_hi
        key = "sum_f_mot" if stands_out else "sum_f_mot_none"
        tp = _touchpoint(str(m["touchpoint"]), lang)
        if not stands_out:  # mid-sentence there ("...corresponde a la gestión de reclamaciones")
            tp = tp if tp[:2].isupper() else tp[:1].lower() + tp[1:]
        text = i18n.t(key, lang, touchpoint=tp, x=i18n.fmt_number(abs(b), lang, 1), dir=_dir(b, lang, "cust"))
        rng = i18n.t("sum_range_cust", lang, lo=_signed(lo, lang), hi=_signed(hi, lang))
        text += f" ({_ci(rng, lang)}{_suffix(lo, hi, 0.0, lang)})."
        out.append(Finding(f"moments_of_truth.{m['touchpoint']}", text, b, lo, hi, n, stands_out))
    return out


def _customer_moment(loy: dict, lang: str) -> Finding | None:
    """The moments-of-truth sentence from ``moments_customer`` (customer by customer) or ``moments_unit``.

    Customer level: the touchpoint whose bad moment costs most customers (detractor vs passive, customers in 100
    coming back), named in bold only when its range excludes no difference *and* clears every other touchpoint's
    range (never a ranking of overlapping ranges); then what a good moment gains there and what the asymmetry test
    says. Unit level only (no customer ids): no sentence (the corrected estimates are too wide to name one).
    """
    mc = loy.get("moments_customer")
    tps = mc.get("touchpoints") if isinstance(mc, dict) else None
    if isinstance(tps, dict) and tps:
        rows = []
        for t, e in tps.items():
            d = _est(e.get("detractor_pp")) if isinstance(e, dict) else None
            if d:
                rows.append((t, e, d))
        if not rows:
            return None
        rows.sort(key=lambda r: (r[2][0], r[0]))  # the most negative detractor effect first
        t, e, (b, lo, hi, n) = rows[0]
        second_lo = rows[1][2][1] if len(rows) > 1 else math.inf
        clear = hi < 0
        stands_out = clear and hi < second_lo
        tp = _touchpoint(str(t), lang)
        tp_mid = tp if tp[:2].isupper() else tp[:1].lower() + tp[1:]
        if stands_out:
            text = i18n.t("sum_f_mtc", lang, touchpoint=tp_mid, x=i18n.fmt_number(abs(b), lang, 1))
        else:
            text = i18n.t("sum_f_mtc_plain", lang, touchpoint=tp_mid, x=i18n.fmt_number(abs(b), lang, 1),
                          dir=_dir(b, lang, "cust"))
        rng = i18n.t("sum_range_cust", lang, lo=_signed(lo, lang), hi=_signed(hi, lang))
        text += f" ({_ci(rng, lang)}{_suffix(lo, hi, 0.0, lang)})"
        g = _est(e.get("promoter_pp"))
        if g:
            rng2 = i18n.t("sum_range_cust", lang, lo=_signed(g[1], lang), hi=_signed(g[2], lang))
            text += i18n.t("sum_f_mtc_good", lang, y=i18n.fmt_number(abs(g[0]), lang, 1), dir2=_dir(g[0], lang, "cust"),
                           range2=rng2 + _suffix(g[1], g[2], 0.0, lang))
        text += "."
        verdict = e.get("verdict")
        if verdict in ("supported", "not_supported", "opposite"):
            text += i18n.t(f"sum_f_mtc_{verdict}", lang)
        return Finding(f"moments_of_truth.{t}", text, b, lo, hi, n, stands_out)
    # unit level only (moments_unit): the page shows the corrected, wide estimates; the summary names none of them
    return None


def _driver_name(d: Any) -> str | None:
    if isinstance(d, str):
        return d
    if isinstance(d, dict):
        for k in ("driver", "name", "label"):
            if isinstance(d.get(k), str):
                return d[k]
    return None


def _mediation_finding(ch: dict, lang: str) -> Finding | None:
    """How much of the link between employee experience and customers runs through staff turnover.

    Only stated when the total link is clear (its 95% CI excludes zero): a share of nothing means nothing."""
    med = ch.get("mediation") if isinstance(ch.get("mediation"), dict) else {}
    by_out = med.get("voluntary_turnover_pct") if isinstance(med.get("voluntary_turnover_pct"), dict) else {}
    for outcome in ("customer_retention_pct", "nps"):
        r = by_out.get(outcome)
        if not isinstance(r, dict):
            continue
        total, share = _est(r.get("total")), _est(r.get("share_mediated"))
        if total is None or share is None or total[1] <= 0 <= total[2]:
            continue
        b, lo, hi, _ = share
        n = _num(r.get("n_obs"))
        rng = i18n.t("sum_range_share", lang, lo=_pct0(lo, lang), hi=_pct0(hi, lang))
        # the sentence follows the sign of the share and whether its range includes no mediation
        key = "sum_f_mediation" if lo > 0 else ("sum_f_mediation_negative" if hi < 0 else "sum_f_mediation_unclear")
        text = i18n.t(key, lang, share=_pct0(b, lang), outcome=i18n.t(f"sum_outcome_{outcome}", lang))
        text += f" ({_ci(rng, lang)}{_suffix(lo, hi, 0.0, lang)})."
        return Finding(f"chain.mediation.{outcome}", text, b, lo, hi, int(n) if n is not None else None, hi < 0 or lo > 0)
    return None


def chain_findings(metrics: dict, lang: str) -> list[Finding]:
    """The share of the employee-customer link that runs through staff turnover (when the link is clear), and
    the driver to fix first (``priorities``: the "fix first" drivers, most important first)."""
    ch = _part(metrics, "chain")
    out = []
    m = _mediation_finding(ch, lang)
    if m is not None:
        out.append(m)
    pri = ch.get("priorities")
    fix = [n for n in (_driver_name(p) for p in pri) if n] if isinstance(pri, list) else []
    if fix:
        out.append(_priority_finding(metrics, pri, fix, lang))
    return out


def _drv(name: str, lang: str) -> str:
    key = f"sum_drv_{name}"
    return i18n.t(key, lang) if i18n.has(key) else (i18n.t(name, lang) if i18n.has(name) else name)


def _clear_effect(metrics: dict, driver: str) -> bool:
    """A driver's own estimated link excludes no effect in the helpful direction: fewer exits (hazard) or more
    NPS / customers who come back (unit models). Importance shares are descriptive and never suffice."""
    checks = [(_part(metrics, "retention").get("effects") or {}, -1),
              (_part(metrics, "loyalty").get("effects") or {}, +1),
              ((_part(metrics, "loyalty").get("customer_retention") or {}).get("effects") or {}, +1)]
    names = (driver, "recognition_per_month") if driver == "recognition" else (driver,)  # survey item vs events
    for eff, good in checks:
        for name in names:
            e = _est(eff.get(name)) if isinstance(eff, dict) else None
            if e is not None and ((good < 0 and e[2] < 0) or (good > 0 and e[1] > 0)):
                return True
    return False


def _priority_finding(metrics: dict, pri: list, fix: list[str], lang: str) -> Finding:
    """The quadrant's "fix first" drivers (descriptive importance x below-average score), which is rated lowest,
    and a driver to act on only where its own effect estimate is clear."""
    perf = {(_driver_name(p) or ""): _num(p.get("performance")) for p in pri if isinstance(p, dict)}
    rated = [d for d in fix if perf.get(d) is not None]
    lowest = min(rated, key=lambda d: perf[d]) if rated else fix[0]
    names = [_drv(d, lang) for d in fix]
    acted = [d for d in fix if _clear_effect(metrics, d)]
    words = {"drivers": i18n.join_words(names, lang), "lowest": _drv(lowest, lang),
             "mean": i18n.fmt_number(perf[lowest], lang, 1) if perf.get(lowest) is not None else "?",
             "acted": i18n.join_words([_drv(d, lang) for d in acted], lang)}
    text = i18n.t("sum_f_priority_act" if acted else "sum_f_priority_none", lang, **words)
    text = text[:1].upper() + text[1:]  # the "none" sentence opens with the drivers' names
    imp = _num(pri[0].get("importance")) if isinstance(pri[0], dict) else None
    return Finding(f"chain.priority.{acted[0] if acted else fix[0]}", text,
                   imp if imp is not None else float("nan"), float("nan"), float("nan"), None, bool(acted))


def findings(metrics: dict, lang: str) -> list[Finding]:
    return retention_findings(metrics, lang) + loyalty_findings(metrics, lang) + chain_findings(metrics, lang)


def findings_text(metrics: dict, lang: str) -> str | None:
    """The findings as a bullet list, then what a 95% confidence range means. None without findings."""
    fs = findings(metrics, lang)
    if not fs:
        return None
    return "\n".join(f"- {f.text}" for f in fs) + "\n\n" + i18n.t("sum_ci_explained", lang)


def causation_note(metrics: dict, lang: str) -> str:
    """"Association, not proof of causation", once, with why (observational data; timing helps, proves nothing)."""
    timing = i18n.t("sum_timing_snapshot" if _is_snapshot(metrics) else "sum_timing_lagged", lang)
    parts = [i18n.t("sum_causation", lang), timing]
    if top_actions(metrics, lang):
        parts.append(i18n.t("sum_causation_use", lang))
    return " ".join(parts)


@dataclass(frozen=True)
class IndexLead:
    """What the index opens with (the summary's own words): the headline finding, the top actions, one caveat."""

    finding: str  # markdown; the clearest finding, or a sentence saying none is clear
    actions: list[str] = field(default_factory=list)  # markdown, each with its P10-P90 range
    actions_heading: str = ""
    caveat: str = ""
    # page 06 (issue 15): the weakest internal link of the quarter and the share overdue for training
    notes: list[str] = field(default_factory=list)


def page06_notes(metrics: dict, lang: str) -> list[str]:
    """The internal-service headline (weakest link of the quarter) and the training-overdue share, in ``lang``,
    as page 06 saved them: in the run's locale (``es-MX`` numbers), else its base language (empty when it did not
    run)."""
    out = []
    for part in ("internal_service", "training"):
        h = _part(metrics, part).get("headline")
        text = (h.get(lang) or h.get(i18n.base(lang))) if isinstance(h, dict) else None
        if isinstance(text, str) and text.strip():
            out.append(text.strip())
    return out


def index_lead(metrics: dict, lang: str) -> IndexLead:
    """The index's lead. The finding is the first one whose CI excludes no effect (retention, loyalty, chain order);
    money lines carry the condition that the links are causal in their heading."""
    clear = [f for f in findings(metrics, lang) if f.clear]
    finding = clear[0].text if clear else i18n.t("idx_lead_none", lang)
    acts = [_action_line(a, lang) for a in top_actions(metrics, lang) if a.p50 > 0]  # a loss is not "worth most"
    return IndexLead(finding, acts, i18n.t("idx_actions_h", lang) if acts else "", i18n.t("idx_caveat", lang),
                     page06_notes(metrics, lang))


# ------------------------------------------------------------------------------------- what is missing


def missing(metrics: dict, lang: str) -> list[Missing]:
    """Each part of the summary that cannot be shown, and why."""
    snap = _is_snapshot(metrics)
    out = []
    have_findings_from = {"retention": retention_findings(metrics, lang), "loyalty": loyalty_findings(metrics, lang)}
    checks = [
        ("overview", bool(_part(metrics, "overview")) and glance(metrics, lang) != i18n.t("sum_glance_none", lang)),
        ("retention", bool(have_findings_from["retention"])),
        ("loyalty", bool(have_findings_from["loyalty"])),
        ("chain", bool(chain_findings(metrics, lang))),
        ("finance", bool(top_actions(metrics, lang))),
    ]
    for part, ok in checks:
        if ok:
            continue
        report = i18n.t(PRODUCER[part], lang)
        if snap and part not in SNAPSHOT_RESULTS:
            why = i18n.t("sum_why_snapshot", lang)
        elif part in metrics:
            why = i18n.t("sum_why_incomplete", lang, report=report)
        else:
            why = i18n.t("sum_why_not_run", lang, report=report)
        out.append(Missing(part, i18n.t(f"sum_part_{part}", lang), why))
    return out


def missing_text(metrics: dict, lang: str) -> str | None:
    ms = missing(metrics, lang)
    if not ms:
        return None
    return "\n".join(f"- **{m.what}:** {m.why}" for m in ms)


# ------------------------------------------------------------------------------------- methods appendix


def methods_text(metrics: dict, lang: str, threshold: int | None = None) -> str:
    """Models with n, out-of-time AUC, response rate, data checks and the suppression rule."""
    num = lambda x: i18n.fmt_number(x, lang)  # noqa: E731
    lines = []
    ret = _part(metrics, "retention")
    if ret:
        n = _num(ret.get("n_obs"))
        if _is_snapshot(metrics):
            line = i18n.t("sum_m_retention_snapshot", lang, n=num(n if n is not None else ret.get("n")))
        else:
            line = i18n.t("sum_m_retention", lang, n=num(n))
            extra = [i18n.t(k, lang, v=num(ret.get(f))) for k, f in
                     (("sum_m_events", "n_events"), ("sum_m_people", "n_people"), ("sum_m_units", "n_clusters"))
                     if _num(ret.get(f)) is not None]
            if extra:
                line += " (" + ", ".join(extra) + ")"
            line += "."
        auc = _num(ret.get("auc_out_of_time"))
        if auc is not None:
            line += " " + i18n.t("sum_m_auc", lang, auc=i18n.fmt_number(auc, lang, 2))
        lines.append(line)
    loy = _part(metrics, "loyalty")
    if loy:
        units = _num(loy.get("n_units"))
        line = i18n.t("sum_m_loyalty", lang, n=num(loy.get("n_obs")))
        if units is not None:
            line += " (" + i18n.t("sum_m_units", lang, v=num(units)) + ")"
        lines.append(line + ".")
    ch = _part(metrics, "chain")
    if ch:
        lines.append(i18n.t("sum_m_chain", lang))
    fin = _part(metrics, "finance")
    if fin:
        line = i18n.t("sum_m_finance", lang)
        draws = _num(fin.get("draws"))
        if draws is not None:
            line += " " + i18n.t("sum_m_draws", lang, draws=num(draws))
        if isinstance(fin.get("customer_cost"), dict):  # how a kept customer is valued (each counted once)
            line += " " + i18n.t("sum_m_customers", lang)
        lines.append(line)
    dq = _part(metrics, "data_quality")
    q = _quarter(metrics)
    rr = dq.get("response_rate") if isinstance(dq.get("response_rate"), dict) else {}
    rate = _num(rr.get(q)) if q in rr else (_num(rr[max(rr)]) if rr else None)
    rq = q if q in rr else (max(rr) if rr else "")
    if rate is not None:
        lines.append(i18n.t("sum_m_response", lang, quarter=i18n.fmt_quarter(rq, lang), rate=i18n.fmt_pct(rate, lang, 0)))
    if dq:
        tables = dq.get("tables") if isinstance(dq.get("tables"), dict) else {}
        rejected = sum(_num(v.get("rejected")) or 0 for v in tables.values() if isinstance(v, dict))
        if _num(dq.get("warnings")) is not None:
            lines.append(i18n.t("sum_m_checks", lang, warnings=num(dq.get("warnings")), rejected=num(rejected)))
        qs = dq.get("quarters") or []
        if isinstance(qs, list) and qs:
            lines.append(i18n.t("sum_m_period", lang, first=i18n.fmt_quarter(qs[0], lang), last=i18n.fmt_quarter(q or qs[-1], lang)))
    # the threshold the figures were made with; when it is not known, no number is claimed
    lines.append(i18n.t("sum_m_privacy", lang, threshold=num(threshold)) if threshold is not None
                 else i18n.t("ana_privacy_unrecorded", lang))
    return "\n".join(f"- {x}" for x in lines)


# ------------------------------------------------------------------------------------- the whole summary


def build(metrics: dict, lang: str = "en", threshold: int | None = None) -> ExecutiveSummary:
    """All sections in reading order: glance, actions, findings, how to read them, what is missing, methods."""
    i18n.check_lang(lang)
    metrics = metrics if isinstance(metrics, dict) else {}
    secs = [Section("glance", i18n.t("quarter_at_a_glance", lang), glance(metrics, lang))]
    acts = actions_text(metrics, lang)
    if acts:
        secs.append(Section("actions", actions_title(metrics, lang), acts))
    ft = findings_text(metrics, lang)
    if ft:
        secs.append(Section("findings", i18n.t("sum_findings_h", lang), ft))
    secs.append(Section("causation", i18n.t("sum_causation_h", lang), causation_note(metrics, lang)))
    mt = missing_text(metrics, lang)
    if mt:
        secs.append(Section("missing", i18n.t("sum_missing_h", lang), mt))
    secs.append(Section("methods", i18n.t("sum_methods_h", lang), methods_text(metrics, lang, threshold)))
    return ExecutiveSummary(lang, secs, actions_figure(metrics, lang), top_actions(metrics, lang),
                            findings(metrics, lang), missing(metrics, lang))


# ------------------------------------------------------------------------------------- reading the results


@dataclass(frozen=True)
class Loaded:
    """The metrics the summary reads, where they came from (``run`` | ``report`` | ``none``) and the quarter."""

    metrics: dict
    source: str
    quarter: str
    path: str = ""


def latest_report_quarter(reports_dir: Path) -> str | None:
    if not reports_dir.is_dir():
        return None
    qs = [d.name for d in reports_dir.iterdir() if d.is_dir() and _QUARTER_DIR.match(d.name) and (d / "metrics.json").is_file()]
    return max(qs) if qs else None


def load_metrics(results_dir: str | Path | None, quarter: str, reports_dir: str | Path = "reports") -> Loaded:
    """In a run: ``<results_dir>/*.json`` (what 00-04 saved). Interactively (``results_dir`` empty):
    ``<reports_dir>/<quarter>/metrics.json`` of a published run, the latest one when ``quarter`` is 'latest'.
    Unreadable files are skipped, never fatal."""
    if results_dir:
        rd = Path(results_dir)
        merged: dict[str, Any] = {}
        if rd.is_dir():
            for p in sorted(rd.glob("*.json")):
                try:
                    merged[p.stem] = json.loads(p.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    continue
        merged.pop("summary", None)
        if quarter and quarter not in ("latest", "snapshot"):
            merged.setdefault("quarter", quarter)
        return Loaded(merged, "run", quarter, str(rd))
    reports = Path(reports_dir)
    q = quarter if _QUARTER_DIR.match(str(quarter)) else latest_report_quarter(reports)
    if q:
        mp = reports / q / "metrics.json"
        try:
            m = json.loads(mp.read_text(encoding="utf-8"))
            m.setdefault("quarter", q)
            return Loaded(m, "report", q, str(mp))
        except (OSError, ValueError):
            pass
    return Loaded({}, "none", q or str(quarter))


def figures_threshold(loaded: Loaded) -> int | None:
    """The anonymity threshold the loaded figures were made with, or None when nothing records it.

    In a run (``source == "run"``) that is the run's own parameter, which the caller knows. For a
    published report: what its notebook 05 saved (``metrics["summary"]["anonymity_threshold"]``),
    else the heat map's threshold in ``metrics["chain"]``, else the report's ``manifest.json``
    parameters. Never the notebook's own ``anonymity_threshold`` parameter: it did not make them."""
    m = loaded.metrics if isinstance(loaded.metrics, dict) else {}
    for v in (_part(m, "summary").get("anonymity_threshold"),
              _part(_part(m, "chain"), "heatmap").get("threshold")):
        if isinstance(v, int) and not isinstance(v, bool):
            return v
    if loaded.path:
        try:
            man = json.loads(Path(loaded.path).with_name("manifest.json").read_text(encoding="utf-8"))
            v = man.get("parameters", {}).get("anonymity_threshold")
            if isinstance(v, int) and not isinstance(v, bool):
                return v
        except (OSError, ValueError, AttributeError):
            pass
    return None


def threshold_note(loaded: Loaded, parameter: int, lang: str) -> tuple[int | None, str]:
    """(the threshold to state, a sentence for the page or "") for notebook 05.

    A run states its own parameter. A published report states the threshold its figures were made
    with (:func:`figures_threshold`) and, when the notebook's ``anonymity_threshold`` differs, says so:
    changing the parameter does not recompute a published report's figures."""
    if loaded.source != "report":
        return parameter, ""
    made = figures_threshold(loaded)
    if made is None:
        return None, i18n.t("ana_threshold_unrecorded", lang, parameter=parameter)
    if made != parameter:
        return made, i18n.t("ana_threshold_differs", lang, made=made, parameter=parameter)
    return made, ""


def no_results_text(quarter: str, lang: str) -> str:
    q = quarter if _QUARTER_DIR.match(str(quarter)) else "latest"
    return i18n.t("sum_no_results", lang, quarter=i18n.fmt_quarter(q, lang) if q != "latest" else q, q=q)


def overview_from_data(data_dir: Path | None, quarter: str, mapping: Path | None = None) -> dict | None:
    """The overview numbers computed from the data (when no notebook saved them); None if that is impossible."""
    if data_dir is None or not _QUARTER_DIR.match(str(quarter)) or not Path(data_dir).is_dir():
        return None
    try:
        from servicechain import features, loading

        ds = loading.load(Path(data_dir), mapping)
        if getattr(ds, "kind", None) != "panel":
            return None
        ov = features.overview(ds.tables, quarter)
        return ov if len(ov) > 1 else None
    except Exception:  # noqa: BLE001 - the summary says the numbers are not available instead
        return None


def prepare(data_dir: str = "data/demo", quarter: str = "latest", lang: str = "en", anonymity_threshold: int = 5,
            seed: int = 7, mapping: str = "", assumptions: str = "", results_dir: str = "",
            reports_dir: str = "reports") -> tuple[Any, Loaded]:
    """The notebook's first call: ``nb.setup`` without loading the data, then the metrics (see :func:`load_metrics`).

    'latest' resolves to the latest published report when there is no run (interactive use), else to the
    data's latest complete quarter. The overview is computed from the data only when no notebook saved it.
    """
    from servicechain import notebook as nb

    root = nb.project_root()
    q = str(quarter)
    if q == "latest" and not results_dir:
        q = latest_report_quarter(root / reports_dir) or q
    kw = dict(data_dir=data_dir, lang=lang, anonymity_threshold=anonymity_threshold, seed=seed, mapping=mapping,
              assumptions=assumptions, results_dir=results_dir)
    try:
        ctx = nb.setup(quarter=q, load=(q == "latest"), **kw)
    except Exception:  # noqa: BLE001 - no data to resolve 'latest': the summary says what is missing
        ctx = nb.setup(quarter="", load=False, **kw)
    loaded = load_metrics(ctx.results_dir, ctx.quarter, root / reports_dir)
    if loaded.source != "none" and not _part(loaded.metrics, "overview"):
        ov = overview_from_data(ctx.data_dir, loaded.quarter, ctx.mapping)
        if ov:
            loaded.metrics["overview"] = ov
    return ctx, loaded
