"""`servicechain run` end to end on tiny test notebooks (tests/notebooks/), with a fake dataset.

The notebooks under tests/notebooks call notebook.setup/show/table/md/save_results like the
real ones. Loading is replaced by a fake Dataset (the runner's ``load_dataset`` seam) so these
tests do not depend on the data pipeline; ``test_real_loading`` covers the real one.
Papermill runs are the slow part: a handful of runs share module-scoped fixtures.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import types
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from servicechain import cli, quarters, run

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("servicechain_run")]

NOTEBOOKS = Path(__file__).with_name("notebooks")
FAKE_IDS = ["pzfake00001", "pzfake00002", "pzfake00003"]


def fake_dataset(data_dir, mapping=None, **_):
    import polars as pl

    return types.SimpleNamespace(
        kind="panel",
        quarters=["2025Q4", "2026Q1", "2026Q2", "2026Q3"],
        latest_complete_quarter="2026Q3",
        tables={"employees": pl.DataFrame({"employee_id": FAKE_IDS, "manager_id": [None, FAKE_IDS[0], FAKE_IDS[0]]})},
    )


def k_of(q: str) -> int:
    """The test notebooks vary their numbers by quarter with this."""
    return quarters.parse(q) % 5


def suite(root: Path, *numbers: str) -> Path:
    d = root / ("nb-" + "-".join(numbers))
    d.mkdir(exist_ok=True)
    for p in NOTEBOOKS.glob("*.ipynb"):
        if p.name[:2] in numbers:
            shutil.copy(p, d / p.name)
    return d


def sc(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        rc = cli.main(["run", *argv])
    return rc, out.getvalue(), err.getvalue()


def tree_digest(d: Path) -> dict[str, str]:
    return {p.relative_to(d).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(d.rglob("*")) if p.is_file()}


@contextlib.contextmanager
def _exclusive(path: Path):
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def shared_dir(tmp_path_factory, name: str, build) -> Path:
    """Build an expensive fixture folder once per test session, also across xdist workers
    (``--dist loadgroup`` does not keep a module on one worker with the pinned pytest/xdist).
    Tests must treat it as read-only; tests that change things work on a copy (``own_base``)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = tmp_path_factory.getbasetemp().parent / f"shared-{name}"
    else:
        root = tmp_path_factory.getbasetemp() / f"shared-{name}"
    with _exclusive(Path(f"{root}.lock")):
        if not (root / ".done").exists():
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir(parents=True)
            build(root)
            (root / ".done").touch()
    return root


def _ns(root: Path, quarter: str = "2026Q2") -> types.SimpleNamespace:
    info = json.loads((root / "info.json").read_text())
    return types.SimpleNamespace(root=root, data=root / "data", out=root / "reports", target=root / "reports" / quarter,
                                 **info)


