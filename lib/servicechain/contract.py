"""The data contract: which tables and columns the suite reads, and their types.

One place describes the contract so that the loader, the validator, the demo
generator and data/README.md cannot disagree. Column names here are the
contract; a mapping file (``mapping.py``) adapts anyone's export to them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["id", "str", "date", "int", "float", "likert", "nps", "enum"]

LIKERT_MIN, LIKERT_MAX = 1, 5
NPS_MIN, NPS_MAX = 0, 10
ROLES = ("frontline", "support", "manager")
EXIT_REASONS = ("voluntary", "involuntary")
DRIVERS = ("recognition", "empowerment", "leadership")
# Columns of the survey that are never items.
SURVEY_KEYS = ("employee_id", "survey_date")


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = True
    nullable: bool = False
    values: tuple[str, ...] = ()
    doc: str = ""
    mean: bool = False  # a score that is a mean of ratings: decimals allowed (answers are whole numbers)


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    required: bool = True
    unique: tuple[str, ...] = ()
    doc: str = ""
    extra_likert: bool = False  # further columns are allowed and read as 1-5 items
    pseudonymise: tuple[str, ...] = field(default=())

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "units",
            (
                Column("unit_id", "id", doc="store, branch, contact centre or back-office team"),
                Column("unit_name", "str"),
                Column("region", "str"),
            ),
            unique=("unit_id",),
            doc="One row per unit.",
        ),
        Table(
            "employees",
            (
                Column("employee_id", "id"),
                Column("unit_id", "id"),
                Column("manager_id", "id", nullable=True, doc="empty for the top of the tree"),
                Column("department", "str"),
                Column("role", "enum", values=ROLES),
                Column("hire_date", "date"),
                Column("exit_date", "date", nullable=True, doc="empty while employed"),
                Column("exit_reason", "enum", nullable=True, values=EXIT_REASONS),
                Column("annual_salary", "float", nullable=True),
            ),
            unique=("employee_id",),
            pseudonymise=("employee_id", "manager_id"),
            doc="One row per employment (HR master data).",
        ),
        Table(
            "survey",
            (
                Column("employee_id", "id"),
                Column("survey_date", "date"),
                Column("recognition", "likert", nullable=True),
                Column("empowerment", "likert", nullable=True),
                Column("leadership", "likert", nullable=True),
            ),
            extra_likert=True,
            pseudonymise=("employee_id",),
            doc="Pulse survey, one row per response; missing answers allowed.",
        ),
        Table(
            "recognitions",
            (
                Column("date", "date"),
                Column("receiver_id", "id"),
                Column("giver_id", "id", required=False, nullable=True),
            ),
            required=False,
            pseudonymise=("receiver_id", "giver_id"),
            doc="Recognition events (kudos platform). Without it the survey item is the fallback.",
        ),
        Table(
            "customer_feedback",
            (
                Column("unit_id", "id"),
                Column("date", "date"),
                Column("nps", "nps"),
                Column("touchpoint", "str", required=False, nullable=True, doc="the moment of truth"),
                Column("customer_id", "id", required=False, nullable=True,
                       doc="who answered (as in customer_activity): links each answer to whether that customer came "
                           "back; pseudonymised at ingest"),
            ),
            pseudonymise=("customer_id",),
            doc="One row per customer survey answer (0-10 likelihood to recommend).",
        ),
        Table(
            "customer_activity",
            (
                Column("customer_id", "id"),
                Column("unit_id", "id"),
                Column("date", "date"),
                Column("revenue", "float"),
            ),
            required=False,  # one of customer_activity / customer_quarters is needed (validation checks)
            doc="Purchases or visits. Or, instead, customer_quarters (its aggregate; both: this one is used).",
        ),
        Table(
            "customer_quarters",
            (
                Column("unit_id", "id"),
                Column("quarter", "str", doc="a quarter like 2026Q3"),
                Column("customers", "int", doc="distinct customers active at the unit in the quarter"),
                Column("returning_customers", "int", doc="of them, also active at the unit the quarter before"),
                Column("new_customers", "int", doc="of them, first active at the unit in this quarter"),
                Column("revenue", "float", doc="the sum of the quarter's revenue at the unit (refunds negative)"),
                Column("touchpoint", "str", required=False, nullable=True,
                       doc="a breakdown row (within the moment of truth); empty on the unit's totals row"),
                Column("segment", "str", required=False, nullable=True,
                       doc="a breakdown row (within the customer segment); empty on the unit's totals row"),
            ),
            required=False,
            doc="The aggregate of customer_activity per unit and quarter (issue 17), what large users export from "
                "their warehouse instead of raw visits; `servicechain aggregate` builds it (aggregate.py).",
        ),
        Table(
            "trainings",
            (
                Column("employee_id", "id"),
                Column("date", "date"),
                Column("program", "str"),
            ),
            required=False,
            pseudonymise=("employee_id",),
        ),
        Table(
            "internal_service",
            (
                Column("quarter", "str"),
                Column("from_department", "str"),
                Column("to_department", "str"),
                Column("score", "likert", mean=True,
                       doc="the pair's mean rating 1-5, or one rating (a whole number) when the row has rater_id"),
                Column("rater_id", "id", required=False, nullable=True,
                       doc="the rating employee: one row per rating (each cell's n, SD and CI from the ratings)"),
                Column("n", "int", required=False, nullable=True,
                       doc="respondents behind the pair's mean score (without rater_id)"),
            ),
            required=False,
            pseudonymise=("rater_id",),
            doc="Internal customer ratings: the supplier department (from) as rated by its internal client (to).",
        ),
    )
}

# The snapshot shape: a single HR export, one row per employee, no dates.
SNAPSHOT = Table(
    "snapshot",
    (
        # optional: an export without ids gets its row numbers as ids (``row-1``, ...), pseudonymised like any id;
        # a snapshot report shows aggregates only, so nothing needs to be linked to a person
        Column("employee_id", "id", required=False),
        Column("tenure_years", "float"),
        Column("left", "int", doc="1 = left the company, 0 = still employed"),
        Column("unit_id", "id", required=False, nullable=True),
        Column("department", "str", required=False, nullable=True),
        Column("role", "str", required=False, nullable=True),
        Column("annual_salary", "float", required=False, nullable=True),
        Column("recognition", "likert", required=False, nullable=True),
        Column("empowerment", "likert", required=False, nullable=True),
        Column("leadership", "likert", required=False, nullable=True),
    ),
    unique=("employee_id",),
    extra_likert=True,
    pseudonymise=("employee_id",),
    doc="A single HR snapshot: tenure, a left flag and satisfaction items.",
)

ALL_TABLES: dict[str, Table] = {**TABLES, "snapshot": SNAPSHOT}


# --------------------------------------------------------------------------- plausibility of values

Op = Literal["<", "<=", ">", ">="]
_OP_WORDS = {"<": "below {}", "<=": "{} or less", ">": "above {}", ">=": "{} or more"}
_DATE_OP_WORDS = {"<": "before {}", "<=": "on or before {}", ">": "after {}", ">=": "on or after {}"}


@dataclass(frozen=True)
class Bound:
    """One plausibility rule: a value of ``table.column`` for which ``value <op> limit`` holds is flagged.

    ``severity`` "error" marks the impossible (the analysis stops), "warning" the implausible (counted and shown
    on the data-quality page). With ``relative`` the limit is a multiple of the column's median, so money bands
    hold in any currency. Dates after the run's as-of date are a separate rule (not here).
    """

    table: str
    column: str
    op: Op
    limit: float | dt.date | str  # a str limit is a quarter label like "1980Q1" (compared as text)
    severity: Literal["error", "warning"]
    why: str
    relative: bool = False

    @property
    def rule(self) -> str:
        """The flagged values in words, e.g. ``"0 or less"``, ``"before 1920-01-01"``, ``"above 50 x the median"``."""
        if isinstance(self.limit, (dt.date, str)):
            return _DATE_OP_WORDS[self.op].format(self.limit if isinstance(self.limit, str) else self.limit.isoformat())
        num = f"{self.limit:,.0f}" if self.limit == int(self.limit) else f"{self.limit:g}"
        return _OP_WORDS[self.op].format(f"{num} x the median" if self.relative else num)

    @property
    def message(self) -> str:
        """The validator's message for rows breaking this rule."""
        word = "impossible" if self.severity == "error" else "implausible"
        return f"{word} value: {self.rule} ({self.why})"


