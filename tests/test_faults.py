"""Faults in unattended runs: SIGTERM / SIGKILL mid-run, a full disk, a dead kernel, `.failed/` housekeeping.

The signal tests start a real `servicechain run` (small demo data, one tiny notebook that sleeps
while the validated data are staged) in its own process group and kill it mid-run.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from servicechain import run

DATA_SUFFIXES = {".parquet", ".csv", ".arrow", ".feather", ".xlsx"}


def _notebook(path: Path) -> None:
    """One notebook: writes $SC_STARTED when it runs, then sleeps while $SC_SLEEP is set."""
    import nbformat

    params = nbformat.v4.new_code_cell('data_dir = "data/demo"\nquarter = "latest"\nlang = "en"\nanonymity_threshold = 5\n'
                                       'seed = 7\nmapping = ""\nassumptions = ""\nresults_dir = ""')
    params.metadata["tags"] = ["parameters"]
    body = nbformat.v4.new_code_cell(
        "import os, time\nfrom pathlib import Path\n"
        "if os.environ.get('SC_STARTED'):\n    Path(os.environ['SC_STARTED']).write_text('x')\n"
        "if os.environ.get('SC_SLEEP'):\n    time.sleep(float(os.environ['SC_SLEEP']))\n")
    nb = nbformat.v4.new_notebook(cells=[params, nbformat.v4.new_markdown_cell("# Check"), body])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    demo = pytest.importorskip("servicechain.demo")
    d = tmp_path_factory.mktemp("faults-demo") / "data"
    tables, truth = demo.generate(demo.DemoConfig(employees=60, quarters=3, end_quarter="2026Q3"))
    demo.write(tables, truth, d)
    return d


@pytest.fixture
def setup(tmp_path, demo_dir):
    nb_dir = tmp_path / "nb"
    nb_dir.mkdir()
    _notebook(nb_dir / "00_check.ipynb")
    tmp = tmp_path / "tmp"  # the runner's private work folders go here (TMPDIR)
    tmp.mkdir()
    return {"data": demo_dir, "out": tmp_path / "reports", "nb": nb_dir, "tmp": tmp, "started": tmp_path / "started"}


def _start(s: dict, sleep: str = "") -> tuple[subprocess.Popen, str]:
    mark = uuid.uuid4().hex
    env = {**os.environ, "TMPDIR": str(s["tmp"]), "SC_FAULT_MARK": mark, "SC_STARTED": str(s["started"])}
    env.pop("SC_SLEEP", None)
    if sleep:
        env["SC_SLEEP"] = sleep
    cmd = [sys.executable, "-m", "servicechain.cli", "run", "--data", str(s["data"]), "--out", str(s["out"]),
           "--notebooks-dir", str(s["nb"]), "--quarter", "2026Q2"]
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    return p, mark


def _marked(mark: str) -> list[int]:
    """Live processes (not zombies) that inherited this run's environment marker."""
    found = []
    needle = f"SC_FAULT_MARK={mark}".encode()
    for d in Path("/proc").glob("[0-9]*"):
        try:
            if needle in (d / "environ").read_bytes() and " Z " not in (d / "stat").read_text():
                found.append(int(d.name))
        except OSError:
            continue
    return found


def _wait_started(s: dict, p: subprocess.Popen, timeout: float = 60) -> None:
    t0 = time.monotonic()
    while not s["started"].exists():
        assert p.poll() is None, p.communicate()
        assert time.monotonic() - t0 < timeout, "the notebook never started"
        time.sleep(0.1)


def _no_orphans(mark: str, timeout: float = 15) -> None:
    t0 = time.monotonic()
    while _marked(mark):
        assert time.monotonic() - t0 < timeout, f"orphaned processes: {_marked(mark)}"
        time.sleep(0.2)


def _data_files(d: Path) -> list[Path]:
    if not d.exists():
        return []
    return [p for p in d.rglob("*") if p.is_file() and (p.suffix in DATA_SUFFIXES or p.name == "validated.json")]


def _next_run_cleans_up(s: dict) -> None:
    s["started"].unlink(missing_ok=True)
    p, mark = _start(s)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert not list(s["out"].glob(".staging-*")), "stale staging left"
    assert not list(s["tmp"].glob(run.WORK_PREFIX + "*")), "stale private work folder left"
    assert (s["out"] / "2026Q2" / "index.html").is_file()
    assert not _data_files(s["out"])
    _no_orphans(mark)


