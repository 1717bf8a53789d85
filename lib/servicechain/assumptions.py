"""Money assumptions: defaults with sources and ranges, user overrides, validation.

The defaults live in ``assumptions_default.yml`` (shipped with the package). A user
file passed with ``servicechain run --assumptions FILE`` (the notebooks' ``assumptions``
parameter) only needs the keys it changes::

    acquisition_cost_multiple: 8          # a bare number: default range widened to include it
    margin_share: {value: 0.42, low: 0.35, high: 0.5, source: "Finance, FY2025 accounts"}
    replacement_cost_share: {frontline: 0.3}
    scenarios:
      - name: recognition_weekly          # an existing scenario: change its cost
        programme_cost: {per_employee: 45}
      - name: coaching_light              # a new scenario
        label: {en: Light coaching, es: Coaching ligero}
        changes: {leadership: {add: 0.25}}
        programme_cost: {per_manager: 800}

Unknown keys and impossible values are :class:`AssumptionsError` (a ``UserError``)
naming the file and the key, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from servicechain import i18n
from servicechain.cli import UserError

DEFAULT_FILE = "assumptions_default.yml"
ROLES = ("frontline", "support", "manager")
SCENARIO_DRIVERS = ("recognition_per_month", "empowerment", "leadership")
LIKERT = (1.0, 5.0)
CHANGE_OPS = ("add", "at_least", "set", "unit_quantile")
COST_BASES = ("per_employee", "per_manager", "fixed")
PARAM_FIELDS = ("value", "low", "high", "stress_low", "stress_high", "source", "source_es")
SCENARIO_FIELDS = ("name", "label", "changes", "programme_cost", "includes", "enabled", "source")

# key -> (kind, can be "auto", has a range). Kinds set the allowed values (see _check_value).
PARAMS: dict[str, tuple[str, bool, bool]] = {
    "acquisition_cost_multiple": ("multiple", False, True),
    "acquisition_cost_per_customer": ("money", True, True),
    "retention_cost_per_customer_per_year": ("money", True, True),
    "retention_cost_share_of_revenue": ("share", False, True),
    "revenue_per_customer_per_year": ("money", True, True),
    "margin_share": ("margin", False, True),
    "margin_horizon_months": ("months", False, True),
    "customers_per_unit": ("count", True, False),
    "annual_salary_fallback": ("money", True, False),
    "cost_per_training": ("money", False, False),  # issue 15: the training-cadence scenario (page 06)
}
TOP_KEYS = ("currency", "draws", *PARAMS, "replacement_cost_share", "scenarios")


class AssumptionsError(UserError):
    """An assumptions file the user has to fix (names the file and the key)."""


@dataclass(frozen=True)
class Param:
    """One assumption: a value (None = "auto", derived from the data), its range and its source."""

    key: str
    value: float | None
    low: float | None = None
    high: float | None = None
    source: str = ""
    stress_low: float | None = None
    stress_high: float | None = None
    origin: str = "default"  # "default": the shipped file (an illustrative placeholder); "user": the user's file
    source_es: str = ""  # the source in Spanish; "" when a user's file gave a source without source_es

    def source_in(self, lang: str) -> str:
        """The source in ``lang``: ``source_es`` on Spanish pages when there is one, else ``source`` (English)."""
        return self.source_es if i18n.base(lang) == "es" and self.source_es else self.source

    @property
    def placeholder(self) -> bool:
        """A shipped default that the user's file has not replaced."""
        return self.origin == "default"

    @property
    def auto(self) -> bool:
        return self.value is None

    def resolved(self, value: float, low: float, high: float, note: str, note_es: str = "") -> "Param":
        """The same assumption with an auto value filled in from the data (``note``: how, in English;
        ``note_es``: the same in Spanish)."""
        src = f"{self.source} {i18n.t('d13_derived', 'en', note=note)}".strip()
        src_es = (f"{self.source_es} {i18n.t('d13_derived', 'es', note=note_es)}".strip() if self.source_es and note_es
                  else self.source_es)
        return replace(self, value=float(value), low=float(low), high=float(high), source=src, source_es=src_es)

    def to_dict(self) -> dict:
        d = {"value": self.value, "low": self.low, "high": self.high, "source": self.source, "origin": self.origin}
        if self.source_es:
            d["source_es"] = self.source_es
        if self.stress_low is not None:
            d["stress_low"], d["stress_high"] = self.stress_low, self.stress_high
        return d


