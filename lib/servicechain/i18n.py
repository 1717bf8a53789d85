"""Words and number formats in English and Spanish, for the locales of :data:`LOCALES`.

Every word a reader sees on ``index.html``, in a table header or on an axis goes
through :func:`t`; every number through :func:`fmt_number`, :func:`fmt_pct`,
:func:`fmt_money` or :func:`fmt_date`. The words live in one catalog per language,
``catalogs/en.yml`` and ``catalogs/es.yml`` (YAML: keyed like ``t``'s keys, readable and
editable by a translator without tools, one key per line so a diff shows one changed
wording; gettext would key by the English sentence and need a compile step). Both
catalogs must have the same keys (``tests/test_i18n.py`` checks it).

A report's ``lang`` is a locale (``es``, ``es-MX``, ``es-PE``, ``en-GB``...): its words come from
the catalog of its base language (:func:`base`), its numbers, percentages, money and dates from
CLDR through Babel (separators, currency symbol and position, month names).

>>> fmt_number(1234.5, "es", 1), fmt_number(1234.5, "es-MX", 1), fmt_number(1234.5, "en", 1)
('1.234,5', '1,234.5', '1,234.5')
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import re
import unicodedata
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers

LANGS = ("en", "es")  # the base languages: one word catalog each
# The locales a report can be written in (``--lang``): words from the base language's catalog, formats from
# CLDR. ``es`` writes numbers as in Spain (es-ES), ``en`` as in the United Kingdom (en-GB; the project's
# English is British: "organisation", "3 September 2026").
LOCALES = ("es", "es-ES", "es-MX", "es-PE", "es-AR", "es-CO", "en", "en-US", "en-GB")
_CLDR = {"es": "es_ES", "en": "en_GB"}  # the CLDR locale of a bare base language
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

MINUS = "\u2212"  # a negative number's sign on our pages (CLDR's es/en write "-"; this one is as wide as "+")
COMPACT_FROM = 10_000  # compact money below this is written in full ("€1,234", not "€1K")
# Compact thousands: CLDR writes "96 mil €" (es-ES) and "€96K" (en-GB); the pages of these two locales keep the
# "k" business writing in Spain and the UK uses ("96 k€", "€96k"). Every other locale is CLDR's own.
_HOUSE_THOUSANDS = {"es_ES": ("0\u00a0k¤", "00\u00a0k¤", "000\u00a0k¤"), "en_GB": ("¤0k", "¤00k", "¤000k")}


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
    """``lang`` as one of :data:`LOCALES` (``"es_mx"`` and ``"ES-MX"`` -> ``"es-MX"``), or a ValueError that lists them."""
    if isinstance(lang, str):
        parts = lang.strip().replace("_", "-").split("-")
        norm = parts[0].lower() + "".join(f"-{x.upper()}" for x in parts[1:])
        if norm in LOCALES:
            return norm
    raise ValueError(f"unknown language/locale {lang!r}: choose one of {', '.join(LOCALES)}")


def base(lang: str) -> str:
    """The base language of a locale, whose word catalog it uses: ``"es-MX"`` -> ``"es"``, ``"en-GB"`` -> ``"en"``.

    Compare languages with it (``base(lang) == "es"``), never ``lang == "es"``, which is false for ``es-MX``.
    An unknown or empty value is English, as :func:`t` falls back to English."""
    b = str(lang or "").strip().replace("_", "-").split("-")[0].lower()
    return b if b in LANGS else "en"


@lru_cache(maxsize=None)
def babel_locale(lang: str) -> Locale:
    """The Babel (CLDR) locale that formats numbers and dates for ``lang`` (``es`` -> es_ES, ``en`` -> en_GB)."""
    loc = check_lang(lang)
    return Locale.parse(_CLDR.get(loc, loc.replace("-", "_")))


def decimal_symbol(lang: str) -> str:
    """The locale's decimal mark: ``,`` in es-ES and es-AR, ``.`` in es-MX, es-PE and English."""
    return babel_numbers.get_decimal_symbol(babel_locale(lang))


def group_symbol(lang: str) -> str:
    """The locale's thousands separator: ``.`` in es-ES and es-AR, ``,`` in es-MX, es-PE and English."""
    return babel_numbers.get_group_symbol(babel_locale(lang))


def plotly_separators(lang: str) -> str:
    """Plotly's ``layout.separators`` for ``lang``: the decimal mark then the thousands separator
    (``",."`` for es-ES, ``".,"`` for es-MX and English), so axes and hovers write numbers as the text does."""
    return decimal_symbol(lang) + group_symbol(lang)


