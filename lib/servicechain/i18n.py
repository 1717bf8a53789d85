"""Words and number formats in English and Spanish.

Every word a reader sees on ``index.html``, in a table header or on an axis goes
through :func:`t`; every number through :func:`fmt_number`, :func:`fmt_pct`,
:func:`fmt_money` or :func:`fmt_date`. The words live in one catalog per language,
``catalogs/en.yml`` and ``catalogs/es.yml`` (YAML: keyed like ``t``'s keys, readable and
editable by a translator without tools, one key per line so a diff shows one changed
wording; gettext would key by the English sentence and need a compile step). Both
catalogs must have the same keys (``tests/test_i18n.py`` checks it).

>>> fmt_number(1234.5, "es", 1), fmt_number(1234.5, "en", 1)
('1.234,5', '1,234.5')
"""

from __future__ import annotations

import datetime as dt
import math
from importlib import resources
from typing import Any

import yaml

LANGS = ("en", "es")
MISSING = "–"  # en dash for a missing value
NBSP = "\u00a0"


def _load_catalog(lang: str) -> dict[str, str]:
    """One language's words from ``catalogs/<lang>.yml``; a key written twice is an error, not a silent overwrite."""

    class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        pass

    def _mapping(loader: Any, node: Any) -> dict[str, str]:
        seen: dict[str, str] = {}
        for k_node, v_node in node.value:
            key = loader.construct_object(k_node)
            if key in seen:
                raise ValueError(f"catalogs/{lang}.yml: the key {key!r} is written twice (line {k_node.start_mark.line + 1})")
            seen[key] = loader.construct_object(v_node)
        return seen

    _Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
    text = resources.files("servicechain").joinpath("catalogs", f"{lang}.yml").read_text(encoding="utf-8")
    words = yaml.load(text, Loader=_Loader) or {}
    bad = [k for k, v in words.items() if not isinstance(v, str)]
    if bad:
        raise ValueError(f"catalogs/{lang}.yml: these keys do not hold text: {', '.join(map(str, bad[:5]))}")
    return words


# The word catalogs, one YAML file per language (lib/servicechain/catalogs/): keyed as i18n.t's keys.
WORDS: dict[str, dict[str, str]] = {lang: _load_catalog(lang) for lang in LANGS}

MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
           "septiembre", "octubre", "noviembre", "diciembre"),
}

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF", "MXN": "MX$"}


def as_number(v: Any) -> float | None:
    """A finite float, or None for missing, boolean, non-numeric or non-finite values (metrics read back from JSON)."""
    if isinstance(v, bool) or v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"language must be one of {', '.join(LANGS)}, got {lang!r}")
    return lang


def t(key: str, lang: str = "en", **values: Any) -> str:
    """The word for ``key`` in ``lang``; unknown keys fall back to English, then to the key.

    ``values`` fill ``{placeholders}``: ``t("privacy_note", "es", threshold=5)``.
    """
    words = WORDS.get(lang, WORDS["en"])
    s = words.get(key)
    if s is None:
        s = WORDS["en"].get(key, key)
    return s.format(**values) if values else s


def has(key: str) -> bool:
    return key in WORDS["en"]


def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return not math.isfinite(float(x))
    except (TypeError, ValueError):
        return True


def fmt_number(x: Any, lang: str = "en", decimals: int = 0) -> str:
    """``1234.5`` -> ``1,234.5`` (en) / ``1.234,5`` (es). Missing values -> an en dash."""
    if _missing(x):
        return MISSING
    s = f"{float(x):,.{decimals}f}"
    if s.startswith("-") and float(s.replace(",", "")) == 0:
        s = s[1:]  # no "-0.0"
    if lang == "es":
        s = s.translate(str.maketrans({",": ".", ".": ","}))
    return s.replace("-", "−") if s.startswith("-") else s


def fmt_pct(x: Any, lang: str = "en", decimals: int = 1) -> str:
    """A fraction as a percentage: ``0.123`` -> ``12.3%`` (en) / ``12,3 %`` (es)."""
    if _missing(x):
        return MISSING
    n = fmt_number(float(x) * 100, lang, decimals)
    return f"{n}{NBSP}%" if lang == "es" else f"{n}%"


def fmt_points(x: Any, lang: str = "en", decimals: int = 1, signed: bool = True) -> str:
    """A change of a fraction in percentage points: ``0.012`` -> ``+1.2 pp`` / ``+1,2 p. p.``."""
    if _missing(x):
        return MISSING
    v = float(x) * 100
    s = fmt_number(abs(v), lang, decimals)
    sign = ("+" if v > 0 else "−" if v < 0 and s.strip("0,.") else "") if signed else ("−" if v < 0 else "")
    return f"{sign}{s}{NBSP}{t('points', lang)}"