@dataclass(frozen=True)
class Change:
    """A driver change in a scenario: ``add`` (raise by), ``at_least`` (raise everyone below to), ``set``, or
    ``unit_quantile`` (raise every unit below that quantile of today's unit means to it, e.g. 0.75)."""

    driver: str
    op: str
    amount: float

    def to_dict(self) -> dict:
        return {"driver": self.driver, "op": self.op, "amount": self.amount}


@dataclass(frozen=True)
class Scenario:
    name: str
    label: dict[str, str]
    changes: tuple[Change, ...]
    cost: dict[str, Param]  # per_employee, per_manager, fixed (per year)
    includes: tuple[str, ...] = ()
    source: str = ""

    def label_in(self, lang: str) -> str:
        return self.label.get(i18n.base(lang)) or self.label.get("en") or self.name

    def to_dict(self) -> dict:
        return {"name": self.name, "label": self.label, "changes": [c.to_dict() for c in self.changes],
                "programme_cost": {k: v.to_dict() for k, v in self.cost.items()}, "includes": list(self.includes)}


@dataclass
class Assumptions:
    """The effective assumptions of a run (defaults + the user's file)."""

    currency: str
    draws: int
    params: dict[str, Param]
    replacement_share: dict[str, Param]
    scenarios: list[Scenario]
    files: list[str] = field(default_factory=list)
    given: frozenset[str] = frozenset()  # keys given a value (not auto) by a file, before resolve() derives the rest

    def __getitem__(self, key: str) -> Param:
        return self.params[key]

    def value(self, key: str) -> float:
        v = self.params[key].value
        if v is None:
            raise ValueError(f"assumption {key} is still 'auto': resolve it with the data first")
        return v

    def scenario(self, name: str) -> Scenario:
        for s in self.scenarios:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def customer_cost_given(self) -> str:
        """Which customer cost the user stated: ``acquisition``, ``retention``, or ``revenue_share`` (neither:
        retention cost = retention_cost_share_of_revenue x revenue). The other follows from
        acquisition = multiple x retention (see :func:`servicechain.finance.resolve`)."""
        if "acquisition_cost_per_customer" in self.given:
            return "acquisition"
        if "retention_cost_per_customer_per_year" in self.given:
            return "retention"
        return "revenue_share"

    def missing_source_es(self) -> list[str]:
        """Keys whose source has no Spanish text (``source_es``): a Spanish money page shows their English
        ``source``; ``servicechain run --lang es`` warns about them. Empty for the shipped defaults."""
        out = [k for k, p in self.params.items() if p.source and not p.source_es]
        out += [f"replacement_cost_share.{r}" for r, p in self.replacement_share.items() if p.source and not p.source_es]
        out += [f"scenarios.{s.name}.programme_cost.{b}" for s in self.scenarios for b, p in s.cost.items()
                if p.value and p.source and not p.source_es]
        return out

    def with_params(self, **params: Param) -> "Assumptions":
        return replace(self, params={**self.params, **params})

    def to_dict(self) -> dict:
        return {
            "currency": self.currency, "draws": self.draws,
            **{k: p.to_dict() for k, p in self.params.items()},
            "replacement_cost_share": {r: p.to_dict() for r, p in self.replacement_share.items()},
            "scenarios": [s.to_dict() for s in self.scenarios],
        }


# ------------------------------------------------------------------------------------------ reading


def _read_yaml(path: Path | None, text: str | None = None) -> dict:
    name = str(path) if path is not None else DEFAULT_FILE
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise AssumptionsError(f"assumptions file {name} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise AssumptionsError(f"assumptions file {name} cannot be read: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise AssumptionsError(f"assumptions file {name}: not valid YAML{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise AssumptionsError(f"assumptions file {name}: the top level must be a mapping of keys "
                               f"({', '.join(TOP_KEYS)}), not a {type(data).__name__}")
    return data


def _default_text() -> str:
    return resources.files("servicechain").joinpath(DEFAULT_FILE).read_text(encoding="utf-8")


_FRACTION = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)\s*$")


