"""mapping.yml: the worked HR-snapshot example, label scales, and clear errors for bad mappings."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from servicechain.loading import load
from servicechain.mapping import MappingError, load_mapping, parse_mapping
from servicechain.validation import DataError, validate

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples"


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A copy of data/examples (the HR snapshot and its mapping)."""
    out = tmp_path / "hr"
    shutil.copytree(EXAMPLES, out)
    return out


def test_worked_example_loads_as_snapshot(example: Path) -> None:
    ds = load(example, mapping=example / "mapping.yml")
    assert ds.kind == "snapshot" and ds.quarters == [] and ds.latest_complete_quarter is None
    snap = ds.tables["snapshot"]
    raw = pl.read_csv(example / "hr_snapshot.csv")
    assert snap.height == raw.height == 300
    assert snap["left"].dtype == pl.Int8 and snap["left"].sum() == (raw["Attrition"] == "Yes").sum()
    assert snap["annual_salary"].to_list() == (raw["MonthlyIncome"] * 12).cast(pl.Float64).to_list()
    assert ds.items == ["job_satisfaction", "environment_satisfaction", "relationship_satisfaction"]
    # Low..Very High on 1-4 -> 1..5
    js = snap["job_satisfaction"].unique().sort().to_list()
    assert js == pytest.approx([1.0, 1 + 4 / 3, 1 + 8 / 3, 5.0])
    assert snap["relationship_satisfaction"].null_count() == raw["RelationshipSatisfaction"].null_count() > 0
    assert "Age" not in snap.columns  # unmapped columns are not read
    assert not set(raw["EmployeeNumber"].cast(pl.String)) & set(snap["employee_id"])


def test_snapshot_file_without_mapping(tmp_path: Path) -> None:
    pl.DataFrame({"employee_id": ["a1", "a2"], "tenure_years": [1.5, 3], "left": [1, 0], "recognition": [4, 2]}).write_csv(
        tmp_path / "snapshot.csv"
    )
    ds = load(tmp_path)
    assert ds.kind == "snapshot" and ds.items == ["recognition"]


def test_label_missing_from_mapping_is_reported_with_rows(example: Path) -> None:
    df = pl.read_csv(example / "hr_snapshot.csv", infer_schema=False)
    df = df.with_columns(pl.when(pl.int_range(pl.len()).is_in([4, 9])).then(pl.lit("Excellent")).otherwise(pl.col("JobSatisfaction")).alias("JobSatisfaction"))
    df.write_csv(example / "hr_snapshot.csv")
    rep = validate(example, example / "mapping.yml")
    (p,) = rep.errors
    assert (p.file, p.column, p.example_rows, p.example_values) == ("hr_snapshot.csv", "JobSatisfaction", [5, 10], ["Excellent"])
    assert "labels" in p.message
    with pytest.raises(DataError):
        load(example, mapping=example / "mapping.yml")


def test_yes_no_unquoted_yaml_booleans_still_match(tmp_path: Path) -> None:
    m = parse_mapping({"tables": {"snapshot": {"columns": {"Attrition": {"column": "left", "labels": {True: 1, False: 0}}}}}})
    labels = m.tables["snapshot"].columns[0].labels
    assert labels is not None and labels["yes"] == 1 and labels["no"] == 0
    assert m.kind == "snapshot"


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "mapping.yml"
    p.write_text(text)
    return p


def test_bad_mapping_lists_every_issue(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        """
tables:
  staff: {file: x.csv}
  employees:
    columns:
      Id: employee_id
      Pay: {column: wage}
      Mood: {column: recognition, scale: [5, 1]}
    colour: blue
""",
    )
    with pytest.raises(MappingError) as err:
        load_mapping(p)
    text = str(err.value)
    assert "staff: unknown table" in text
    assert "employees.Pay: unknown contract column 'wage'" in text
    assert "employees.Mood: scale must be [low, high]" in text
    assert "unknown key 'colour'" in text
    assert "employees.Mood: unknown contract column 'recognition'" in text  # survey item, not an HR column
    assert len(err.value.issues) == 5


def test_bad_mapping_in_validate_names_the_mapping_file(panel_dir: Path, tmp_path: Path) -> None:
    p = write(tmp_path, "tables:\n  survey:\n    columns:\n      Q1: {column: not_a_column}\n")
    rep = validate(panel_dir, p)
    (prob,) = rep.errors
    assert prob.file == "mapping.yml" and prob.table == "survey" and prob.column == "Q1"
    assert "unknown contract column" in prob.message


def test_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="not valid YAML"):
        load_mapping(write(tmp_path, "tables: [unclosed\n"))


def test_mapped_column_missing_from_file(example: Path) -> None:
    text = (example / "mapping.yml").read_text().replace("YearsAtCompany: tenure_years", "Seniority: tenure_years")
    (example / "mapping.yml").write_text(text)
    rep = validate(example, example / "mapping.yml")
    assert any(p.column == "Seniority" and p.file == "hr_snapshot.csv" and "YearsAtCompany" in p.message for p in rep.errors)


def test_panel_mapping_renames_columns_and_date_format(panel_dir: Path, tmp_path: Path) -> None:
    df = pl.read_csv(panel_dir / "units.csv", infer_schema=False).rename({"unit_id": "Tienda", "unit_name": "Nombre", "region": "Región"})
    df.write_csv(panel_dir / "tiendas.csv", separator=";")
    (panel_dir / "units.csv").unlink()
    tr = pl.read_csv(panel_dir / "trainings.csv", try_parse_dates=True)
    tr.with_columns(pl.col("date").dt.strftime("%d/%m/%Y")).write_csv(panel_dir / "trainings.csv")
    p = write(
        tmp_path,
        """
tables:
  units:
    file: tiendas.csv
    delimiter: ";"
    columns: {Tienda: unit_id, Nombre: unit_name, "Región": region}
  trainings:
    date_format: "%d/%m/%Y"
""",
    )
    ds = load(panel_dir, mapping=p)
    assert ds.files["units"].name == "tiendas.csv"
    assert ds.tables["units"]["unit_id"].to_list() == ["U1", "U2", "U3"]
    assert ds.tables["trainings"]["date"].to_list() == tr["date"].to_list()