@pytest.mark.slow
def test_sigterm_mid_run_stops_everything_and_leaves_no_data(setup):
    s = setup
    p, mark = _start(s, sleep="120")
    _wait_started(s, p)
    # mid-run: the validated data exist, in the private folder only, with private modes
    work = list(s["tmp"].glob(run.WORK_PREFIX + "*"))
    assert len(work) == 1 and (work[0].stat().st_mode & 0o777) == 0o700
    staged = _data_files(work[0])
    assert staged and all((f.stat().st_mode & 0o077) == 0 for f in staged), "work data must be 0600"
    assert not _data_files(s["out"]), "individual-level data under --out"
    (staging,) = s["out"].glob(".staging-*")
    assert (staging.stat().st_mode & 0o777) == 0o700
    assert len(_marked(mark)) >= 3  # runner, notebook child, kernel
    os.killpg(p.pid, signal.SIGTERM)  # what Airflow sends on a timeout
    out, err = p.communicate(timeout=30)
    assert p.returncode == run.EXIT_SIGTERM, err
    assert "stopped by SIGTERM" in err.strip().splitlines()[-1] and "Traceback" not in err, err
    _no_orphans(mark)
    assert not list(s["out"].glob(".staging-*")) and not list(s["tmp"].glob(run.WORK_PREFIX + "*"))
    assert not (s["out"] / "2026Q2").exists() and not (s["out"] / ".failed").exists()
    _next_run_cleans_up(s)


@pytest.mark.slow
def test_sigkill_mid_run_leaves_no_data_no_orphans_and_the_next_run_cleans_up(setup):
    s = setup
    p, mark = _start(s, sleep="120")
    _wait_started(s, p)
    os.kill(p.pid, signal.SIGKILL)  # only the runner: its children must not outlive it
    p.communicate(timeout=30)
    _no_orphans(mark)
    assert not _data_files(s["out"]), "individual-level data under --out"
    assert list(s["out"].glob(".staging-*")), "test premise: a killed run leaves its staging"
    _next_run_cleans_up(s)


def test_sigint_handler_raises_interrupted_once():
    with run.signals_raise():
        with pytest.raises(run.Interrupted) as e:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
        assert e.value.signum == signal.SIGINT
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# ------------------------------------------------------------------ .failed/ and a full disk


def test_prune_failed_keeps_the_last_n(tmp_path):
    root = tmp_path / ".failed"
    for i in range(5):
        d = root / f"2026Q2-2026010{i}T000000"
        d.mkdir(parents=True)
        os.utime(d, (1_000_000 + i, 1_000_000 + i))
    gone = run.prune_failed(root, 3)
    assert sorted(p.name for p in root.iterdir()) == [f"2026Q2-2026010{i}T000000" for i in (2, 3, 4)]
    assert len(gone) == 2
    assert run.prune_failed(root, 0) and not list(root.iterdir())


def test_failed_run_keeps_notebooks_and_manifest_only_last_n(setup, monkeypatch, capsys):
    """A failing notebook, three times with --keep-failed 2: two attempts kept, no data in them."""
    from servicechain import cli

    s = setup
    import nbformat

    nb = nbformat.read(str(s["nb"] / "00_check.ipynb"), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("raise RuntimeError('boom')"))
    nbformat.write(nb, str(s["nb"] / "00_check.ipynb"))
    monkeypatch.setenv("TMPDIR", str(s["tmp"]))
    monkeypatch.setattr("tempfile.tempdir", None)
    for _ in range(3):
        rc = cli.main(["run", "--data", str(s["data"]), "--out", str(s["out"]), "--notebooks-dir", str(s["nb"]),
                       "--quarter", "2026Q2", "--keep-failed", "2"])
        assert rc == 1
        time.sleep(1.05)  # distinct stamps
    err = capsys.readouterr().err
    assert "failed at cell" in err and "boom" in err, err  # the cell number counts papermill's injected parameters cell
    kept = sorted((s["out"] / ".failed").iterdir())
    assert len(kept) == 2
    for k in kept:
        names = {p.relative_to(k).as_posix() for p in k.rglob("*") if p.is_file()}
        assert names == {"report/notebooks/00_check.ipynb", "report/manifest.json", "report/run.log"}, names
        project = str(Path(run.__file__).resolve().parents[2])
        for f in k.rglob("*"):  # the diagnosis is kept inside --out: no project, home or temp paths in it
            text = f.read_text(encoding="utf-8") if f.is_file() else ""
            for needle in (project, str(Path.home()).rstrip("/") + "/", str(s["tmp"])):
                assert needle not in text, (f.name, needle)
    assert not _data_files(s["out"]) and not list(s["out"].glob(".staging-*"))
    assert not list(s["tmp"].glob(run.WORK_PREFIX + "*"))