class _Reader:
    """Validation with messages that name the file and the key path."""

    def __init__(self, file: str):
        self.file = file

    def fail(self, key: str, problem: str) -> None:
        raise AssumptionsError(f"assumptions file {self.file}: key '{key}': {problem}")

    def number(self, key: str, v: Any, allow_auto: bool = False) -> float | None:
        if allow_auto and isinstance(v, str) and v.strip().lower() == "auto":
            return None
        if isinstance(v, bool):
            self.fail(key, f"expected a number, got {v!r}")
        if isinstance(v, str):
            m = _FRACTION.match(v)
            if m and float(m.group(2)) != 0:
                return float(m.group(1)) / float(m.group(2))
            self.fail(key, f"expected a number{' or auto' if allow_auto else ''}, got {v!r}")
        if not isinstance(v, (int, float)) or not math.isfinite(float(v)):
            self.fail(key, f"expected a number{' or auto' if allow_auto else ''}, got {v!r}")
        return float(v)

    def check_value(self, key: str, kind: str, v: float | None) -> None:
        if v is None:
            return
        if kind == "multiple" and v < 1:
            self.fail(key, f"must be at least 1 (acquiring a customer costs at least as much as keeping one), got {v:g}")
        if kind in ("money", "count") and v < 0:
            self.fail(key, f"cannot be negative, got {v:g}")
        if kind == "share" and not 0 <= v <= 10:
            self.fail(key, f"a share must be between 0 and 10 (0% to 1000%), got {v:g}")
        if kind == "margin" and not 0 <= v <= 1:
            self.fail(key, f"a margin share must be between 0 and 1, got {v:g}")
        if kind == "months" and not 0 <= v <= 120:
            self.fail(key, f"must be between 0 and 120 months, got {v:g}")

    def mapping(self, key: str, v: Any, allowed: tuple[str, ...]) -> dict:
        if not isinstance(v, dict):
            self.fail(key, f"expected a mapping with keys {', '.join(allowed)}, got {type(v).__name__}")
        for k in v:
            if k not in allowed:
                self.fail(f"{key}.{k}", f"unknown key (allowed here: {', '.join(allowed)})")
        return v

    def param(self, key: str, raw: Any, kind: str, allow_auto: bool, default: Param | None) -> Param:
        """A user's value (bare number or mapping) over the default ``Param``."""
        mine = i18n.t("d13_your_file", "en", file=Path(self.file).name)
        if not isinstance(raw, dict):
            raw = {"value": raw}
        self.mapping(key, raw, PARAM_FIELDS)
        texts = ("source", "source_es")
        got = {f: (self.number(key if f == "value" else f"{key}.{f}", raw[f], allow_auto) if f not in texts else str(raw[f]))
               for f in raw}
        for f in texts:
            if f in got and not got[f].strip():
                self.fail(f"{key}.{f}", "is empty: say where the number comes from")
        for f in ("value", "low", "high", "stress_low", "stress_high"):
            if f in got:
                self.check_value(f"{key}.{f}" if f != "value" else key, kind, got[f])
        base = default or Param(key, None)
        value = got.get("value", base.value)
        if "value" in raw and value is None and not allow_auto:
            self.fail(key, "cannot be auto")
        low = got.get("low", base.low if "value" not in raw or value is None or base.low is None else min(base.low, value))
        high = got.get("high", base.high if "value" not in raw or value is None or base.high is None else max(base.high, value))
        if "value" in raw and value is None and "low" not in raw:
            low, high = None, None  # auto again: the range comes from the data
        numbers = raw.keys() - {"source", "source_es"}
        source = got.get("source", mine if numbers else base.source)
        if "source" in got:  # the user's own words: Spanish only if the file gives it (else a warning, see missing_source_es)
            source_es = got.get("source_es", "")
        else:
            source_es = got.get("source_es", i18n.t("d13_your_file", "es", file=Path(self.file).name) if numbers
                                else base.source_es)
        origin = ("default" if self.file == DEFAULT_FILE else "user") if numbers else base.origin
        p = Param(key, value, low, high, source, got.get("stress_low", base.stress_low),
                  got.get("stress_high", base.stress_high), origin, source_es)
        if p.value is not None and p.low is not None and p.high is not None and not p.low <= p.value <= p.high:
            self.fail(key, f"value {p.value:g} is outside its range {p.low:g}..{p.high:g}")
        if p.stress_low is not None and p.stress_high is not None and p.stress_low > p.stress_high:
            self.fail(f"{key}.stress_low", "is above stress_high")
        return p

    def changes(self, key: str, raw: Any) -> tuple[Change, ...]:
        self.mapping(key, raw, SCENARIO_DRIVERS)
        out = []
        for driver, spec in raw.items():
            k = f"{key}.{driver}"
            if not isinstance(spec, dict) or len(spec) != 1:
                self.fail(k, f"expected one of {', '.join(CHANGE_OPS)} with a number, e.g. {{add: 0.5}}")
            self.mapping(k, spec, CHANGE_OPS)
            (op, amount), = spec.items()
            a = self.number(f"{k}.{op}", amount)
            if op == "unit_quantile":
                if not 0 < a <= 1:
                    self.fail(f"{k}.{op}", f"a quantile of today's unit means, between 0 and 1 (0.75 = top quartile), got {a:g}")
            elif driver == "recognition_per_month":
                if op != "add" and a < 0:
                    self.fail(f"{k}.{op}", f"recognitions per month cannot be negative, got {a:g}")
            elif op == "add" and abs(a) > LIKERT[1] - LIKERT[0]:
                self.fail(f"{k}.{op}", f"a change of {a:g} points does not fit the 1-5 scale")
            elif op != "add" and not LIKERT[0] <= a <= LIKERT[1]:
                self.fail(f"{k}.{op}", f"must be on the 1-5 scale, got {a:g}")
            out.append(Change(driver, op, a))
        return tuple(out)

    def label(self, key: str, raw: Any, name: str) -> dict[str, str]:
        if raw is None:
            return {"en": name, "es": name}
        if isinstance(raw, str):
            return {"en": raw, "es": raw}
        self.mapping(key, raw, ("en", "es"))
        lab = {k: str(v) for k, v in raw.items()}
        lab.setdefault("en", lab.get("es", name))
        lab.setdefault("es", lab["en"])
        return lab

    def cost(self, key: str, raw: Any, default: dict[str, Param] | None) -> dict[str, Param]:
        base = dict(default or {})
        if raw is not None:
            self.mapping(key, raw, COST_BASES)
            for b, v in raw.items():
                base[b] = self.param(f"{key}.{b}", v, "money", False, base.get(b))
        for b in COST_BASES:
            base.setdefault(b, Param(f"{key}.{b}", 0.0, 0.0, 0.0, i18n.t("d13_no_source", "en"),
                                     source_es=i18n.t("d13_no_source", "es")))
        return {b: base[b] for b in COST_BASES}