def _salary(table: str) -> tuple[Bound, ...]:
    return (
        Bound(table, "annual_salary", "<=", 0, "error", "a salary is more than zero; leave the cell empty when unknown"),
        Bound(table, "annual_salary", ">=", 1e11, "error", "no annual salary reaches 100 billion; a unit or separator mix-up"),
        Bound(table, "annual_salary", "<", 0.05, "warning", "an hourly or monthly amount, or a lost thousands mark?", True),
        Bound(table, "annual_salary", ">", 50, "warning", "more than 50 times the median salary", True),
    )


def _dates(table: str, column: str, floor: dt.date, warn: dt.date, why_warn: str) -> tuple[Bound, ...]:
    return (
        Bound(table, column, "<", floor, "error", "a placeholder date such as 1900-01-01"),
        Bound(table, column, ">=", DATE_CEILING, "error", "a placeholder date such as 9999-12-31"),
        Bound(table, column, "<=" if warn.year == 1970 else "<", warn, "warning", why_warn),
    )


DATE_CEILING = dt.date(2100, 1, 1)  # from here on a date is a placeholder (9999-12-31), in every dated column
_EMPLOYED = dt.date(1920, 1, 1)  # nobody employed today or in the data's quarters was hired before this
_EPOCH = dt.date(1970, 1, 1)  # also a common placeholder (Unix time 0)
_ACTIVITY = dt.date(1980, 1, 1)  # pulse surveys, kudos, customer records: electronic exports start later
_ACTIVITY_WARN = dt.date(2000, 1, 1)