def plotly_locale(lang: str) -> str | None:
    """The plotly.js locale of the page's toolbar tooltips and date axes (``"es"``; English is plotly's default: None)."""
    return "es" if base(lang) == "es" else None


def is_currency(code: Any) -> bool:
    """Whether ``code`` is an ISO 4217 currency code CLDR knows (``PEN``, ``mxn``; not ``XYZ``)."""
    return isinstance(code, str) and babel_numbers.is_currency(code.strip().upper())


def check_currency(code: str) -> str:
    """``code`` upper-cased if it is an ISO 4217 currency code, else a ValueError that says what is expected."""
    if not is_currency(code):
        raise ValueError(f"unknown currency code {code!r}: expected an ISO 4217 code such as EUR, USD, GBP, MXN, "
                         "PEN, ARS, COP or CLP")
    return code.strip().upper()


def currency_symbol(code: str, lang: str = "en") -> str:
    """The symbol ``lang`` writes for a currency: EUR -> ``€``; PEN -> ``S/`` in es-PE, ``PEN`` in es-ES;
    MXN -> ``$`` in es-MX, ``MX$`` in English; USD -> ``$`` in en-US, ``US$`` in en-GB and es-ES."""
    return babel_numbers.get_currency_symbol(check_currency(code), babel_locale(lang))


def t(key: str, lang: str = "en", **values: Any) -> str:
    """The word for ``key`` in ``lang``; unknown keys fall back to English, then to the key.

    ``values`` fill ``{placeholders}``: ``t("privacy_note", "es", threshold=5)``. A percentage written in the
    catalog's words ("IC 95 %", as Spain writes it) is written as the locale writes one ("IC 95%" in es-MX).
    """
    words = WORDS[base(lang)]
    s = words.get(key)
    if s is None:
        s = WORDS["en"].get(key, key)
    if "%" in s and lang in LOCALES and base(lang) == "es" and percent_suffix(lang) == "%":
        s = _SPACED_PCT.sub(r"\1%", s)
    return s.format(**values) if values else s


_SPACED_PCT = re.compile("(\\d)[ \u00a0]%")  # "95 %" in a catalog's words


def has(key: str) -> bool:
    return key in WORDS["en"]


def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return not math.isfinite(float(x))
    except (TypeError, ValueError):
        return True


def _rounded(v: float, decimals: int) -> Decimal:
    """``|v|`` rounded to ``decimals`` places as Python rounds a float (``f"{v:.2f}"``), as an exact Decimal."""
    return Decimal(f"{abs(v):.{decimals}f}")


def _with_decimals(pattern: Any, decimals: int) -> Any:
    """A copy of a CLDR number pattern that writes exactly ``decimals`` fraction digits."""
    p = copy.copy(pattern)
    p.frac_prec = (decimals, decimals)
    return p


def _sign(v: float, r: Decimal, s: str) -> str:
    """``s`` (the formatted ``|v|``) with a minus sign when ``v`` is negative and did not round to zero (no "−0.0")."""
    return f"{MINUS}{s}" if v < 0 and r != 0 else s


def fmt_number(x: Any, lang: str = "en", decimals: int = 0) -> str:
    """``1234.5`` -> ``1,234.5`` (en, es-MX, es-PE) / ``1.234,5`` (es, es-AR, es-CO), the locale's CLDR
    separators. Missing values -> an en dash."""
    if _missing(x):
        return MISSING
    loc, v = babel_locale(lang), float(x)
    r = _rounded(v, decimals)
    return _sign(v, r, _with_decimals(loc.decimal_formats[None], decimals).apply(r, loc))


def fmt_pct(x: Any, lang: str = "en", decimals: int = 1) -> str:
    """A fraction as a percentage, as the locale writes it: ``0.123`` -> ``12.3%`` (en, es-MX) /
    ``12,3 %`` (es-ES, a no-break space) / ``12,3%`` (es-AR)."""
    if _missing(x):
        return MISSING
    loc, v = babel_locale(lang), float(x)
    r = _rounded(v * 100, decimals)
    return _sign(v, r, _with_decimals(loc.percent_formats[None], decimals).apply(r / 100, loc))


@lru_cache(maxsize=None)
def percent_suffix(lang: str = "en") -> str:
    """What the locale writes after a percentage's digits: ``" %"`` (es-ES, a no-break space) or ``"%"``."""
    return fmt_pct(0, lang, 0)[1:]


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


def _is_symbol_char(c: str) -> bool:
    return unicodedata.category(c)[0] in "SZ"