def _build_base(root: Path) -> None:
    data = root / "data"
    data.mkdir()
    (data / "employees.csv").write_text("employee_id\npzfake00001\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(run, "load_dataset", fake_dataset)
        mp.delenv("SC_TEST_FAIL", raising=False)
        rc, stdout, stderr = sc("--data", str(data), "--quarter", "2026Q2", "--out", str(root / "reports"),
                                "--jobs", "3", "--notebooks-dir", str(suite(root, "00", "01", "05")))
    assert rc == 0, stderr
    suite(root, "00")
    (root / "info.json").write_text(json.dumps({"stdout": stdout, "stderr": stderr}))


@pytest.fixture(scope="session")
def base(tmp_path_factory):
    """One good English run of 2026Q2 with the full test suite (00, 01 and 05). Read-only."""
    return _ns(shared_dir(tmp_path_factory, "base", _build_base))


@pytest.fixture
def own_base(base, tmp_path):
    """A private copy of ``base`` for tests that run again into its reports folder."""
    root = tmp_path / "run"
    shutil.copytree(base.root, root, symlinks=True)
    return _ns(root)


@pytest.fixture(scope="session")
def spanish(base, tmp_path_factory):
    """`--quarter latest --lang es` (fake data: latest complete is 2026Q3), only notebook 00, run twice
    (the second time with --force) on a copy of ``base`` (so 2026Q2 is the previous quarter)."""

    def build(root: Path) -> None:
        shutil.copytree(base.root, root, symlinks=True, dirs_exist_ok=True)
        args = ("--data", str(root / "data"), "--quarter", "latest", "--lang", "es", "--out", str(root / "reports"),
                "--notebooks-dir", str(root / "nb-00"))
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(run, "load_dataset", fake_dataset)
            mp.delenv("SC_TEST_FAIL", raising=False)
            rc, _, stderr = sc(*args)
            assert rc == 0, stderr
            shutil.copy(root / "reports" / "2026Q3" / "metrics.json", root / "first-metrics.json")
            shutil.copy(root / "reports" / "2026Q3" / "manifest.json", root / "first-manifest.json")
            time.sleep(1.1)  # a different start time, so we can tell the reports apart
            rc2, _, stderr2 = sc(*args, "--force")
            assert rc2 == 0, stderr2

    root = shared_dir(tmp_path_factory, "spanish", build)
    return types.SimpleNamespace(target=root / "reports" / "2026Q3",
                                 first_metrics=(root / "first-metrics.json").read_bytes(),
                                 first_manifest=json.loads((root / "first-manifest.json").read_text()))


# ------------------------------------------------------------------------------------- good runs


def test_report_layout(base):
    t = base.target
    names = {p.name for p in t.iterdir()}
    assert {"index.html", "00_overview.html", "01_retention.html", "05_summary.html", "notebooks",
            "metrics.json", "manifest.json", "run.log"} <= names
    assert {p.name for p in (t / "notebooks").iterdir()} == {"00_overview.ipynb", "01_retention.ipynb",
                                                             "05_summary.ipynb"}
    assert not "results" in names
    # nothing left behind: no staging folder, no partial report
    assert not list(base.out.glob(".staging-*"))
    assert "report:" in base.stdout and "index.html" in base.stdout


def test_metrics_are_results_only(base):
    text = (base.target / "metrics.json").read_text()
    m = json.loads(text)
    assert m["quarter"] == "2026Q2"
    assert set(m) == {"quarter", "overview", "retention", "finance"}
    assert m["overview"]["headcount"] == 1234 + 10 * k_of("2026Q2")
    assert m["overview"]["third"] == 0.33333333  # stable float formatting
    assert str(base.root) not in text and "seconds" not in text
    assert text == json.dumps(m, sort_keys=True, indent=2, ensure_ascii=False) + "\n"  # sorted keys


def test_manifest(base):
    man = json.loads((base.target / "manifest.json").read_text())
    assert man["status"] == "ok" and man["quarter"] == "2026Q2"
    assert man["parameters"]["lang"] == "en" and man["parameters"]["anonymity_threshold"] == 5
    assert set(man["parameters"]) == {"data_dir", "quarter", "lang", "anonymity_threshold", "seed", "mapping",
                                      "assumptions"}
    assert man["inputs"]["data/employees.csv"] == hashlib.sha256(b"employee_id\npzfake00001\n").hexdigest()
    assert "notebooks/05_summary.ipynb" in man["inputs"]
    assert man["packages"]["papermill"] and man["packages"]["plotly"]
    assert "commit" in man["git"]
    assert man["started"] <= man["finished"]
    nbs = {n["name"]: n for n in man["notebooks"]}
    assert all(n["status"] == "ok" and n["seconds"] > 0 for n in nbs.values())
    assert nbs["05_summary"]["depends_on"] == ["00", "01"]
    # 05 ran after the others (its first cell also asserts their results exist)
    assert nbs["05_summary"]["started"] >= max(nbs["00_overview"]["started"], nbs["01_retention"]["started"])
    log = (base.target / "run.log").read_text()
    assert "done    05_summary" in log and "publish" in log


def test_html_has_no_code_no_stderr_no_ids(base):
    for p in base.target.glob("*.html"):
        s = p.read_text()
        assert "SECRET-STDERR-LINE" not in s and "SECRET-WARNING" not in s, p.name
        assert "nb.setup(" not in s and "import " not in s.replace(run.report.theme.plotly_js(), ""), p.name
        assert "PosixPath" not in s and str(base.root) not in s, p.name
        assert not any(i in s for i in FAKE_IDS), p.name
        assert "cdn." not in s.replace(run.report.theme.plotly_js(), "")
    page = (base.target / "00_overview.html").read_text()
    assert page.count("Plotly.newPlot") == 1 and 'id="sc-fig-1"' in page
    assert page.count(run.report.theme.plotly_js()[:200]) == 1  # plotly.js inlined exactly once
    # the executed notebook keeps stderr for analysts
    executed = (base.target / "notebooks" / "00_overview.ipynb").read_text()
    assert "SECRET-STDERR-LINE" in executed


def test_index_english(base):
    s = (base.target / "index.html").read_text()
    assert '<html lang="en">' in s
    assert "Headcount" in s and "The quarter at a glance" in s and "Q2 2026" in s
    assert f"{1234 + 10 * k_of('2026Q2'):,}" in s
    assert "no previous report" in s
    for page in ("00_overview.html", "01_retention.html", "05_summary.html"):
        assert f'href="{page}"' in s
    assert "€1.2" in s  # money at stake, compact


# ------------------------------------------------------------------------------------- refusals, failures


def test_existing_report_needs_force(own_base, monkeypatch):
    monkeypatch.setattr(run, "load_dataset", fake_dataset)
    before = tree_digest(own_base.target)
    rc, _, err = sc("--data", str(own_base.data), "--quarter", "2026Q2", "--out", str(own_base.out),
                    "--notebooks-dir", str(own_base.root / "nb-00"))
    assert rc == 1
    assert "already exists" in err and "--force" in err and "Traceback" not in err
    assert tree_digest(own_base.target) == before


def test_failed_rerun_leaves_old_report_untouched(own_base, monkeypatch):
    monkeypatch.setattr(run, "load_dataset", fake_dataset)
    monkeypatch.setenv("SC_TEST_FAIL", "01")
    before = tree_digest(own_base.target)
    rc, stdout, err = sc("--data", str(own_base.data), "--quarter", "2026Q2", "--out", str(own_base.out), "--force",
                         "--jobs", "3", "--notebooks-dir", str(own_base.root / "nb-00-01-05"))
    assert rc == 1
    assert tree_digest(own_base.target) == before  # --force never replaces a good report by a failed run
    first = next(line for line in err.splitlines() if line.startswith("servicechain run: error:"))
    # one clear line: which notebook, which cell, the error name and message
    assert "notebook 01_retention failed at cell 4" in first, err
    assert "ValueError: injected failure in 01" in first, err
    assert "Traceback" not in err
    path = next(line.split(":", 1)[1].strip() for line in err.splitlines() if line.startswith("executed notebook:"))
    failed_nb = Path(path)
    assert failed_nb.is_file() and ".failed" in failed_nb.parts and failed_nb.name == "01_retention.ipynb"
    assert not list(own_base.out.glob(".staging-*"))
    assert "report:" not in stdout
    man = json.loads((failed_nb.parents[1] / "manifest.json").read_text())
    assert man["status"] == "failed" and "01_retention" in man["error"]
    status = {n["name"]: n["status"] for n in man["notebooks"]}
    assert status["01_retention"] == "failed" and status["05_summary"] == "skipped"


def test_second_concurrent_run_refuses(own_base, monkeypatch):
    monkeypatch.setattr(run, "load_dataset", fake_dataset)
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from pathlib import Path
            from servicechain.run import quarter_lock
            with quarter_lock(Path({str(own_base.out)!r}), "2026Q2", "en"):
                print("locked", flush=True)
                time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = tree_digest(own_base.target)
        rc, _, err = sc("--data", str(own_base.data), "--quarter", "2026Q2", "--out", str(own_base.out), "--force",
                        "--notebooks-dir", str(own_base.root / "nb-00"))
        assert rc == 1
        assert "another run of 2026Q2 in en is in progress" in err and f"pid {holder.pid}" in err
        assert tree_digest(own_base.target) == before
    finally:
        holder.kill()
        holder.wait()
    # the holder died without cleaning up: its lock is not stale, it is simply free again
    with run.quarter_lock(own_base.out, "2026Q2", "en"):
        pass


def test_english_and_spanish_of_one_quarter_live_side_by_side(own_base, monkeypatch):
    """``base`` holds 2026Q2 in English in reports/2026Q2/. The Spanish run of the same quarter publishes next to
    it, in reports/2026Q2-es/, without --force and without touching the English report; running it again needs
    --force and replaces only the Spanish one; a run of the English one does not touch the Spanish one; a run of
    one language does not wait for the other's lock, only for its own."""
    monkeypatch.setattr(run, "load_dataset", fake_dataset)
    args = ("--data", str(own_base.data), "--quarter", "2026Q2", "--out", str(own_base.out),
            "--notebooks-dir", str(own_base.root / "nb-00"))
    en, es = own_base.target, own_base.out / "2026Q2-es"
    english = tree_digest(en)
    assert run.report_folder(own_base.out, "2026Q2", "en") == en
    assert run.report_folder(own_base.out, "2026Q2", "es") == es
    with run.quarter_lock(own_base.out, "2026Q2", "en"):  # an English run in progress does not stop the Spanish one
        rc, stdout, err = sc(*args, "--lang", "es")
    assert rc == 0, err
    assert f"report: {es / 'index.html'}" in stdout or "2026Q2-es/index.html" in stdout, stdout
    assert tree_digest(en) == english  # the English report is untouched
    for d, lang in ((en, "en"), (es, "es")):
        html = (d / "index.html").read_text(encoding="utf-8")
        assert f'<html lang="{lang}">' in html, d
        man = json.loads((d / "manifest.json").read_text())
        assert man["parameters"]["lang"] == lang and man["quarter"] == "2026Q2" and man["status"] == "ok"
        assert run.report_lang(d) == lang
        for n in man["notebooks"]:  # every link of the manifest lands in its own folder
            assert (d / n["html"]).is_file() and (d / n["executed"]).is_file()
        for href in __import__("re").findall(r'href="([^"#]+)', html):
            assert "/" not in href and (d / href).is_file(), (d.name, href)
    spanish = tree_digest(es)
    # the same language again: --force replaces it, and only it
    rc, _, err = sc(*args, "--lang", "es")
    assert rc == 1 and "2026Q2-es already exists" in err and "--force" in err
    rc, _, err = sc(*args, "--lang", "es", "--force")
    assert rc == 0, err
    assert tree_digest(en) == english and tree_digest(es) != spanish
    assert sorted(p.name for p in own_base.out.iterdir() if not p.name.startswith(".")) == ["2026Q2", "2026Q2-es"]
    spanish = tree_digest(es)
    rc, _, err = sc(*args, "--force")  # the English one (--lang en is the default)
    assert rc == 0, err
    assert tree_digest(es) == spanish and json.loads((en / "manifest.json").read_text())["parameters"]["lang"] == "en"
    assert not list(own_base.out.glob(".staging-*"))
    # the same language's lock still stops a second run of that language
    with run.quarter_lock(own_base.out, "2026Q2", "es"):
        rc, _, err = sc(*args, "--lang", "es", "--force")
    assert rc == 1 and "another run of 2026Q2 in es is in progress" in err


def test_report_folder_rules(tmp_path):
    out = tmp_path
    assert run.report_folder(out, "2026Q3", "es") == out / "2026Q3"  # alone: the quarter's folder, as always
    (out / "2026Q3").mkdir()
    (out / "2026Q3" / "manifest.json").write_text(json.dumps({"parameters": {"lang": "es-MX"}}))
    assert run.report_folder(out, "2026Q3", "es-MX") == out / "2026Q3"
    assert run.report_folder(out, "2026Q3", "es") == out / "2026Q3-es"  # another locale is another language
    assert run.report_folder(out, "2026Q3", "en") == out / "2026Q3-en"
    (out / "2026Q3" / "manifest.json").write_text("not json")  # unreadable: counts as ours (only --force replaces)
    assert run.report_folder(out, "2026Q3", "en") == out / "2026Q3"
    (out / "2026Q3-en").mkdir()  # once it has its own folder, it keeps it
    assert run.report_folder(out, "2026Q3", "en") == out / "2026Q3-en"
    assert run.STAGING_RX.match(".staging-2026Q3-es-MX-20261202T170000-99").group(1) == "2026Q3-es-MX"
    assert run.STAGING_RX.match(".staging-2026Q3-20261202T170000-99").group(1) == "2026Q3"  # an older run's
    assert run.STAGING_RX.match(".staging-2026Q3-en-20261202T170000-99").group(1) == "2026Q3-en"


def test_latest_resolution_and_spanish_index(spanish):
    assert spanish.target.name == "2026Q3"
    man = json.loads((spanish.target / "manifest.json").read_text())
    assert man["quarter_requested"] == "latest" and man["quarter"] == "2026Q3"
    assert man["parameters"]["quarter"] == "2026Q3" and man["parameters"]["lang"] == "es"
    s = (spanish.target / "index.html").read_text()
    assert '<html lang="es">' in s
    for word in ("El trimestre de un vistazo", "Personal", "Rotación voluntaria", "Retención de clientes",
                 "Valor del programa principal", "Costo de la rotación", "Informes detallados", "Calidad de los datos", "T3 2026", "frente a T2 2026",
                 "no disponible"):
        assert word in s, word
    for english in ("Headcount", "Voluntary turnover", "Detailed reports", "vs.", "Generated"):
        assert english not in s, english
    k3, k2 = k_of("2026Q3"), k_of("2026Q2")
    headcount = 1234 + 10 * k3
    assert f"{headcount:,}".replace(",", ".") in s  # 1.2xx
    rate = f"{(0.1 + k3 / 100) * 100:.1f}".replace(".", ",") + "\u00a0%"
    assert rate in s
    points = f"{(k3 - k2):+.1f}".replace(".", ",").replace("-", "−") + "\u00a0p. p."
    assert points in s
    assert "<svg" in s  # trend over the earlier quarter
    page = (spanish.target / "00_overview.html").read_text()
    assert "Empleados" in page and "Puesto" in page and "Región" in page and "1.234.568\u00a0€" in page
    assert '<html lang="es">' in page


def test_force_replaces_good_with_good_and_metrics_are_deterministic(spanish):
    again = (spanish.target / "metrics.json").read_bytes()
    assert again == spanish.first_metrics  # byte-identical across two runs
    man = json.loads((spanish.target / "manifest.json").read_text())
    assert man["options"]["force"] is True and not spanish.first_manifest["options"]["force"]
    assert man["started"] != spanish.first_manifest["started"]


# ------------------------------------------------------------------------------------- units (fast)


@pytest.mark.parametrize(
    "numbers, expected",
    [({0, 1, 2, 3, 4, 5}, {4: {1, 2}, 5: {0, 1, 2, 3, 4}}),
     ({0, 1, 4, 5}, {4: {1}, 5: {0, 1, 4}}),
     ({0, 1}, {}),
     ({2, 5}, {5: {2}})],
)
def test_dependencies(numbers, expected):
    deps = run.dependencies(numbers)
    assert {n: d for n, d in deps.items() if d} == expected
    order = run.topo_order(deps)
    assert sorted(order) == sorted(numbers)
    for n, d in deps.items():
        assert all(order.index(x) < order.index(n) for x in d)


def test_discover_snapshot_runs_only_00_and_01(tmp_path):
    for name in ("00_a.ipynb", "01_b.ipynb", "02_c.ipynb", "05_d.ipynb", "notes.ipynb", "1_x.ipynb"):
        (tmp_path / name).write_text("{}")
    assert sorted(run.discover(tmp_path, "panel")) == [0, 1, 2, 5]
    assert sorted(run.discover(tmp_path, "snapshot")) == [0, 1]


def test_publish_swaps_atomically(tmp_path):
    old, new = tmp_path / "2026Q3", tmp_path / ".staging"
    old.mkdir()
    (old / "a").write_text("old")
    new.mkdir()
    (new / "a").write_text("new")
    run.publish(new, old)
    assert (old / "a").read_text() == "new" and not new.exists()
    fresh = tmp_path / ".staging2"
    fresh.mkdir()
    run.publish(fresh, tmp_path / "2026Q4")
    assert (tmp_path / "2026Q4").is_dir()


def test_dumps_stable():
    from servicechain.report import dumps_stable

    a = dumps_stable({"b": 0.1 + 0.2, "a": [float("nan"), -0.0, 1 / 3], "c": {"z": 1, "y": True}})
    assert a == dumps_stable({"c": {"y": True, "z": 1}, "a": [float("inf"), 0.0, 0.333333331], "b": 0.3})
    assert a.index('"a"') < a.index('"b"') and "NaN" not in a


def test_real_loading(tmp_path):
    """The real loader resolves `latest` (skipped until loading/validation/demo are in place)."""
    pytest.importorskip("servicechain.validation")
    demo = pytest.importorskip("servicechain.demo")
    tables, truth = demo.generate(demo.DemoConfig(employees=60, quarters=3, end_quarter="2026Q3"))
    demo.write(tables, truth, tmp_path / "d")
    ds = run.load_dataset(tmp_path / "d", None)
    assert ds.kind == "panel"
    assert ds.latest_complete_quarter is None or quarters.parse(ds.latest_complete_quarter) <= quarters.parse("2026Q3")


def test_person_identifiers_are_found():
    ids = run._person_ids(fake_dataset(None))
    assert set(FAKE_IDS) <= ids
    assert run.report.find_identifiers("<td>pzfake00002</td> pzfake000021", ids) == ["pzfake00002"]
    assert run.report.find_identifiers("nothing here", ids) == []


def test_bad_data_stops_before_anything_runs(tmp_path):
    pytest.importorskip("servicechain.validation")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "employees.csv").write_text("a,b\n1,2\n")
    rc, _, err = sc("--data", str(tmp_path / "data"), "--out", str(tmp_path / "reports"),
                    "--notebooks-dir", str(NOTEBOOKS))
    assert rc == 1
    assert "did not pass validation" in err and "employee_id" in err and "Traceback" not in err
    assert not (tmp_path / "reports").exists()


