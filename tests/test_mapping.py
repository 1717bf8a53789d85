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


# ----------------------------------------------------------------- item labels per language (issue 13)

def _with_canteen(example: Path, entry: str | None) -> Path:
    """The worked example plus a CanteenRating column (1-4), an item the project has no words for, mapped by ``entry``."""
    df = pl.read_csv(example / "hr_snapshot.csv", infer_schema=False)
    df.with_columns(((pl.int_range(pl.len()) % 4) + 1).cast(pl.String).alias("CanteenRating")).write_csv(
        example / "hr_snapshot.csv")
    text = (example / "mapping.yml").read_text(encoding="utf-8")
    if entry is not None:
        text = text.replace("    # Age is not mapped", f"      CanteenRating:\n{entry}    # Age is not mapped")
    (example / "mapping.yml").write_text(text, encoding="utf-8")
    return example / "mapping.yml"


def test_item_label_per_language_reaches_the_pages_words(example: Path) -> None:
    from servicechain import charts, chain, mapping, notebook

    m = _with_canteen(example, '        column: canteen_satisfaction\n        scale: [1, 4]\n'
                                       '        label: {en: "Canteen satisfaction", es: "Satisfacción con el comedor"}\n')
    rep = validate(example, m)
    assert rep.ok and "canteen_satisfaction" in rep.items
    assert not [p for p in rep.warnings if "Spanish name" in p.message]
    assert load_mapping(m).item_labels()["canteen_satisfaction"] == {"en": "Canteen satisfaction", "es": "Satisfacción con el comedor"}
    try:
        notebook.setup(data_dir=str(example), mapping=str(m), lang="es", quarter="snapshot", load=False)
        assert charts.word("canteen_satisfaction", "es") == "Satisfacción con el comedor"
        assert charts.word("canteen_satisfaction", "en") == "Canteen satisfaction"
        assert charts.word("canteen_satisfaction", "es-MX") == "Satisfacción con el comedor"
        assert chain.driver_label("canteen_satisfaction", "es") == "Satisfacción con el comedor"
        assert charts.driver_word("canteen_satisfaction", "es") == "satisfacción con el comedor"
        assert "<td>Satisfacción con el comedor</td>" in notebook.table_html(
            pl.DataFrame({"item": ["canteen_satisfaction"]}), "es", translate=["item"])
        assert charts.word("job_satisfaction", "es") == "Satisfacción con el trabajo"  # the project's own words stay
        notebook.setup(data_dir=str(example), lang="es", quarter="snapshot", load=False)  # no mapping: no labels
        assert charts.word("canteen_satisfaction", "es") == "Canteen satisfaction"
    finally:
        mapping.use_item_labels(None)


def test_plain_label_names_both_languages_and_bad_labels_are_mapping_errors() -> None:
    base = {"kind": "snapshot", "tables": {"snapshot": {"columns": {"EmployeeNumber": "employee_id", "Att": {"column": "left"}}}}}

    def parse(label):
        raw = {**base}
        raw["tables"] = {"snapshot": {"columns": {**base["tables"]["snapshot"]["columns"],
                                                  "JI": {"column": "canteen_satisfaction", "scale": [1, 4], "label": label}}}}
        return parse_mapping(raw)

    assert parse("Comedor").item_labels() == {"canteen_satisfaction": {"en": "Comedor", "es": "Comedor"}}
    assert parse({"es": "Comedor"}).item_labels() == {"canteen_satisfaction": {"es": "Comedor"}}
    with pytest.raises(MappingError, match="languages are en, es, not 'fr'"):
        parse({"en": "Canteen satisfaction", "fr": "Cantine"})
    with pytest.raises(MappingError, match="must be non-empty text"):
        parse({"en": "", "es": "Comedor"})
    with pytest.raises(MappingError, match="label must be a name"):
        parse(3)


@pytest.mark.parametrize("entry", [
    None,  # not in the mapping at all: the column is not read, so no warning either
    "        column: canteen_satisfaction\n        scale: [1, 4]\n",
    '        column: canteen_satisfaction\n        scale: [1, 4]\n        label: {en: "Canteen satisfaction"}\n',
])
def test_item_without_a_spanish_name_is_a_warning_that_shows_the_line_to_add(example: Path, entry: str | None) -> None:
    m = _with_canteen(example, entry)
    rep = validate(example, m)
    assert rep.ok
    warned = [p for p in rep.warnings if "Spanish name" in p.message]
    if entry is None:
        assert "canteen_satisfaction" not in rep.items and not warned
        return
    (p,) = warned
    assert p.severity == "warning" and p.column == "CanteenRating" and p.table == "snapshot"
    assert "'canteen_satisfaction'" in p.message and "'Canteen satisfaction'" in p.message
    assert 'label: {en: "Canteen satisfaction", es: "<nombre en español>"}' in p.message
    assert "mapping entry of column 'CanteenRating'" in p.message
    assert p.format() in rep.format()  # servicechain validate prints it


def test_unmapped_unknown_survey_item_warning_gives_the_whole_mapping_line(tmp_path: Path) -> None:
    pl.DataFrame({"employee_id": [f"a{i}" for i in range(6)], "tenure_years": [1.5, 3, 2, 4, 1, 6], "left": [1, 0, 0, 1, 0, 0],
                  "recognition": [4, 2, 3, 5, 1, 2], "parking_rating": [3, 5, 1, 2, 4, 3]}).write_csv(tmp_path / "snapshot.csv")
    rep = validate(tmp_path)
    (p,) = [p for p in rep.warnings if "Spanish name" in p.message]  # recognition is a word the project knows
    assert p.column == "parking_rating"
    assert ('parking_rating: {column: parking_rating, scale: [1, 5], label: {en: "Parking rating", '
            'es: "<nombre en español>"}}') in p.message


@pytest.mark.slow
@pytest.mark.xdist_group("papermill")
def test_spanish_run_shows_the_users_item_label_on_the_pages(example: Path, tmp_path: Path) -> None:
    """servicechain run --lang es on the worked snapshot example plus an item named per language: the pages call it
    by its Spanish name (the label reaches the notebooks' kernels, which read the run's validated copy)."""
    import io
    import re
    from contextlib import redirect_stderr, redirect_stdout

    from servicechain import cli

    m = _with_canteen(example, '        column: canteen_satisfaction\n        scale: [1, 4]\n'
                               '        label: {en: "Canteen satisfaction", es: "Satisfacción con el comedor"}\n')
    # leavers rate the canteen low: the item is the clearest association, so the index's summary names it too
    df = pl.read_csv(example / "hr_snapshot.csv", infer_schema=False)
    i = pl.int_range(pl.len())
    df.with_columns(pl.when(pl.col("Attrition") == "Yes").then((i % 3) + 1).otherwise((i % 4) + 1)
                    .cast(pl.String).alias("CanteenRating")).write_csv(example / "hr_snapshot.csv")
    err = io.StringIO()
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        rc = cli.main(["run", "--data", str(example), "--mapping", str(m), "--out", str(tmp_path / "reports"),
                       "--lang", "es", "--as-of", "2026-06-30", "--jobs", "2"])
    assert rc == 0, err.getvalue()
    pages = {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "reports").rglob("*.html")
             if p.name in ("00_data_quality.html", "01_retention.html", "index.html")}
    assert set(pages) == {"00_data_quality.html", "01_retention.html", "index.html"}  # index: written by run itself
    for name, page in pages.items():
        assert re.search("satisfacción con el comedor", page, re.I), name
        assert not re.search(r"canteen", page, re.I), name
