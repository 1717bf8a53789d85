"""Issue 17: the panels are built once per run (after validation, into the run's private work folder) and read
by the notebooks; interactive use builds them on demand, cached by a hash of the inputs."""

from __future__ import annotations

import io
import json
import os
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from servicechain import demo, features, loading
from servicechain import notebook as nb

from conftest import build_panel


def _builds(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_build_panels_writes_what_the_builders_return(tmp_path):
    ds = loading.load(build_panel(tmp_path / "data", fmt="parquet"))
    q = ds.latest_complete_quarter
    p = features.build_panels(ds.tables, q, tmp_path / "panels")
    tabs = features.as_of(ds.tables, q)
    pq, info = features.person_quarters(tabs)
    # the builders' row order is polars' join order (not fixed): compare as sets of rows
    assert_frame_equal(p.person_quarters.sort("employee_id", "qi"), pq.sort("employee_id", "qi"))
    assert p.info == info
    assert_frame_equal(p.unit_quarters.sort("unit_id", "qi"), features.unit_quarters(tabs).sort("unit_id", "qi"))
    tp = features.touchpoint_quarters(tabs)
    assert (p.touchpoint_quarters is None) == (tp is None)
    if tp is not None:
        assert_frame_equal(p.touchpoint_quarters, tp)
    assert p.quarter == q and features.Panels(tmp_path / "panels").quarter == q


def test_interactive_panels_are_cached_by_input_hash(tmp_path, monkeypatch):
    data = build_panel(tmp_path / "data", fmt="parquet")
    log = tmp_path / "builds.log"
    monkeypatch.setenv(features.BUILD_LOG_ENV, str(log))
    monkeypatch.setenv(nb.CACHE_DIR_ENV, str(tmp_path / "cache"))
    for env in (nb.PANELS_ENV, "SERVICECHAIN_VALIDATED_FOR", "SERVICECHAIN_VALIDATED_DATA", nb.PANEL_CACHE_ENV):
        monkeypatch.delenv(env, raising=False)

    ctx = nb.setup(data_dir=str(data))
    first = ctx.panels()
    assert len(_builds(log)) == 1
    assert first.folder.parent == tmp_path / "cache" / "panels"
    assert oct(first.folder.stat().st_mode & 0o777) == "0o700"  # pseudonymised rows: the user's eyes only
    again = nb.setup(data_dir=str(data)).panels()
    assert len(_builds(log)) == 1 and again.folder == first.folder  # read from the cache, not built
    assert_frame_equal(again.unit_quarters, first.unit_quarters)

    # an input changes: the hash changes, the panels are built again and differ
    fb = pl.read_parquet(data / "customer_feedback.parquet")
    fb.with_columns(pl.when(pl.col("nps") >= 9).then(pl.lit(0)).otherwise(pl.col("nps")).cast(fb.schema["nps"])
                    .alias("nps")).write_parquet(data / "customer_feedback.parquet")
    changed = nb.setup(data_dir=str(data)).panels()
    assert len(_builds(log)) == 2 and changed.folder != first.folder
    assert not changed.unit_quarters.equals(first.unit_quarters)

    # another quarter is another set of panels
    earlier = [q for q in ctx.ds.quarters if q < ctx.quarter][-1]
    other_q = nb.setup(data_dir=str(data), quarter=earlier).panels()
    assert len(_builds(log)) == 3 and other_q.quarter == earlier != ctx.quarter

    # cache disabled: built every time, nothing new cached
    monkeypatch.setenv(nb.PANEL_CACHE_ENV, "0")
    n_cached = len(list((tmp_path / "cache" / "panels").iterdir()))
    nb.setup(data_dir=str(data)).panels()
    nb.setup(data_dir=str(data)).panels()
    assert len(_builds(log)) == 5
    assert not any(Path(b["dest"]).exists() for b in _builds(log)[3:])  # nothing individual left in /tmp
    assert len(list((tmp_path / "cache" / "panels").iterdir())) == n_cached


def _run(data: Path, out: Path) -> Path:
    from servicechain import cli

    err = io.StringIO()
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        rc = cli.main(["run", "--data", str(data), "--quarter", "latest", "--out", str(out), "--jobs", "2", "--keep-failed", "1"])
    assert rc == 0, err.getvalue()
    (rep,) = [d for d in out.iterdir() if d.is_dir() and not d.name.startswith(".")]
    return rep


@pytest.mark.slow
def test_a_run_builds_the_panels_once_and_the_metrics_equal_a_run_without(tmp_path, monkeypatch):
    tables, truth = demo.generate(demo.DemoConfig(seed=5, employees=600, quarters=4))
    demo.write(tables, truth, tmp_path / "data")
    log = tmp_path / "builds.log"
    monkeypatch.setenv(features.BUILD_LOG_ENV, str(log))
    monkeypatch.setenv(nb.CACHE_DIR_ENV, str(tmp_path / "cache"))

    once = _run(tmp_path / "data", tmp_path / "once")
    builds = _builds(log)
    # exactly one build, by the runner (not a kernel), into its private work folder (gone after the run)
    assert len(builds) == 1, builds
    assert builds[0]["pid"] == os.getpid()
    assert Path(builds[0]["dest"]).name == "panels" and not Path(builds[0]["dest"]).exists()
    assert not (tmp_path / "cache").exists()  # the notebooks read the run's panels; no cache in a run

    log.unlink()
    monkeypatch.setenv(nb.PANEL_CACHE_ENV, "0")  # as before issue 17: every notebook builds its own panels
    before = _run(tmp_path / "data", tmp_path / "before")
    per_notebook = _builds(log)
    assert len(per_notebook) == 5 and all(b["pid"] != os.getpid() for b in per_notebook)  # 01 02 03 04 06
    assert (once / "metrics.json").read_bytes() == (before / "metrics.json").read_bytes()


def test_the_validated_copy_keys_ids_as_dense_integers_and_keeps_the_pseudonyms(tmp_path):
    from servicechain import run

    ds = loading.load(build_panel(tmp_path / "data", fmt="parquet"))
    copy = loading.load(loading.write_validated(ds, tmp_path / "validated"))
    emp, emp_s = copy.tables["employees"].collect(), ds.tables["employees"]
    assert emp.schema["employee_id"] == loading.KEY_DTYPE == emp.schema["manager_id"]
    people = loading.key_pseudonyms(copy)["person"]
    assert sorted(emp["employee_id"].to_list()) == list(range(emp.height))  # dense: 0..n-1
    # the same person under both: the key's pseudonym is the original row's pseudonym
    back = emp.with_columns(pl.col(c).map_elements(lambda k: people[k], return_dtype=pl.String) for c in ("employee_id", "manager_id"))
    assert_frame_equal(back.sort("employee_id"), emp_s.sort("employee_id"), check_column_order=False)
    # the panels are the same panels, on integers
    q = ds.latest_complete_quarter
    pq_s, _ = features.person_quarters(features.as_of(ds.tables, q))
    pq_i, _ = features.person_quarters(features.as_of(copy.tables, q))
    assert pq_i.schema["employee_id"] == loading.KEY_DTYPE and pq_i.height == pq_s.height
    assert pq_i["voluntary_exit"].sum() == pq_s["voluntary_exit"].sum()
    for c in ("recognition_per_month", "leadership_team_mean", "empowerment"):
        assert pq_i[c].sum() == pytest.approx(pq_s[c].sum())
    uq_s = features.unit_quarters(features.as_of(ds.tables, q)).sort("unit_id", "qi")
    uq_i = features.unit_quarters(features.as_of(copy.tables, q)).sort("unit_id", "qi")
    assert_frame_equal(uq_i, uq_s)
    # what the run searches published pages for: the pseudonyms, never the small integers
    ids = run._person_ids(copy)
    assert ids and set(people.to_list()) <= ids and not any(x.isdigit() for x in ids)