def test_bad_assumptions_stop_before_anything_runs(tmp_path, monkeypatch):
    """A bad --assumptions file is a one-line error naming file and key, before data or notebooks."""
    monkeypatch.setattr(run, "load_dataset", fake_dataset)
    (tmp_path / "data").mkdir()
    bad = tmp_path / "assumptions.yml"
    bad.write_text("acquisition_cost_multiple: 6.5\nacquisition_cost_mutliple: 7\n")
    rc, _, err = sc("--data", str(tmp_path / "data"), "--out", str(tmp_path / "reports"),
                    "--assumptions", str(bad), "--notebooks-dir", str(NOTEBOOKS))
    assert rc == 1
    assert "assumptions.yml" in err and "acquisition_cost_mutliple" in err and "Traceback" not in err
    assert not (tmp_path / "reports").exists()


def test_export_html_unit(tmp_path):
    """A page without its own "# Title" gets the translated one; code, stderr, errors and bare reprs never show."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    nb = new_notebook(cells=[
        new_markdown_cell("<!-- 01 -->\nSome **text**."),
        new_code_cell("secret_code = 1", outputs=[
            new_output("stream", name="stderr", text="SECRET-STDERR"),
            new_output("execute_result", data={"text/plain": "PosixPath('/x')"}, execution_count=1),
            new_output("display_data", data={"text/html": "<p>kept-html</p>", "text/plain": "x"}),
            new_output("display_data", data={"text/markdown": "kept **markdown**"}),
        ]),
    ])
    src = tmp_path / "01_x.ipynb"
    nbformat.write(nb, src)
    out = tmp_path / "01_x.html"
    title = run.report.export_html(src, out, lang="es", quarter="2026Q3", number="01", threshold=5)
    s = out.read_text()
    assert title == "Retención" and "<h1>Retención</h1>" in s and "<title>Retención · T3 2026</title>" in s
    assert "kept-html" in s and "<strong>markdown</strong>" in s and "<strong>text</strong>" in s
    for bad in ("secret_code", "SECRET-STDERR", "PosixPath", "<script src", "sc-plotly-src", "Plotly.newPlot",
                "require", "MathJax"):  # a page without charts carries no plotly.js (only the table-scroll hint)
        assert bad not in s, bad
    assert s.count("<script") <= 1
    nb.cells[0].source = "# Own title"
    nbformat.write(nb, src)
    run.report.export_html(src, out, lang="es", quarter="2026Q3", number="01")
    s = out.read_text()
    assert "<h1>Own title</h1>" in s and "<h1>Retención</h1>" not in s


def _check_notebook(path: Path) -> None:
    import nbformat

    params = nbformat.v4.new_code_cell('data_dir = "data/demo"\nquarter = "latest"\nlang = "en"\nanonymity_threshold = 5\n'
                                       'seed = 7\nmapping = ""\nassumptions = ""\nresults_dir = ""')
    params.metadata["tags"] = ["parameters"]
    body = nbformat.v4.new_code_cell(textwrap.dedent("""\
        from pathlib import Path
        from servicechain import loading, notebook as nb
        ctx = nb.setup(data_dir=data_dir, quarter=quarter, lang=lang, anonymity_threshold=anonymity_threshold,
                       seed=seed, mapping=mapping, assumptions=assumptions, results_dir=results_dir)
        nb.save_results("check", {"validated": (Path(ctx.ds.data_dir) / loading.VALIDATED_MARKER).is_file(),
                                  "lazy": sorted(n for n, f in ctx.ds.tables.items() if not hasattr(f, "height")),
                                  "rows": {n: loading.height(f) for n, f in ctx.ds.tables.items()},
                                  "files": {n: p.name for n, p in ctx.ds.files.items()}})
        """))
    nb_ = nbformat.v4.new_notebook(cells=[params, body])
    nb_.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb_, str(path))


def test_real_run_validates_once_and_notebooks_read_the_validated_copy(tmp_path, monkeypatch):
    """The runner validates and pseudonymises once, writes the tables to its work folder (not the
    report, not the data folder) and hands that folder to the notebooks; the manifest keeps the user's."""
    demo = pytest.importorskip("servicechain.demo")
    from servicechain import loading, validation

    tables, truth = demo.generate(demo.DemoConfig(employees=60, quarters=3, end_quarter="2026Q3"))
    demo.write(tables, truth, tmp_path / "d")
    before = tree_digest(tmp_path / "d")
    (tmp_path / "nb").mkdir()
    _check_notebook(tmp_path / "nb" / "00_check.ipynb")
    calls = []
    real_check = validation.check
    monkeypatch.setattr(validation, "check", lambda *a, **k: calls.append(a) or real_check(*a, **k))
    monkeypatch.delenv("SC_TEST_FAIL", raising=False)
    rc, _, err = sc("--data", str(tmp_path / "d"), "--out", str(tmp_path / "reports"), "--notebooks-dir", str(tmp_path / "nb"))
    assert rc == 0, err
    assert len(calls) == 1  # in the runner; the notebook trusted validated.json
    ds = loading.load(tmp_path / "d")
    target = tmp_path / "reports" / ds.latest_complete_quarter
    check = json.loads((target / "metrics.json").read_text())["check"]
    assert check["validated"] is True and check["lazy"] == sorted(ds.tables)
    assert check["rows"] == {n: f.height for n, f in ds.tables.items()}
    assert check["files"] == {n: p.name for n, p in ds.files.items()}  # the user's file names, for the quality page
    man = json.loads((target / "manifest.json").read_text())
    assert man["parameters"]["data_dir"] == "d"  # outside the project: the folder's name, never a local path
    assert set(man["inputs"]) >= {f"data/{p}" for p in before} and "data/validated.json" not in man["inputs"]
    assert tree_digest(tmp_path / "d") == before  # nothing written into the user's data folder
    assert not list((tmp_path / "reports").glob(".staging-*"))  # the validated copy went with the work folder
    assert not list(target.rglob("validated.json")) and not list(target.rglob("*.parquet"))
    for p in [target / "metrics.json", *target.glob("*.html")]:
        assert ".staging-" not in p.read_text(encoding="utf-8"), p.name
    assert_nothing_local(target, tmp_path)


