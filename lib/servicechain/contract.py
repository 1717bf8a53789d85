"""The data contract: which tables and columns the suite reads, and their types.

One place describes the contract so that the loader, the validator, the demo
generator and data/README.md cannot disagree. Column names here are the
contract; a mapping file (``mapping.py``) adapts anyone's export to them.
"""

from __future__ import annotations

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
            ),
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
            doc="Purchases or visits.",
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
                Column("score", "likert"),
            ),
            required=False,
        ),
    )
}

# The snapshot shape: a single HR export, one row per employee, no dates.
SNAPSHOT = Table(
    "snapshot",
    (
        Column("employee_id", "id"),
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