def _scenarios(rd: _Reader, raw: Any, defaults: list[Scenario]) -> list[Scenario]:
    if not isinstance(raw, list):
        rd.fail("scenarios", "expected a list of scenarios (each with name, label, changes, programme_cost)")
    by_name = {s.name: s for s in defaults}
    order = [s.name for s in defaults]
    for i, item in enumerate(raw):
        key = f"scenarios[{i}]"
        rd.mapping(key, item, SCENARIO_FIELDS)
        name = item.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            rd.fail(f"{key}.name", f"a scenario needs a name of lowercase letters, digits and _, got {name!r}")
        key = f"scenarios.{name}"
        if item.get("enabled", True) is False:
            by_name.pop(name, None)
            continue
        old = by_name.get(name)
        if old is None and "changes" not in item and "includes" not in item:
            rd.fail(key, "a new scenario needs changes (or includes)")
        changes = rd.changes(f"{key}.changes", item["changes"]) if "changes" in item else (old.changes if old else ())
        includes = item.get("includes", list(old.includes) if old else [])
        if not isinstance(includes, list) or not all(isinstance(x, str) for x in includes):
            rd.fail(f"{key}.includes", "expected a list of scenario names")
        src = str(item["source"]) if "source" in item else (old.source if old else f"your assumptions file {Path(rd.file).name}")
        by_name[name] = Scenario(
            name, rd.label(f"{key}.label", item["label"], name) if "label" in item else (old.label if old else rd.label(key, None, name)),
            changes, rd.cost(f"{key}.programme_cost", item.get("programme_cost"), old.cost if old else None),
            tuple(includes), src,
        )
        if name not in order:
            order.append(name)
    out = [by_name[n] for n in order if n in by_name]
    names = {s.name for s in out}
    for s in out:
        for inc in s.includes:
            if inc not in names or inc == s.name:
                rd.fail(f"scenarios.{s.name}.includes", f"unknown scenario {inc!r} (known: {', '.join(sorted(names - {s.name}))})")
    return out