# ------------------------------------------------------------------------------------------ as-of date (issue 10)


def _demo_dir(tmp_path: Path) -> Path:
    demo = pytest.importorskip("servicechain.demo")
    tables, truth = demo.generate(demo.DemoConfig(employees=60, quarters=3, end_quarter="2026Q3"))
    demo.write(tables, truth, tmp_path / "d")
    return tmp_path / "d"


def test_run_refuses_rows_dated_after_the_as_of_date(tmp_path):
    """A few rows dated 2031 are an error naming file, column and rows: nothing runs, nothing is published
    (they used to make `latest` publish 2031Q2 with "0 people chose to leave")."""
    import polars as pl

    d = _demo_dir(tmp_path)
    fb = pl.read_parquet(d / "customer_feedback.parquet")
    late = fb.head(2).with_columns(pl.Series("date", [quarters.start("2031Q2")] * 2))
    pl.concat([fb, late]).write_parquet(d / "customer_feedback.parquet")
    rc, _, err = sc("--data", str(d), "--out", str(tmp_path / "reports"), "--as-of", "2026-11-30",
                    "--notebooks-dir", str(NOTEBOOKS))
    assert rc == 1 and "Traceback" not in err
    assert (f"customer_feedback.parquet, column date: dated after the as-of date 2026-11-30 (--as-of, default today)"
            f" - 2 rows (rows {fb.height + 1}, {fb.height + 2})") in err
    assert not (tmp_path / "reports").exists()


