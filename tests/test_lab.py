"""JupyterLab never dirties the suite (jupyter_server_config.py + servicechain.labhook), and `make lab` starts headless."""

from __future__ import annotations

import copy
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from servicechain import labhook, run

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SUITE_NB = "notebooks/01_retention.ipynb"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_PLATFORM_DIRS="1",
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"), BROWSER="true")
    return env


def _wait_ready(proc: subprocess.Popen, port: int, token: str, timeout: float = 60) -> None:
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}: {proc.stderr.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.3)
    raise AssertionError("server did not answer /api/status in time")


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _put(port: int, token: str, path: str, nb: dict) -> dict:
    body = json.dumps({"type": "notebook", "format": "json", "content": nb}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/contents/{path}", data=body, method="PUT",
                                 headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def _with_outputs(nb: dict) -> dict:
    """What Lab sends after 'run all' and a parameter edit: outputs, counts, timing metadata, its own kernel."""
    nb = json.loads(json.dumps(nb))
    for i, c in enumerate(nb["cells"]):
        if c["cell_type"] == "code":
            c["execution_count"] = i + 1
            c["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x" * 100}]
            c["metadata"]["execution"] = {"iopub.status.busy": "2026-12-02T10:00:00Z"}
            if "parameters" in c["metadata"].get("tags", []):
                c["source"] = c["source"].replace("anonymity_threshold = 5", "anonymity_threshold = 10")
    nb["metadata"]["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb["metadata"]["language_info"] = {"name": "python", "version": "3.11.9", "mimetype": "text/x-python"}
    return nb


# ----------------------------------------------------------------------------- the hook on its own


def test_clean_notebook_strips_outputs_and_restores_parameters_and_kernel():
    stored = dict(nbformat.reads((ROOT / SUITE_NB).read_text(), as_version=4))
    dirty = _with_outputs(stored)
    dirty["cells"][-1]["source"] += "\n# an analyst's edit"
    clean = labhook.clean_notebook(copy.deepcopy(dirty), stored)
    code = [c for c in clean["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    assert all(set(c["metadata"]) <= {"tags"} for c in clean["cells"])
    assert clean["metadata"] == stored["metadata"]
    params = next(c for c in clean["cells"] if "parameters" in c["metadata"].get("tags", []))
    assert "anonymity_threshold = 5" in "".join(params["source"])
    assert clean["cells"][-1]["source"].endswith("# an analyst's edit"), "real edits are kept"
    mine = labhook.clean_notebook(copy.deepcopy(dirty), stored, keep_parameters=False)
    assert "anonymity_threshold = 10" in "".join(next(c for c in mine["cells"] if "parameters" in
                                                      c["metadata"].get("tags", []))["source"])


@pytest.mark.parametrize("path,suite", [("notebooks/01_retention.ipynb", True), ("/notebooks/examples/x.ipynb", True),
                                        ("scratch/mine.ipynb", False), ("01_retention.ipynb", False),
                                        ("notebooks/.ipynb_checkpoints/01-checkpoint.ipynb", False),
                                        ("notebooks/data.json", False)])
def test_only_suite_notebooks_are_cleaned(path, suite):
    assert labhook.is_suite_notebook(path) is suite


def test_run_never_picks_up_scratch_or_example_notebooks(tmp_path):
    nbs = tmp_path / "notebooks"
    (nbs / "examples").mkdir(parents=True)
    for p in (nbs / "00_a.ipynb", nbs / "examples" / "01_refit.ipynb", tmp_path / "scratch" / "02_mine.ipynb"):
        p.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nbformat.v4.new_notebook(), p)
    assert {n: p.name for n, p in run.discover(nbs).items()} == {0: "00_a.ipynb"}


def test_scratch_is_git_ignored():
    out = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", "scratch/mine.ipynb"])
    assert out.returncode == 0


# ----------------------------------------------------------------------------- a real server


def _git_clean(path: str) -> bool:
    out = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", path], capture_output=True, text=True)
    return out.stdout.strip() == ""


def test_saving_a_suite_notebook_through_the_contents_api_leaves_git_clean(tmp_path):
    port, token = _free_port(), secrets.token_hex(16)
    target = ROOT / SUITE_NB
    before = target.read_bytes()
    was_clean = _git_clean(SUITE_NB)
    scratch = ROOT / "scratch" / f"_test_lab_{token[:8]}.ipynb"
    proc = subprocess.Popen(
        [str(BIN / "jupyter"), "server", "--config=jupyter_server_config.py", "--no-browser", "--allow-root",
         f"--port={port}", "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
         "--ServerApp.port_retries=0"],
        cwd=ROOT, env=_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        _wait_ready(proc, port, token)
        dirty = _with_outputs(nbformat.reads(before.decode(), as_version=4))
        _put(port, token, SUITE_NB, dirty)
        assert target.read_bytes() == before, "the saved suite notebook differs from the stored one"
        if was_clean:
            assert _git_clean(SUITE_NB), "git status shows the suite notebook modified"
        # the analyst's own notebooks keep their outputs
        scratch.parent.mkdir(exist_ok=True)
        _put(port, token, f"scratch/{scratch.name}", dirty)
        saved = json.loads(scratch.read_text())
        assert any(c.get("outputs") for c in saved["cells"] if c["cell_type"] == "code")
    finally:
        _stop(proc)
        if target.read_bytes() != before:
            target.write_bytes(before)
        scratch.unlink(missing_ok=True)


def test_make_lab_starts_headless(tmp_path):
    port, token = _free_port(), secrets.token_hex(16)
    args = f"--no-browser --allow-root --port {port} --ServerApp.ip=127.0.0.1 --IdentityProvider.token={token}"
    # -o: do not (re)build the venv or the demo data for this check
    proc = subprocess.Popen(["make", "-s", "-o", ".venv/.installed", "-o", "data/demo/truth.json", "lab",
                             f"LAB_ARGS={args}"],
                            cwd=ROOT, env=_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        _wait_ready(proc, port, token, timeout=90)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents/?token={token}", timeout=10) as r:
            names = {e["name"] for e in json.loads(r.read())["content"]}
        assert {"notebooks", "docs", "scratch", "pyproject.toml"} <= names, "Lab runs from the project root"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}", timeout=10) as r:
            assert r.status == 200
    finally:
        _stop(proc)
