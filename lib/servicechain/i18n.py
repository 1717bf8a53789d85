"""Words and number formats in English and Spanish.

Every word a reader sees on ``index.html``, in a table header or on an axis goes
through :func:`t`; every number through :func:`fmt_number`, :func:`fmt_pct`,
:func:`fmt_money` or :func:`fmt_date`. The two word tables must have the same keys
(``tests/test_i18n.py`` checks it).

>>> fmt_number(1234.5, "es", 1), fmt_number(1234.5, "en", 1)
('1.234,5', '1,234.5')
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

LANGS = ("en", "es")
MISSING = "–"  # en dash for a missing value
NBSP = "\u00a0"

WORDS: dict[str, dict[str, str]] = {
    "en": {
        # index / report chrome
        "app_name": "servicechain",
        "report_title": "Employee experience and the service-profit chain",
        "quarter_at_a_glance": "The quarter at a glance",
        "detailed_reports": "Detailed reports",
        "generated": "Generated",
        "data_kind": "Data",
        "data_kind_panel": "HR history (panel)",
        "data_kind_snapshot": "HR snapshot",
        "vs_previous_quarter": "vs. previous quarter",
        "no_previous_quarter": "no previous report",
        "vs_quarter": "vs. {q}",
        "trend": "Trend",
        "not_available": "not available",
        "back_to_index": "All reports",
        "language": "Language",
        "privacy_note": "Aggregates only. Groups smaller than {threshold} people are not shown.",
        "money_note": "Median (P50) of the scenario {scenario}.",
        "points": "pp",
        "notebook": "Report",
        "status": "Status",
        "status_ok": "completed",
        # KPIs
        "headcount": "Headcount",
        "voluntary_turnover": "Voluntary turnover",
        "voluntary_turnover_rate": "Voluntary turnover",
        "nps": "NPS",
        "customer_retention": "Customer retention",
        "customer_retention_rate": "Customer retention",
        "money_at_stake": "Money at stake",
        # notebook titles by number
        "nb_00": "Data quality and overview",
        "nb_01": "Retention",
        "nb_02": "Customer loyalty",
        "nb_03": "The service-profit chain",
        "nb_04": "Money",
        "nb_05": "Executive summary",
        # axes and table headers
        "quarter": "Quarter",
        "date": "Date",
        "unit": "Unit",
        "unit_id": "Unit",
        "unit_name": "Unit",
        "region": "Region",
        "department": "Department",
        "role": "Role",
        "n": "n",
        "count": "Count",
        "employees": "Employees",
        "customers": "Customers",
        "share": "Share",
        "rate": "Rate",
        "value": "Value",
        "mean": "Mean",
        "median": "Median",
        "p10": "P10",
        "p50": "P50",
        "p90": "P90",
        "lower": "Lower",
        "upper": "Upper",
        "estimate": "Estimate",
        "effect": "Effect",
        "importance": "Importance",
        "driver": "Driver",
        "scenario": "Scenario",
        "probability": "Probability",
        "survival": "Still employed",
        "hazard": "Quarterly exit probability",
        "tenure_years": "Tenure (years)",
        "tenure_quarters": "Tenure (quarters)",
        "annual_salary": "Annual salary",
        "revenue": "Revenue",
        "recognition": "Recognition",
        "empowerment": "Empowerment",
        "leadership": "Leadership",
        "voluntary": "Voluntary",
        "involuntary": "Involuntary",
        "frontline": "Frontline",
        "support": "Support",
        "manager": "Manager",
        "touchpoint": "Touchpoint",
        "score": "Score",
        "from_department": "From",
        "to_department": "To",
        "promoters": "Promoters",
        "detractors": "Detractors",
        "passives": "Passives",
        "left": "Left",
        "stayed": "Stayed",
        "total": "Total",
        "cost": "Cost",
        "benefit": "Benefit",
    },
    "es": {
        "app_name": "servicechain",
        "report_title": "Experiencia del empleado y la cadena de servicio-beneficio",
        "quarter_at_a_glance": "El trimestre de un vistazo",
        "detailed_reports": "Informes detallados",
        "generated": "Generado",
        "data_kind": "Datos",
        "data_kind_panel": "Historial de RR. HH. (panel)",
        "data_kind_snapshot": "Foto fija de RR. HH.",
        "vs_previous_quarter": "frente al trimestre anterior",
        "no_previous_quarter": "sin informe anterior",
        "vs_quarter": "frente a {q}",
        "trend": "Tendencia",
        "not_available": "no disponible",
        "back_to_index": "Todos los informes",
        "language": "Idioma",
        "privacy_note": "Solo datos agregados. No se muestran grupos de menos de {threshold} personas.",
        "money_note": "Mediana (P50) del escenario {scenario}.",
        "points": "p. p.",
        "notebook": "Informe",
        "status": "Estado",
        "status_ok": "completado",
        "headcount": "Plantilla",
        "voluntary_turnover": "Rotación voluntaria",
        "voluntary_turnover_rate": "Rotación voluntaria",
        "nps": "NPS",
        "customer_retention": "Retención de clientes",
        "customer_retention_rate": "Retención de clientes",
        "money_at_stake": "Dinero en juego",
        "nb_00": "Calidad de datos y resumen",
        "nb_01": "Retención",
        "nb_02": "Lealtad de clientes",
        "nb_03": "La cadena de servicio-beneficio",
        "nb_04": "Dinero",
        "nb_05": "Resumen ejecutivo",
        "quarter": "Trimestre",
        "date": "Fecha",
        "unit": "Unidad",
        "unit_id": "Unidad",
        "unit_name": "Unidad",
        "region": "Región",
        "department": "Departamento",
        "role": "Puesto",
        "n": "n",
        "count": "Número",
        "employees": "Empleados",
        "customers": "Clientes",
        "share": "Proporción",
        "rate": "Tasa",
        "value": "Valor",
        "mean": "Media",
        "median": "Mediana",
        "p10": "P10",
        "p50": "P50",
        "p90": "P90",
        "lower": "Inferior",
        "upper": "Superior",
        "estimate": "Estimación",
        "effect": "Efecto",
        "importance": "Importancia",
        "driver": "Factor",
        "scenario": "Escenario",
        "probability": "Probabilidad",
        "survival": "Siguen en la empresa",
        "hazard": "Probabilidad trimestral de salida",
        "tenure_years": "Antigüedad (años)",
        "tenure_quarters": "Antigüedad (trimestres)",
        "annual_salary": "Salario anual",
        "revenue": "Ingresos",
        "recognition": "Reconocimiento",
        "empowerment": "Autonomía",
        "leadership": "Liderazgo",
        "voluntary": "Voluntaria",
        "involuntary": "Involuntaria",
        "frontline": "Primera línea",
        "support": "Soporte",
        "manager": "Mando",
        "touchpoint": "Punto de contacto",
        "score": "Puntuación",
        "from_department": "De",
        "to_department": "A",
        "promoters": "Promotores",
        "detractors": "Detractores",
        "passives": "Pasivos",
        "left": "Se fueron",
        "stayed": "Se quedaron",
        "total": "Total",
        "cost": "Coste",
        "benefit": "Beneficio",
    },
}

MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
           "septiembre", "octubre", "noviembre", "diciembre"),
}

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF", "MXN": "MX$"}


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