def test_run_refuses_an_incomplete_quarter_and_latest_is_the_last_complete_one(tmp_path, monkeypatch):
    """Customer feedback stops on 2026-08-31: an explicit --quarter 2026Q3 is refused (nothing published) unless
    --allow-incomplete; `latest` publishes 2026Q2, and the manifest records the as-of date and data_through."""
    import polars as pl

    d = _demo_dir(tmp_path)
    fb = pl.read_parquet(d / "customer_feedback.parquet")
    fb = fb.filter(pl.col("date") <= pl.date(2026, 8, 31))
    fb.write_parquet(d / "customer_feedback.parquet")
    last = fb["date"].max().isoformat()
    out = tmp_path / "reports"
    (tmp_path / "nb").mkdir()
    _check_notebook(tmp_path / "nb" / "00_check.ipynb")
    monkeypatch.delenv("SC_TEST_FAIL", raising=False)
    base = ("--data", str(d), "--out", str(out), "--notebooks-dir", str(tmp_path / "nb"), "--as-of", "2026-11-30")
    rc, _, err = sc(*base, "--quarter", "2026Q3")
    assert rc == 1 and "Traceback" not in err
    assert f"quarter 2026Q3 is not complete as of 2026-11-30: customer_feedback has data only through {last}" in err
    assert "--allow-incomplete" in err and not (out / "2026Q3").exists()
    rc, _, err = sc(*base)
    assert rc == 0, err
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["2026Q2"]
    man = json.loads((out / "2026Q2" / "manifest.json").read_text())
    assert man["quarter"] == "2026Q2" and man["dataset"]["as_of"] == "2026-11-30" and man["dataset"]["complete"]
    assert man["dataset"]["latest_complete_quarter"] == "2026Q2"
    assert man["dataset"]["data_through"]["customer_feedback"] == last
    assert man["dataset"]["data_through"]["customer_activity"] == "2026-09-30"
    assert set(man["dataset"]["data_through"]) >= {"survey", "customer_activity", "employees", "exits"}
    rc, _, err = sc(*base, "--quarter", "2026Q3", "--allow-incomplete")  # on purpose: published, and says so
    assert rc == 0, err
    man = json.loads((out / "2026Q3" / "manifest.json").read_text())
    assert man["dataset"]["complete"] is False and man["dataset"]["allow_incomplete"] is True
    assert "warning: 2026Q3 is not complete (customer_feedback has data only through" in (out / "2026Q3" / "run.log").read_text()
    index = (out / "2026Q3" / "index.html").read_text(encoding="utf-8")
    assert 'class="sc-warning"' in index and "Q3 2026 is not complete in the data" in index
    assert 'class="sc-warning"' not in (out / "2026Q2" / "index.html").read_text(encoding="utf-8")