def _currency_spacing(s: str, symbol: str) -> str:
    """CLDR's currency spacing (Babel leaves it out): a symbol whose character next to the digits is not itself a
    symbol gets a no-break space from them: ``PEN 1,234``, ``CHF 100``, ``S/ 96 K``; ``US$1,234``, ``1.234 €`` stay.
    The same between a code and a compact unit's letter: ``2,4 M PEN``, ``2,4 M US$`` (not ``MPEN``); ``2,4 M€`` stays."""
    i = s.find(symbol) if symbol else -1
    if i < 0:
        return s
    j = i + len(symbol)
    if j < len(s) and s[j].isalnum() and not _is_symbol_char(symbol[-1]):
        return s[:j] + NBSP + s[j:]
    if i > 0 and s[i - 1].isalnum() and not _is_symbol_char(symbol[0]):
        return s[:i] + NBSP + s[i:]
    return s


def _compact_pattern(loc: Locale, a: float, with_currency: bool) -> tuple[Any, int]:
    """The CLDR compact pattern for an amount ``a >= 1000`` (``0 M¤``, ``¤0K``...) and what to divide ``a`` by."""
    table = (loc.compact_currency_formats if with_currency else loc.compact_decimal_formats)["short"]
    mags = sorted((int(m) for m in table["other"]), reverse=True)
    mag = next(m for m in mags if a >= m)
    pattern = table["other"][str(mag)]
    house = _HOUSE_THOUSANDS.get(str(loc)) if with_currency and mag < 1_000_000 else None
    if house:
        pattern = babel_numbers.parse_pattern(house[len(str(mag)) - 4])
    zeros = str(pattern.pattern).count("0")
    return pattern, mag // 10 ** (zeros - 1)


def fmt_money(x: Any, currency: str = "EUR", lang: str = "en", decimals: int = 0, compact: bool = False) -> str:
    """Money as the locale writes it (CLDR: symbol, its position and spacing, separators):
    ``1234567`` EUR -> ``€1,234,567`` (en) / ``1.234.567 €`` (es); PEN in es-PE -> ``S/ 1,234,567``;
    MXN in es-MX -> ``$1,234,567``; ARS in es-AR -> ``$1.234.567``.

    ``compact=True`` from 10,000 on (CLDR's short compact forms): ``€1.2M`` (en) / ``1,2 M€`` (es) / ``1.2 M$``
    (MXN in es-MX) / ``S/ 1.2 M`` (PEN in es-PE) / ``$1,2 M`` (ARS in es-AR), one decimal for millions, none for
    thousands (``96 k€``, ``€96k``, ``$96 K`` in es-AR). ``currency`` is an ISO 4217 code (an unknown one is a
    ValueError); ``""`` writes the number alone.
    """
    if _missing(x):
        return MISSING
    loc, v = babel_locale(lang), float(x)
    cur = check_currency(currency) if currency else None
    a = abs(v)
    if compact and a >= COMPACT_FROM:
        pattern, divisor = _compact_pattern(loc, a, cur is not None)
        a = a / divisor
        decimals = 1 if abs(v) >= 1e6 and a < 1000 else 0
    else:
        pattern = loc.currency_formats["standard"] if cur else loc.decimal_formats[None]
    r = _rounded(a, decimals)
    p = _with_decimals(pattern, decimals)
    if cur is None:
        return _sign(v, r, p.apply(r, loc).replace("¤", "").strip())
    s = _currency_spacing(p.apply(r, loc, currency=cur, currency_digits=False), currency_symbol(cur, lang))
    return _sign(v, r, s)


def _as_date(d: Any) -> dt.date:
    if isinstance(d, dt.datetime):
        return d.date()
    if isinstance(d, dt.date):
        return d
    return dt.date.fromisoformat(str(d)[:10])


def fmt_date(d: Any, lang: str = "en") -> str:
    """A date as the locale writes it in full (CLDR long format): ``2026-09-03`` -> ``3 September 2026`` (en,
    en-GB) / ``September 3, 2026`` (en-US) / ``3 de septiembre de 2026`` (es) / ``3 de setiembre de 2026`` (es-PE)."""
    if d is None:
        return MISSING
    return babel_dates.format_date(_as_date(d), format="long", locale=babel_locale(lang))


def join_words(words: list[str], lang: str = "en") -> str:
    """``["a", "b", "c"]`` -> ``"a, b and c"`` in ``lang``."""
    if not words:
        return ""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" {t('chain_and', lang)} " + words[-1]


def fmt_quarter(q: str, lang: str = "en") -> str:
    """``2026Q3`` -> ``Q3 2026`` (en) / ``T3 2026`` (es, trimestre)."""
    q = str(q)
    if len(q) == 6 and q[4] == "Q":
        return f"{'T' if base(lang) == 'es' else 'Q'}{q[5]} {q[:4]}"
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