BOUNDS: tuple[Bound, ...] = (
    *_salary("employees"),
    *_dates("employees", "hire_date", _EMPLOYED, _EPOCH, "hired more than 55 years ago, or the 1970-01-01 placeholder"),
    *_dates("employees", "exit_date", _EMPLOYED, _EPOCH, "left more than 55 years ago, or the 1970-01-01 placeholder"),
    *(
        b
        for t, c in (("survey", "survey_date"), ("recognitions", "date"), ("customer_feedback", "date"),
                     ("customer_activity", "date"), ("trainings", "date"))
        for b in _dates(t, c, _ACTIVITY, _ACTIVITY_WARN, "older than electronic records usually are")
    ),
    Bound("customer_activity", "revenue", "<=", -1e11, "error", "no purchase or refund is that large"),
    Bound("customer_activity", "revenue", ">=", 1e11, "error", "no purchase is that large; a unit or separator mix-up"),
    Bound("customer_activity", "revenue", "<", 0, "warning", "a refund? it lowers the unit's revenue"),
    Bound("customer_activity", "revenue", ">", 1000, "warning", "more than 1,000 times the median purchase", True),
    Bound("customer_quarters", "quarter", "<", f"{_ACTIVITY.year}Q1", "error", "older than electronic records"),
    Bound("customer_quarters", "quarter", ">=", f"{DATE_CEILING.year}Q1", "error", "a placeholder such as 9999Q4"),
    *(Bound("customer_quarters", c, "<", 0, "error", "a count of customers is 0 or more") for c in
      ("customers", "returning_customers", "new_customers")),
    Bound("customer_quarters", "revenue", "<=", -1e13, "error", "no unit's quarter refunds that much"),
    Bound("customer_quarters", "revenue", ">=", 1e13, "error", "no unit's quarter sells that much; a unit or separator mix-up"),
    Bound("customer_quarters", "revenue", "<", 0, "warning", "more refunds than sales in the quarter?"),
    Bound("internal_service", "quarter", "<", f"{_ACTIVITY.year}Q1", "error", "older than electronic records"),
    Bound("internal_service", "quarter", ">=", f"{DATE_CEILING.year}Q1", "error", "a placeholder such as 9999Q4"),
    Bound("internal_service", "n", "<", 1, "error", "a respondent count is 1 or more; leave the cell empty when unknown"),
    Bound("snapshot", "tenure_years", "<", 0, "error", "tenure cannot be negative"),
    Bound("snapshot", "tenure_years", ">", 80, "error", "nobody works 80 years for one company"),
    Bound("snapshot", "tenure_years", ">", 50, "warning", "more than 50 years at one company"),
    *_salary("snapshot"),
)