def test_choose_quarter_rules(tmp_path):
    ds = types.SimpleNamespace(kind="panel", quarters=["2026Q1", "2026Q2", "2026Q3"], latest_complete_quarter="2026Q2",
                               incomplete_quarters={"2026Q3": "the survey has no answers in 2026Q3"})
    as_of = quarters.end("2026Q3")
    assert run.choose_quarter(ds, "latest", as_of) == "2026Q2"
    assert run.choose_quarter(ds, "2026Q1", as_of) == "2026Q1"
    with pytest.raises(run.UserError, match="2026Q3 is not complete as of 2026-09-30: the survey has no answers"):
        run.choose_quarter(ds, "2026Q3", as_of)
    assert run.choose_quarter(ds, "2026Q3", as_of, allow_incomplete=True) == "2026Q3"
    none = types.SimpleNamespace(kind="panel", quarters=["2026Q3"], latest_complete_quarter=None,
                                 incomplete_quarters={"2026Q3": "x"})
    with pytest.raises(run.UserError, match=r"no complete quarter as of 2026-09-30 \(2026Q3: x\)"):
        run.choose_quarter(none, "latest", as_of)
    snap = types.SimpleNamespace(kind="snapshot", quarters=[], latest_complete_quarter=None)
    assert run.choose_quarter(snap, "latest", dt.date(2026, 5, 1)) == "2026Q2"
    rc, _, err = sc("--data", str(tmp_path), "--out", str(tmp_path / "reports"), "--as-of", "tomorrow")
    assert rc == 1 and "--as-of must be a date YYYY-MM-DD, got 'tomorrow'" in err