def test_full_disk_says_what_was_being_written_and_keeps_nothing(setup, monkeypatch, capsys):
    from servicechain import cli

    s = setup
    monkeypatch.setenv("TMPDIR", str(s["tmp"]))
    monkeypatch.setattr("tempfile.tempdir", None)

    def full(ds, dest, mapping):
        raise OSError(errno.ENOSPC, "No space left on device", str(dest / "employees.parquet"))

    monkeypatch.setattr(run, "stage_dataset", full)
    (s["out"] / "2026Q1").mkdir(parents=True, exist_ok=True)  # an earlier report tells what one takes
    (s["out"] / "2026Q1" / "index.html").write_bytes(b"x" * 3_000_000)
    rc = cli.main(["run", "--data", str(s["data"]), "--out", str(s["out"]), "--notebooks-dir", str(s["nb"]),
                   "--quarter", "2026Q2"])
    err = capsys.readouterr().err
    assert rc == run.EXIT_NO_SPACE, err
    assert "no space left" in err and "employees.parquet" in err and "Traceback" not in err
    assert "(about 3 MB, the size of the latest report, 2026Q1)" in err  # and what it would need
    assert not (s["out"] / ".failed").exists() and not list(s["out"].glob(".staging-*"))
    assert not list(s["tmp"].glob(run.WORK_PREFIX + "*"))


# ------------------------------------------------------------------ a dead kernel


def test_dead_kernel_reports_the_executing_cell(tmp_path):
    import nbformat

    cells = [nbformat.v4.new_markdown_cell("# t")]
    for i, status in enumerate(["completed", "completed", "completed", "pending"]):
        c = nbformat.v4.new_code_cell(f"x = {i}", execution_count=i + 1 if status == "completed" else None)
        c.metadata["papermill"] = {"status": status, **({"start_time": "2026-01-01T00:00:00"} if status == "completed" else {})}
        cells.append(c)
    path = tmp_path / "00_x.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), str(path))
    info = run.failed_cell(path)
    assert info is not None and info["cell"] == 4 and info["exec_count"] == 3
    # every cell finished: no cell to blame
    cells[-1].metadata["papermill"] = {"status": "completed", "start_time": "2026-01-01T00:00:01"}
    nbformat.write(nbformat.v4.new_notebook(cells=cells), str(path))
    assert run.failed_cell(path) is None


def test_a_kernel_that_never_started_is_started_again(tmp_path, monkeypatch):
    """'Kernel died before replying to kernel_info' (two kernels raced for a port on a busy machine): no cell ran,
    so the child starts the notebook again; any other failure is reported at once."""
    import papermill

    calls = []

    def flaky(*a, **k):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("Kernel died before replying to kernel_info")

    monkeypatch.setattr(papermill, "execute_notebook", flaky)
    monkeypatch.setattr(run.time, "sleep", lambda s: None)
    monkeypatch.setattr(run.signal, "signal", lambda *a: None)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"input": "in.ipynb", "output": "out.ipynb", "parameters": {}, "kernel_name": "x",
                                "cwd": str(tmp_path), "error_path": str(tmp_path / "error.json")}))
    assert run._child(str(spec)) == 0 and len(calls) == 2

    def broken(*a, **k):
        calls.append(1)
        raise RuntimeError("something else")

    calls.clear()
    monkeypatch.setattr(papermill, "execute_notebook", broken)
    assert run._child(str(spec)) == 3 and len(calls) == 1
    assert json.loads((tmp_path / "error.json").read_text())["evalue"] == "something else"