def value_checks() -> list[dict[str, str]]:
    """Every value check on a contract column: ``{table, column, rule, class}`` with class "error" or "warning".

    The plausibility bands (:data:`BOUNDS`) plus the answer scales (Likert and NPS are whole numbers on their
    scale; a Likert item given ``labels:`` or ``scale:`` in a mapping is rescaled instead and may be a decimal, and a
    ``mean`` score such as ``internal_service.score`` is a decimal).
    data/README.md lists this table and the tests check the validator against it.
    """
    rows = [{"table": b.table, "column": b.column, "rule": b.rule, "class": b.severity} for b in BOUNDS]
    for table in ALL_TABLES.values():
        for col in table.columns:
            if col.kind not in ("nps", "likert"):
                continue
            lo, hi = (NPS_MIN, NPS_MAX) if col.kind == "nps" else (LIKERT_MIN, LIKERT_MAX)
            rows.append({"table": table.name, "column": col.name, "rule": f"outside {lo}-{hi}", "class": "error"})
            if not col.mean:
                unless = " (unless rescaled by the mapping)" if col.kind == "likert" else ""
                rows.append({"table": table.name, "column": col.name, "rule": f"not a whole number {lo}-{hi}{unless}",
                             "class": "error"})
    return rows


# --------------------------------------------------------------------------- which extra survey columns are items

# An undeclared survey (or snapshot) column whose name contains one of these words (English and Spanish; matched
# against the name's words, split at spaces, punctuation, digits and camelCase) is a key, a date, a period or a
# grouping, never a question: `wave`, `survey_round`, `FechaEnvio`, `store_no`, `Trimestre`.
NOT_ITEM_WORDS = frozenset(
    """id ids key code no nr num number index idx uuid date datetime day days week weeks month months year years
    quarter quarters qtr wave round period cycle time timestamp ts version batch count
    employee employees unit store branch site region department dept team manager location level grade band
    age tenure gender sex education
    fecha dia día dias días semana semanas mes meses año años anio ano trimestre ola ronda periodo período ciclo hora
    codigo código clave numero número indice índice lote version versión
    empleado empleados unidad tienda sucursal centro región departamento equipo gerente nivel grado
    edad antiguedad antigüedad genero género sexo estudios""".split()
)
# A column named like another column plus only these words or digits is a copy ("Recognition duplicated 0",
# "recognition.1", "recognition_copy"), not a new question.
COPY_WORDS = frozenset("duplicated duplicate dup copy copia duplicado duplicada".split())
# An undeclared numeric column is an item only when its answers look like a rating: within 0-10 (1-5, 1-7 and
# 0-10 scales; values outside 1-5 are then errors that ask for scale: in a mapping), mostly whole numbers, at least
# this many different values, and (survey) not one value per survey date.
ITEM_MIN, ITEM_MAX = 0, 10
ITEM_MIN_DISTINCT = 3