# ------------------------------------------------------------------- nothing local in the published folder


def assert_nothing_local(folder: Path, *extra: Path) -> None:
    """No published file (html, ipynb, json, log) names the project, the home folder, the temporary
    folder or any of ``extra`` (e.g. the test's own folders) by its absolute path."""
    import tempfile

    root = Path(run.__file__).resolve().parents[2]
    needles = {str(root), str(root.resolve()), tempfile.gettempdir().rstrip("/") + "/"}
    if str(Path.home()) not in ("", "/"):
        needles.add(str(Path.home()).rstrip("/") + "/")
    for p in extra:
        needles |= {str(p), str(p.resolve())}
    files = [p for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix in (".html", ".ipynb", ".json", ".log")]
    assert any(p.suffix == ".ipynb" for p in files) and (folder / "manifest.json") in files
    for p in files:
        text = p.read_text(encoding="utf-8")
        for n in needles:
            assert n not in text, f"{p.relative_to(folder)} contains the local path {n}"


def test_published_folder_names_no_local_path(base):
    """manifest, executed notebooks (papermill's parameters, input/output paths), pages and log."""
    assert_nothing_local(base.target, base.root)
    man = json.loads((base.target / "manifest.json").read_text())
    assert man["parameters"]["data_dir"] == "data" and man["options"]["notebooks_dir"] == "nb-00-01-05"
    import nbformat

    nb = nbformat.read(base.target / "notebooks" / "01_retention.ipynb", as_version=4)
    injected = next(c.source for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert 'results_dir = ""' in injected and 'data_dir = "data"' in injected  # re-runnable interactively
    assert nb.metadata["papermill"]["output_path"] == "notebooks/01_retention.ipynb"
    assert nb.metadata["papermill"]["input_path"] == "nb-00-01-05/01_retention.ipynb"  # by the folder's name


def test_local_path_replacements_unit(tmp_path):
    import tempfile

    root, data, rep = tmp_path / "proj", tmp_path / "exports" / "hr", tmp_path / "out" / ".staging" / "report"
    (rep / "notebooks").mkdir(parents=True)
    inside = root / "data" / "demo"
    text = (f'"{data}/employees.csv" {root}/lib/x.py {root}2/keep {inside} "{tmp_path}/w/results" '
            f'{Path.home()}/notes {rep}/notebooks/a.ipynb {tempfile.gettempdir()}/other/x.py')
    (rep / "notebooks" / "a.ipynb").write_text(text)
    (rep / "plain.txt").write_text(text)  # not a published text type: left alone
    pairs = run.report.local_path_replacements(root, data, rep, tmp_path / "w", tmp_path / "w" / "results")
    assert run.report.scrub_local_paths(rep, pairs) == ["notebooks/a.ipynb"]
    out = (rep / "notebooks" / "a.ipynb").read_text()
    assert out.startswith('"hr/employees.csv" lib/x.py ') and " data/demo " in out and ' "" ' in out
    assert "notebooks/a.ipynb" in out and str(tmp_path) not in out and str(Path.home()) + "/" not in out
    assert out.endswith(" [tmp]/other/x.py") and "<" not in out  # placeholders are not HTML markup
    assert (rep / "plain.txt").read_text() == text
    assert run.report.public_path(inside, root) == "data/demo" and run.report.public_path(data, root) == "hr"


# ------------------------------------------------------------------- the pseudonymisation key


def _quiet() -> run.Progress:
    return run.Progress(stream=io.StringIO(), tty=False)


def test_manifest_records_the_key_fingerprint_never_the_key(base):
    from servicechain import privacy

    key = os.environ[privacy.ENV_KEY]
    man = json.loads((base.target / "manifest.json").read_text())
    assert man["pseudonym_key"] == {"fingerprint": privacy.key_fingerprint(key.encode()), "source": "environment"}
    for p in base.target.rglob("*"):
        if p.is_file():
            assert key.encode() not in p.read_bytes(), p.name


def test_another_key_stops_the_run_unless_new_key(own_base, monkeypatch):
    from servicechain import privacy

    old_fp = privacy.key_fingerprint(os.environ[privacy.ENV_KEY].encode())
    monkeypatch.setenv(privacy.ENV_KEY, "a-quite-different-key-0987654321")
    new_fp = privacy.key_fingerprint(b"a-quite-different-key-0987654321")
    monkeypatch.setattr(run, "load_dataset", fake_dataset)
    monkeypatch.delenv("SC_TEST_FAIL", raising=False)
    args = ("--data", str(own_base.data), "--quarter", "2026Q3", "--out", str(own_base.out),
            "--notebooks-dir", str(own_base.root / "nb-00"))
    rc, _, err = sc(*args)
    assert rc == 1 and err.count("\n") == 1, err
    assert "another pseudonymisation key" in err and old_fp in err and new_fp in err and "--new-key" in err
    assert "2026Q2" in err and not (own_base.out / "2026Q3").exists()
    rc, _, err = sc(*args, "--new-key")
    assert rc == 0, err
    assert json.loads((own_base.out / "2026Q3" / "manifest.json").read_text())["pseudonym_key"]["fingerprint"] == new_fp
    assert [fp for _, _, fp in run.report_fingerprints(own_base.out)] == [old_fp, new_fp]
    assert run.pseudonym_key(own_base.out, False, _quiet()).fingerprint == new_fp  # the latest report's key now


def test_missing_key_file_is_not_replaced_silently(base, tmp_path, monkeypatch):
    from servicechain import privacy

    checkout = tmp_path / "checkout"
    checkout.mkdir()
    monkeypatch.delenv(privacy.ENV_KEY)
    monkeypatch.setattr(privacy, "project_root", lambda: checkout)
    with pytest.raises(run.UserError, match=r"key file .*\.servicechain-key is missing.*--new-key"):
        run.pseudonym_key(base.out, False, _quiet())
    assert not (checkout / privacy.KEY_FILE_NAME).exists()
    progress = _quiet()
    info = run.pseudonym_key(base.out, True, progress)  # on purpose
    assert (checkout / privacy.KEY_FILE_NAME).stat().st_mode & 0o777 == 0o600
    assert any("created a new pseudonymisation key" in ln for ln in progress.lines)
    assert any(f"replaces {run.report_fingerprints(base.out)[-1][2]}" in ln for ln in progress.lines)
    assert info.key.decode() not in "".join(progress.lines)
    progress = _quiet()  # a first run (no report in --out) creates the key file, loudly
    (checkout / privacy.KEY_FILE_NAME).unlink()
    run.pseudonym_key(tmp_path / "empty", False, progress)
    assert any("created a new pseudonymisation key" in ln and "back it up" in ln for ln in progress.lines)


def test_key_file_readable_by_others_warns(tmp_path, monkeypatch):
    from servicechain import privacy

    monkeypatch.delenv(privacy.ENV_KEY)
    monkeypatch.setattr(privacy, "project_root", lambda: tmp_path)
    key = tmp_path / privacy.KEY_FILE_NAME
    key.write_text("k" * 32)
    key.chmod(0o640)
    progress = _quiet()
    run.pseudonym_key(tmp_path / "empty", False, progress)
    assert any("can be read by other users" in ln and "chmod 600" in ln for ln in progress.lines)
    key.chmod(0o600)
    progress = _quiet()
    run.pseudonym_key(tmp_path / "empty", False, progress)
    assert not any("other users" in ln for ln in progress.lines)


# ------------------------------------------------------------------- results do not depend on the key

KEYS = ("first-pseudonym-key-0123456789", "second-pseudonym-key-9876543210")


@pytest.fixture(scope="module")
def two_keys(tmp_path_factory):
    """The real suite on one small demo organisation, run twice with two pseudonymisation keys. Big
    enough (> 5,000 person-quarters with answers) that the retention model's former 5,000-row seeded
    subsample (drawn in pseudonym order) was taken: that made the figures differ by key."""
    demo = pytest.importorskip("servicechain.demo")
    root = tmp_path_factory.mktemp("two-keys")
    tables, truth = demo.generate(demo.DemoConfig(seed=11, employees=1800, quarters=6))
    demo.write(tables, truth, root / "data")
    targets = []
    for i, key in enumerate(KEYS):
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("SERVICECHAIN_PSEUDONYM_KEY", key)
            mp.delenv("SC_TEST_FAIL", raising=False)
            rc, _, err = sc("--data", str(root / "data"), "--out", str(root / f"reports-{i}"), "--jobs", "2")
        assert rc == 0, err
        (target,) = [d for d in (root / f"reports-{i}").iterdir() if d.is_dir() and not d.name.startswith(".")]
        targets.append(target)
    return types.SimpleNamespace(root=root, targets=targets)


def test_two_keys_give_byte_identical_metrics(two_keys):
    a, b = (t / "metrics.json" for t in two_keys.targets)
    assert a.read_bytes() == b.read_bytes()
    metrics = json.loads(a.read_text())
    assert metrics["retention"]["n_obs"] > 5000  # large enough for any row sampling to kick in
    fps = [json.loads((t / "manifest.json").read_text())["pseudonym_key"]["fingerprint"] for t in two_keys.targets]
    assert fps[0] != fps[1]  # the keys really differed


def test_real_suite_publishes_nothing_local(two_keys):
    for target in two_keys.targets:
        assert_nothing_local(target, two_keys.root)
        for p in target.rglob("*"):
            if p.is_file():
                data = p.read_bytes()
                assert all(k.encode() not in data for k in KEYS), p.name