def fmt_signed(x: Any, lang: str = "en", decimals: int = 0) -> str:
    """``+1,234`` / ``−56``: a change in the unit of the value."""
    if _missing(x):
        return MISSING
    v = float(x)
    s = fmt_number(abs(v), lang, decimals)
    sign = "+" if v > 0 and s.strip("0,.") else "−" if v < 0 and s.strip("0,.") else ""
    return f"{sign}{s}"


def fmt_money(x: Any, currency: str = "EUR", lang: str = "en", decimals: int = 0, compact: bool = False) -> str:
    """``1234567`` -> ``€1,234,567`` (en) / ``1.234.567 €`` (es).

    ``compact=True`` -> ``€1.2M`` / ``1,2 M€`` (thousands: ``k``).
    """
    if _missing(x):
        return MISSING
    v = float(x)
    sym = CURRENCY_SYMBOLS.get(currency.upper(), currency.upper()) if currency else ""
    suffix = ""
    if compact:
        a = abs(v)
        if a >= 1e9:
            v, suffix, decimals = v / 1e9, ("bn" if lang == "en" else "mil M"), 1
        elif a >= 1e6:
            v, suffix, decimals = v / 1e6, "M", 1
        elif a >= 1e4:
            v, suffix, decimals = v / 1e3, "k", 0
    n = fmt_number(abs(v), lang, decimals)
    neg = "−" if v < 0 and n.strip("0,.") else ""
    if lang == "es":
        unit = f"{suffix}{sym}" if suffix and len(sym) == 1 else (f"{suffix}{NBSP}{sym}" if suffix else sym)
        return f"{neg}{n}{NBSP}{unit}".rstrip()
    if len(sym) == 1 or sym.endswith("$"):
        return f"{neg}{sym}{n}{suffix}"
    return f"{neg}{sym}{NBSP}{n}{suffix}".strip()


def _as_date(d: Any) -> dt.date:
    if isinstance(d, dt.datetime):
        return d.date()
    if isinstance(d, dt.date):
        return d
    return dt.date.fromisoformat(str(d)[:10])


def fmt_date(d: Any, lang: str = "en") -> str:
    """``2026-09-03`` -> ``3 September 2026`` (en) / ``3 de septiembre de 2026`` (es)."""
    if d is None:
        return MISSING
    d = _as_date(d)
    month = MONTHS.get(lang, MONTHS["en"])[d.month - 1]
    if lang == "es":
        return f"{d.day} de {month} de {d.year}"
    return f"{d.day} {month} {d.year}"


def join_words(words: list[str], lang: str = "en") -> str:
    """``["a", "b", "c"]`` -> ``"a, b and c"`` in ``lang``."""
    if not words:
        return ""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" {t('chain_and', lang)} " + words[-1]


def fmt_quarter(q: str, lang: str = "en") -> str:
    """``2026Q3`` -> ``Q3 2026`` (en) / ``T3 2026`` (es, trimestre)."""
    q = str(q)
    if len(q) == 6 and q[4] == "Q":
        return f"{'T' if lang == 'es' else 'Q'}{q[5]} {q[:4]}"
    return q


def fmt_value(x: Any, kind: str, lang: str = "en", currency: str = "EUR") -> str:
    """Dispatch by kind: ``int``, ``num1``, ``num2``, ``pct``, ``pct0``, ``pct1``, ``money``,
    ``money_compact``, ``date``, ``quarter``, ``points``."""
    if kind in ("int", "num", "num0"):
        return fmt_number(x, lang, 0)
    if kind.startswith("num") and kind[3:].isdigit():
        return fmt_number(x, lang, int(kind[3:]))
    if kind == "pct":
        return fmt_pct(x, lang, 1)
    if kind.startswith("pct") and kind[3:].isdigit():
        return fmt_pct(x, lang, int(kind[3:]))
    if kind == "money":
        return fmt_money(x, currency, lang)
    if kind == "money_compact":
        return fmt_money(x, currency, lang, compact=True)
    if kind == "date":
        return fmt_date(x, lang)
    if kind == "quarter":
        return fmt_quarter(x, lang)
    if kind == "points":
        return fmt_points(x, lang)
    raise ValueError(f"unknown number format {kind!r}")