def _apply(rd: _Reader, data: dict, base: Assumptions | None) -> Assumptions:
    for k in data:
        if k not in TOP_KEYS:
            rd.fail(str(k), f"unknown key (known keys: {', '.join(TOP_KEYS)})")
    currency = base.currency if base else "EUR"
    if "currency" in data:
        c = data["currency"]
        if not isinstance(c, str) or not re.fullmatch(r"[A-Za-z]{3}", c.strip()):
            rd.fail("currency", f"expected a three-letter currency code such as EUR or USD, got {c!r}")
        elif not i18n.is_currency(c):
            rd.fail("currency", f"unknown currency code {c!r}: expected an ISO 4217 code such as EUR, USD, GBP, MXN, "
                                "PEN, ARS, COP or CLP")
        currency = c.strip().upper()
    draws = base.draws if base else 2000
    if "draws" in data:
        d = data["draws"]
        if isinstance(d, bool) or not isinstance(d, int) or not 1000 <= d <= 100_000:
            rd.fail("draws", f"expected a whole number between 1000 and 100000, got {d!r}")
        draws = int(d)
    params = dict(base.params) if base else {}
    for key, (kind, auto, _) in PARAMS.items():
        if key in data:
            params[key] = rd.param(key, data[key], kind, auto, params.get(key))
        elif key not in params:
            rd.fail(key, "missing from the defaults")
    shares = dict(base.replacement_share) if base else {}
    if "replacement_cost_share" in data:
        raw = rd.mapping("replacement_cost_share", data["replacement_cost_share"], ROLES)
        for role, v in raw.items():
            shares[role] = rd.param(f"replacement_cost_share.{role}", v, "share", False, shares.get(role))
    scenarios = _scenarios(rd, data["scenarios"], base.scenarios if base else []) if "scenarios" in data else (
        list(base.scenarios) if base else [])
    files = [*(base.files if base else []), rd.file]
    given = frozenset(k for k in ("acquisition_cost_per_customer", "retention_cost_per_customer_per_year")
                      if params[k].value is not None)
    if len(given) == 2:
        rd.fail("acquisition_cost_per_customer", "give the acquisition cost per customer or "
                "retention_cost_per_customer_per_year, not both: the other follows from acquisition = "
                "acquisition_cost_multiple x retention")
    return Assumptions(currency, draws, params, shares, scenarios, files, given)


def defaults() -> Assumptions:
    """The shipped defaults (``assumptions_default.yml``)."""
    rd = _Reader(DEFAULT_FILE)
    a = _apply(rd, _read_yaml(None, _default_text()), None)
    missing = [r for r in ROLES if r not in a.replacement_share]
    if missing:
        raise AssumptionsError(f"{DEFAULT_FILE}: replacement_cost_share lacks {missing}")
    return a


def load(path: str | Path | None = None) -> Assumptions:
    """Defaults overridden by ``path`` (``None``/``""``: the defaults)."""
    a = defaults()
    if path is None or str(path) == "":
        return a
    p = Path(path)
    return _apply(_Reader(str(p)), _read_yaml(p), a)


def from_text(text: str, name: str = "assumptions.yml") -> Assumptions:
    """Defaults overridden by YAML text (tests, notebooks)."""
    return _apply(_Reader(name), _read_yaml(Path(name), text), defaults())


def source_es_warning(a: Assumptions, file: str) -> str | None:
    """The warning for a Spanish run whose assumptions file gives sources without ``source_es:`` (the money page
    then shows them in English), naming every key and the line to add; None when nothing is missing."""
    keys = a.missing_source_es()
    if not keys:
        return None
    return (f"{file}: {len(keys)} source(s) have no Spanish text, so the Spanish money page shows them in English: "
            f"{', '.join(keys)}; add a line 'source_es: <the source in Spanish>' next to each 'source:'")
