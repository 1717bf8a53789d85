"""``servicechain run``: validate the data, execute the notebooks, publish the quarter's reports.

    servicechain run --data data/demo --quarter latest --out reports [--lang es] [--jobs 2] [--force]

What it writes, atomically, to ``<out>/<quarter>/``::

    index.html          the quarter at a glance (+ links)
    NN_name.html        one standalone offline page per notebook (no code)
    pack.html           every page in one file to forward (one copy of plotly.js)
    pack.pdf            with --pdf: the printed board pack (headline, executive summary, money)
    notebooks/          the executed notebooks (with stderr, for analysts)
    metrics.json        merged results of the notebooks (byte-identical for identical inputs)
    manifest.json       parameters, input hashes, versions, git commit, timings, status
    run.log             what happened

Everything is built in a staging folder under ``<out>`` and renamed into place only when
every notebook succeeded; a failed run keeps its work under ``<out>/.failed/`` and leaves the
previous report untouched. One lock per quarter stops two runs of the same quarter.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime as dt
import errno
import fcntl
import importlib.metadata as md
import json
import os
import platform
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from servicechain import i18n, privacy, quarters, report
from servicechain.cli import UserError
from servicechain.loading import file_sha256
from servicechain.notebook import project_root

KERNEL_NAME = "servicechain"
NB_RX = re.compile(r"^(\d{2})_[A-Za-z0-9_\-]+\.ipynb$")
SNAPSHOT_NOTEBOOKS = {0, 1}
WORK_PREFIX = "servicechain-work-"  # private temporary folder of a run (validated data, specs, logs)
WORK_MARKER = "work-dir"  # file in a staging folder naming its private work folder
# a staging folder's run: the quarter and (since languages live side by side) the language, ".staging-2026Q3-es-..."
STAGING_RX = re.compile(r"^\.staging-(\d{4}Q[1-4](?:-[A-Za-z]{2}(?:-[A-Za-z]{2})?)?)-\d")

# Exit codes (docs/scheduling.md lists them)
EXIT_OK = 0  # published
EXIT_ERROR = 1  # bad data, a failed notebook, a lock held, an existing report, bad options
EXIT_NO_SPACE = 3  # no space left on the device (nothing published; .failed/ not grown)
EXIT_SIGINT = 130  # interrupted (Ctrl-C / SIGINT): children stopped, staging removed
EXIT_SIGTERM = 143  # terminated (SIGTERM, e.g. an Airflow timeout): children stopped, staging removed
PACKAGES = ("servicechain", "polars", "pyarrow", "numpy", "scipy", "pandas", "statsmodels", "plotly",
            "papermill", "nbconvert", "nbformat", "nbclient", "ipykernel", "jinja2", "pyyaml", "fastexcel", "openpyxl")


class RunFailed(UserError):
    """A notebook failed: the message is the one clear line (+ where the executed notebook is)."""


class Interrupted(BaseException):
    """SIGTERM/SIGINT arrived: unwinds the run (children are stopped, staging is removed)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


# ------------------------------------------------------------------------------------------ CLI


def _locale_arg(value: str) -> str:
    """``--lang``: one of :data:`i18n.LOCALES` (normalised: ``es_mx`` -> ``es-MX``); anything else is a usage
    error (exit 2) that lists them."""
    try:
        return i18n.check_lang(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _use_item_labels(mapping: Path | None) -> None:
    """The user's names for their items (a mapping's ``label:``) for the pages this process writes (index.html, the
    pack); each notebook's setup() registers them in its own kernel. A bad mapping is left to validation to report."""
    from . import mapping as mapping_mod

    try:
        mapping_mod.use_item_labels(mapping_mod.load_mapping(mapping).item_labels() if mapping else None)
    except mapping_mod.MappingError:
        mapping_mod.use_item_labels(None)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, metavar="DIR", help="data folder (see data/README.md)")
    p.add_argument("--quarter", default="latest", help="2026Q3 or 'latest' (latest complete quarter; default)")
    p.add_argument("--as-of", default=None, metavar="YYYY-MM-DD",
                   help="the date the data are known on: later rows are errors, quarters after it incomplete (default: today)")
    p.add_argument("--allow-incomplete", action="store_true",
                   help="publish an explicit --quarter that is not complete (see docs/scheduling.md); refused otherwise")
    p.add_argument("--out", default="reports", metavar="DIR", help="reports folder (default: reports)")
    p.add_argument("--lang", default="en", type=_locale_arg, metavar="LOCALE",
                   help=f"report language and number/date formats: {', '.join(i18n.LOCALES)} "
                        "(es = es-ES, en = en-GB; default: en)")
    p.add_argument("--assumptions", default="", metavar="FILE", help="assumptions.yml for the money notebook")
    p.add_argument("--mapping", default="", metavar="FILE", help="mapping.yml to adapt your export")
    p.add_argument("--jobs", type=int, default=2, metavar="N", help="notebooks run in parallel (default: 2)")
    p.add_argument("--force", action="store_true", help="replace an existing good report (only by a new good one)")
    p.add_argument("--anonymity-threshold", type=int, default=5, metavar="N",
                   help="smallest group shown in any report (default: 5)")
    p.add_argument("--seed", type=int, default=7, help="random seed passed to the notebooks (default: 7)")
    p.add_argument("--notebooks-dir", default="notebooks", metavar="DIR", help="where NN_*.ipynb live")
    p.add_argument("--keep-failed", type=int, default=3, metavar="N",
                   help="failed attempts kept under <out>/.failed/ (executed notebooks + manifest; default: 3)")
    p.add_argument("--pdf", action="store_true",
                   help="also print the board pack (index headline, executive summary, money) to pack.pdf "
                        "with Chromium")
    p.add_argument("--new-key", action="store_true",
                   help="start with a pseudonymisation key other than the one the reports in --out were made "
                        "with (or create a missing key file); without it such a run stops")


# ------------------------------------------------------------------------------------------ progress


class Progress:
    """Live status block on a TTY; plain timestamped lines otherwise. Every line also goes to run.log."""

    SPIN = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
    MARK = {"waiting": "·", "ok": "✓", "failed": "✗", "skipped": "-", "cancelled": "-"}

    def __init__(self, stream=None, tty: bool | None = None):
        self.stream = stream or sys.stderr
        self.tty = (self.stream.isatty() and os.environ.get("TERM") != "dumb") if tty is None else tty
        self.lines: list[str] = []
        self.file = None
        self._drawn = 0
        self._tick = 0
        self._lock = threading.Lock()

    def attach(self, path: Path) -> None:
        self.file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self.file.write("".join(line + "\n" for line in self.lines))
        self.file.flush()

    def close(self) -> None:
        if self.file:
            self.file.close()
            self.file = None

    def log(self, msg: str, echo: bool = True) -> None:
        line = f"{dt.datetime.now().isoformat(timespec='seconds')} {msg}"
        with self._lock:
            self.lines.append(line)
            if self.file:
                self.file.write(line + "\n")
                self.file.flush()
            if echo:
                self._clear()
                print(line if not self.tty else msg, file=self.stream, flush=True)

    def _clear(self) -> None:
        if self.tty and self._drawn:
            self.stream.write(f"\x1b[{self._drawn}F\x1b[J")
            self._drawn = 0

    def draw(self, tasks: list[Task]) -> None:
        if not self.tty:
            return
        with self._lock:
            self._tick += 1
            self._clear()
            now = time.monotonic()
            rows = []
            for t in tasks:
                if t.status == "running":
                    mark = self.SPIN[self._tick % len(self.SPIN)]
                    secs = now - t.t0
                else:
                    mark = self.MARK.get(t.status, "?")
                    secs = t.seconds
                extra = f"{secs:6.1f}s" if secs is not None else ""
                rows.append(f"  {mark} {t.name:<32} {t.status:<9} {extra}")
            self.stream.write("\n".join(rows) + "\n")
            self.stream.flush()
            self._drawn = len(rows)

    def finish(self) -> None:
        with self._lock:
            self._drawn = 0  # leave the last block on screen


# ------------------------------------------------------------------------------------------ notebooks


@dataclass
class Task:
    number: int
    name: str
    path: Path
    deps: set[int] = field(default_factory=set)
    status: str = "waiting"  # waiting | running | ok | failed | skipped | cancelled
    t0: float = 0.0
    seconds: float | None = None
    error: dict | None = None
    started: str | None = None
    skip_reason: str | None = None  # the part cannot run on this data (servicechain.preconditions): why


def discover(nb_dir: Path, kind: str = "panel") -> dict[int, Path]:
    """``NN_*.ipynb`` by number; the suite is whatever notebooks exist. Snapshots run only 00 and 01."""
    found: dict[int, Path] = {}
    if not nb_dir.is_dir():
        raise UserError(f"notebooks folder {nb_dir} does not exist")
    for p in sorted(nb_dir.glob("*.ipynb")):
        m = NB_RX.match(p.name)
        if not m:
            continue
        n = int(m.group(1))
        if n in found:
            raise UserError(f"two notebooks numbered {n:02d}: {found[n].name} and {p.name}")
        found[n] = p
    if kind == "snapshot":
        found = {n: p for n, p in found.items() if n in SNAPSHOT_NOTEBOOKS}
    return found


def dependencies(numbers: set[int]) -> dict[int, set[int]]:
    """00-03 are independent; 04 (money) after 01 and 02; 05 (executive summary) after all others."""
    deps = {n: set() for n in numbers}
    if 4 in numbers:
        deps[4] = {1, 2} & numbers
    if 5 in numbers:
        deps[5] = numbers - {5}
    return deps


def topo_order(deps: dict[int, set[int]]) -> list[int]:
    done: list[int] = []
    left = dict(deps)
    while left:
        ready = sorted(n for n, d in left.items() if d <= set(done))
        if not ready:
            raise UserError(f"notebook dependencies form a cycle: {sorted(left)}")
        done.extend(ready)
        for n in ready:
            del left[n]
    return done


# ------------------------------------------------------------------------------------------ child process


KERNEL_START_ATTEMPTS = 3  # a kernel that dies before it answers (two kernels raced for a port on a busy machine)


def is_kernel_start_failure(e: BaseException) -> bool:
    """The kernel died before replying to kernel_info: no cell ran, so the notebook may simply be started again."""
    return isinstance(e, RuntimeError) and "before replying to kernel_info" in str(e)


def _child(spec_path: str) -> int:
    """Runs inside a subprocess: execute ONE notebook with papermill (in-process papermill in
    threads races on kernel ports). Writes ``error.json`` next to the spec on failure."""
    import warnings

    warnings.filterwarnings("ignore")
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    err_path = Path(spec["error_path"])
    _die_with_parent(spec.get("parent_pid"))
    signal.signal(signal.SIGTERM, _child_terminated)
    def execute() -> None:
        pm.execute_notebook(
            spec["input"],
            spec["output"],
            parameters=spec["parameters"],
            kernel_name=spec["kernel_name"],
            cwd=spec["cwd"],
            progress_bar=False,
            log_output=False,
            report_mode=False,
        )

    try:
        for attempt in range(KERNEL_START_ATTEMPTS):
            try:
                execute()
                break
            except RuntimeError as e:  # a kernel that never started ran no cell: starting again is harmless
                if not is_kernel_start_failure(e) or attempt == KERNEL_START_ATTEMPTS - 1:
                    raise
                time.sleep(1.0 + attempt)
    except PapermillExecutionError as e:
        err_path.write_text(json.dumps({"ename": e.ename, "evalue": e.evalue, "cell_index": e.cell_index,
                                        "exec_count": e.exec_count}), encoding="utf-8")
        return 2
    except BaseException as e:  # noqa: BLE001 - kernel died, bad notebook, ...
        lines = str(e).strip().splitlines()
        err_path.write_text(json.dumps({"ename": type(e).__name__, "evalue": lines[-1] if lines else ""}),
                            encoding="utf-8")
        return 3
    return 0


def _die_with_parent(parent_pid: int | None) -> None:
    """Linux: get SIGTERM when the runner dies, even by ``kill -9`` (no orphaned notebooks)."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM), 0, 0, 0)  # PR_SET_PDEATHSIG
    if parent_pid and os.getppid() != parent_pid:  # the runner died before prctl took effect
        os._exit(EXIT_SIGTERM)


def descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (from /proc; [] where there is no /proc)."""
    parent: dict[int, int] = {}
    for d in Path("/proc").glob("[0-9]*"):
        try:
            line = (d / "stat").read_text()
            parent[int(d.name)] = int(line.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, frontier = [], [pid]
    while frontier:
        kids = [c for c, pp in parent.items() if pp in frontier]
        found.extend(kids)
        frontier = kids
    return found


def _child_terminated(signum: int, _frame: Any) -> None:
    """SIGTERM in a notebook child: kill its kernel (jupyter starts it in its own session), then exit."""
    for pid in descendants(os.getpid()):
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL) if os.getpgid(pid) == pid else os.kill(pid, signal.SIGKILL)
    os._exit(128 + signum)


def failed_cell(executed: Path) -> dict | None:
    """Where an executed notebook failed: 1-based cell number in the source notebook, the
    execution count, the error name and message."""
    import nbformat

    try:
        nb = nbformat.read(str(executed), as_version=4)
    except Exception:  # noqa: BLE001
        return None
    pos = 0
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & {"injected-parameters", "papermill-error-cell-tag"}:
            continue
        pos += 1
        if cell.cell_type != "code":
            continue
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                return {"cell": pos, "exec_count": cell.get("execution_count"), "ename": o.get("ename"),
                        "evalue": o.get("evalue")}
        if cell.get("metadata", {}).get("papermill", {}).get("exception"):
            return {"cell": pos, "exec_count": cell.get("execution_count"), "ename": None, "evalue": None}
    return _executing_cell(nb)


def _executing_cell(nb: Any) -> dict | None:
    """The cell that was executing when the kernel died: papermill marks it "completed" in a
    ``finally`` (no error output), but every code cell after it is still "pending"."""
    pos, last, pending_after = 0, None, False
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & {"injected-parameters", "papermill-error-cell-tag"}:
            continue
        pos += 1
        if cell.cell_type != "code":
            continue
        meta = cell.get("metadata", {}).get("papermill", {})
        if meta.get("start_time"):
            last, pending_after = {"cell": pos, "exec_count": cell.get("execution_count"), "ename": None,
                                   "evalue": None}, False
        elif meta.get("status") == "pending":
            pending_after = True
    return last if last is not None and pending_after else None


def is_complete(executed: Path) -> bool:
    """Every code cell executed without error (never publish a partial notebook)."""
    import nbformat

    nb = nbformat.read(str(executed), as_version=4)
    pm = nb.metadata.get("papermill", {})
    if pm.get("exception"):
        return False
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return False
        status = cell.get("metadata", {}).get("papermill", {}).get("status")
        if status is not None and status != "completed":
            return False
    return True


# ------------------------------------------------------------------------------------------ helpers


def load_dataset(data_dir: Path, mapping: Path | None, as_of: dt.date | None = None):
    """Validate the data and plan its loading (``servicechain.loading.load(lazy=True)``); a seam for tests.

    Lazy: the runner only needs the verdict, the quarters and, later, to stream the
    validated tables once into the run's work folder (:func:`stage_dataset`).
    """
    from servicechain import loading

    return loading.load(data_dir, mapping, lazy=True, as_of=as_of)


def stage_dataset(ds: Any, dest: Path, mapping: Path | None) -> Any | None:
    """Write the validated, pseudonymised tables of ``ds`` once into ``dest`` (the run's work folder).

    The notebooks then read ``dest`` (``loading.load`` trusts its ``validated.json``), so the
    data are validated and pseudonymised once per run instead of once per notebook. Returns the
    Dataset read back from ``dest``, or None when ``ds`` is not a loaded Dataset (tests' fakes).
    """
    from servicechain import loading

    if not isinstance(ds, loading.Dataset):
        return None
    loading.write_validated(ds, dest, mapping)
    return loading.load(dest)


def build_run_panels(ds: Any, quarter: str, dest: Path, progress: "Progress", what: dict) -> dict[str, str]:
    """Build the person-quarter, unit-quarter and touchpoint panels of the validated ``ds`` as of ``quarter`` once
    into ``dest`` (the run's private work folder, 0700) and return the notebooks' environment naming it
    (``notebook.panels`` reads them instead of building them in every notebook)."""
    from servicechain import features
    from servicechain.notebook import PANELS_ENV

    what["writing"] = f"the panels (in {dest})"
    t0 = time.monotonic()
    old_umask = os.umask(0o077)
    try:
        features.build_panels(ds.tables, quarter, dest, key="run")
    except ValueError as exc:  # data too thin for a panel (one survey quarter...): the parts that need it are
        # skipped by skip_parts with their reason; the others build what they need themselves, as before
        shutil.rmtree(dest, ignore_errors=True)
        progress.log(f"panels not built once ({exc}); the notebooks that can run build their own", echo=False)
        return {}
    finally:
        os.umask(old_umask)
    progress.log(f"panels built once for the notebooks ({time.monotonic() - t0:.1f}s)", echo=False)
    return {PANELS_ENV: str(dest)}


def _is_data_error(exc: BaseException) -> bool:
    return type(exc).__name__ in ("DataError", "ReadError")


VALIDATED_FOR_ENV = "SERVICECHAIN_VALIDATED_FOR"  # the user's data folder ...
VALIDATED_DATA_ENV = "SERVICECHAIN_VALIDATED_DATA"  # ... and the run's validated copy of it


def kernel_env(work: Path) -> tuple[str, dict[str, str]]:
    """The kernel to use and the children's environment.

    ``servicechain`` (registered by ``make setup`` inside the venv) when it exists; otherwise
    a kernelspec of that name for THIS interpreter is written under the run's work folder.
    """
    from jupyter_client.kernelspec import KernelSpecManager

    env = dict(os.environ)
    lib = str(Path(report.__file__).resolve().parents[1])
    env["PYTHONPATH"] = lib + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    env.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    env["PYTHONWARNINGS"] = "ignore"
    # Reproducible numbers: threaded BLAS changes summation order between runs (noise ~1e-10);
    # notebooks already run in parallel. A user's explicit setting wins.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    try:
        specs = KernelSpecManager().find_kernel_specs()
    except Exception:  # noqa: BLE001
        specs = {}
    if KERNEL_NAME not in specs:
        kdir = work / "jupyter" / "kernels" / KERNEL_NAME
        kdir.mkdir(parents=True, exist_ok=True)
        (kdir / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "servicechain (this interpreter)", "language": "python"}), encoding="utf-8")
        jp = str(work / "jupyter")
        env["JUPYTER_PATH"] = jp + (os.pathsep + env["JUPYTER_PATH"] if env.get("JUPYTER_PATH") else "")
    return KERNEL_NAME, env


def input_hashes(data_dir: Path, extra: dict[str, Path | None]) -> dict[str, str]:
    out = {}
    for p in sorted(data_dir.rglob("*")):
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(data_dir).parts):
            out[f"data/{p.relative_to(data_dir).as_posix()}"] = file_sha256(p)
    for k, p in extra.items():
        if p is not None and p.is_file():
            out[k] = file_sha256(p)
    return out


def package_versions() -> dict[str, str]:
    v = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            v[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return v


def git_commit(root: Path) -> dict[str, Any]:
    try:
        c = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        if c.returncode != 0:
            return {"commit": None}
        d = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                           capture_output=True, text=True, timeout=10)
        return {"commit": c.stdout.strip(), "dirty": bool(d.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None}


def report_fingerprints(out: Path) -> list[tuple[str, str, str]]:
    """``(finished, quarter, key fingerprint)`` of every published report under ``out`` whose
    manifest records one, oldest first."""
    found = []
    for d in out.glob("[0-9][0-9][0-9][0-9]Q[1-4]*") if out.is_dir() else ():  # 2026Q3, 2026Q3-en, ...
        with contextlib.suppress(OSError, ValueError, AttributeError):
            man = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
            fp = (man.get("pseudonym_key") or {}).get("fingerprint")
            if fp:
                found.append((str(man.get("finished") or ""), d.name, str(fp)))
    return sorted(found)


def pseudonym_key(out: Path, new_key: bool, progress: Progress) -> privacy.KeyInfo:
    """The run's pseudonymisation key, checked against the reports already in ``out``.

    Keys must not change silently: a missing per-checkout key file is created only when
    ``out`` holds no report made with a key (or with ``--new-key``); a key whose fingerprint
    differs from that of the latest report in ``out`` stops the run unless ``--new-key``.
    Warns when the key file can be read by other users."""
    info = privacy.key_info()
    earlier = report_fingerprints(out)
    last = earlier[-1] if earlier else None
    how = ("restore the key those reports were made with, pass --new-key to start a new key on purpose, "
           "or use another --out")
    if info is None:  # the per-checkout key file does not exist
        path = privacy.project_root() / privacy.KEY_FILE_NAME
        if last and not new_key:
            raise UserError(f"the pseudonymisation key file {path} is missing, but {_rel(out)}/{last[1]} was made "
                            f"with a key (fingerprint {last[2]}): a new key would give everyone new pseudonyms; "
                            f"restore the file from your backup (or set ${privacy.ENV_KEY}), "
                            f"pass --new-key to start a new key on purpose, or use another --out")
        info = privacy.create_checkout_key()
        progress.log(f"warning: created a new pseudonymisation key in {path} (fingerprint {info.fingerprint}); "
                     f"back it up: later runs need the same key to give the same pseudonyms")
    warning = privacy.key_file_warning(info.path)
    if warning:
        progress.log(warning)
    if last and last[2] != info.fingerprint:
        if not new_key:
            raise UserError(f"{_rel(out)}/{last[1]} was made with another pseudonymisation key (fingerprint "
                            f"{last[2]}; this run's key from {info.describe()}: {info.fingerprint}); {how}")
        progress.log(f"warning: --new-key: pseudonymisation key {info.fingerprint} replaces {last[2]} "
                     f"(the key of {last[1]})")
    return info


def _person_ids(ds: Any) -> set[str]:
    import polars as pl

    ids: set[str] = set()
    keyed = getattr(ds, "keys", None)
    if keyed:  # a validated copy with integer keys (issue 17): the pseudonyms behind them are what could leak
        from servicechain import loading

        for s in loading.key_pseudonyms(ds).values():
            ids.update(x for x in s.to_list() if x is not None and len(x) >= 4)
        return ids
    tables = getattr(ds, "tables", None) or {}
    for name, cols in (("employees", ("employee_id", "manager_id")), ("snapshot", ("employee_id",)),
                       ("customer_activity", ("customer_id",))):
        df = tables.get(name) if isinstance(tables, dict) else None
        if df is None:
            continue
        present = [c for c in cols if c in df.collect_schema().names()]
        for c in present:
            col = pl.col(c).cast(pl.String).drop_nulls().unique()
            vals = df.lazy().select(col).collect().get_column(c) if isinstance(df, pl.LazyFrame) else df.select(col)[c]
            ids.update(x for x in vals.to_list() if len(x) >= 4)
    return ids


# ------------------------------------------------------------------------------------------ lock, publish


def run_key(quarter: str, lang: str | None) -> str:
    """What one run is of: ``2026Q3-es`` (a quarter in a language); ``2026Q3`` without a language."""
    return f"{quarter}-{lang}" if lang else quarter


def report_lang(folder: Path) -> str | None:
    """The language a published report folder was made in (its manifest's ``parameters.lang``), or None."""
    try:
        return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["parameters"]["lang"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def report_folder(out: Path, quarter: str, lang: str) -> Path:
    """Where the report of ``quarter`` in ``lang`` lives, so that the languages of a quarter live side by side:
    ``<out>/<quarter>/`` for the first language published (and for a run alone, as always), and
    ``<out>/<quarter>-<lang>/`` (``2026Q3-en``, ``2026Q3-es-MX``) for a language published while
    ``<out>/<quarter>/`` holds another one. A folder whose language cannot be read counts as this language's
    (so it is replaced only with ``--force``, never silently joined by a second copy)."""
    own, bare = out / run_key(quarter, lang), out / quarter
    if own.is_dir() or (bare.exists() and report_lang(bare) not in (lang, None)):
        return own
    return bare


@contextlib.contextmanager
def quarter_lock(out: Path, quarter: str, lang: str | None = None):
    """One run per quarter and language: ``<out>/.<quarter>-<lang>.lock`` (``.<quarter>.lock`` without a
    language) held with ``flock``, so the English and the Spanish report of a quarter can run at the same
    time. The kernel releases it when the holder dies, so a lock left by a crashed run is never stale; the
    file itself stays."""
    key = run_key(quarter, lang)
    path = out / f".{key}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            try:
                holder = json.loads(Path(path).read_text(encoding="utf-8") or "{}")
            except (OSError, ValueError):
                holder = {}
            who = f" (pid {holder.get('pid')} on {holder.get('host')}, started {holder.get('started')})" if holder else ""
            what = f"{quarter} in {lang}" if lang else quarter
            raise UserError(f"another run of {what} is in progress{who}; lock file {path}") from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "started": dt.datetime.now().isoformat(timespec="seconds")}).encode())
        os.fsync(fd)
        yield path
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@contextlib.contextmanager
def publish_lock(out: Path, quarter: str):
    """Held (waiting for it) while a run of ``quarter`` in any language picks its folder
    (:func:`report_folder`) and renames its report into place: two languages finishing together never
    both take ``<out>/<quarter>/``."""
    fd = os.open(out / f".{quarter}.publish.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _exchange(a: Path, b: Path) -> None:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE)."""
    libc = ctypes.CDLL(None, use_errno=True)
    fn = libc.renameat2  # AttributeError where unavailable
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(-100, os.fsencode(str(a)), -100, os.fsencode(str(b)), 2) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def publish(new: Path, target: Path) -> None:
    """Put ``new`` in place of ``target`` (a directory), atomically where the OS allows it."""
    if not target.exists():
        os.rename(new, target)
        return
    try:
        _exchange(new, target)  # target now holds the new report, `new` the old one
        shutil.rmtree(new, ignore_errors=True)
        return
    except (AttributeError, OSError):
        pass
    old = target.with_name(f".old-{target.name}-{os.getpid()}")
    os.rename(target, old)
    try:
        os.rename(new, target)
    except OSError:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _stamp() -> str:
    return dt.datetime.now().strftime("%Y%m%dT%H%M%S")


def _unique(path: Path) -> Path:
    p, i = path, 2
    while p.exists():
        p = path.with_name(f"{path.name}-{i}")
        i += 1
    return p


def _rel(p: Path) -> str:
    """A path as the user would type it: relative below the working directory, else absolute."""
    try:
        return str(Path(p).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


# ------------------------------------------------------------------------------------------ the quarter


def choose_quarter(ds: Any, requested: str, as_of: dt.date, allow_incomplete: bool = False,
                   progress: Progress | None = None) -> str:
    """The quarter to report: ``latest`` is the dataset's latest complete quarter; an explicit one
    must be in the data and complete (``loading.incomplete_reason``) unless ``allow_incomplete``,
    which publishes it with a warning in run.log. A snapshot has no dates: the as-of quarter."""
    kind = getattr(ds, "kind", "panel")
    known = list(getattr(ds, "quarters", []) or [])
    latest = getattr(ds, "latest_complete_quarter", None)
    incomplete = dict(getattr(ds, "incomplete_quarters", None) or {})
    if requested == "latest":
        if latest is not None:
            return latest
        if kind == "snapshot":
            return quarters.of_date(as_of)
        why = f" ({known[-1]}: {incomplete[known[-1]]})" if known and known[-1] in incomplete else ""
        raise UserError(f"the data has no complete quarter as of {as_of.isoformat()}{why}; "
                        "pass --quarter (and --allow-incomplete) to report one anyway")
    quarters.parse(requested)
    quarter = requested.strip()
    if kind == "panel" and known and quarter not in known:
        raise UserError(f"quarter {quarter} is not in the data ({known[0]}..{known[-1]})")
    why = incomplete.get(quarter)
    if why is None and not incomplete and latest and quarters.parse(quarter) > quarters.parse(latest):
        why = "it is after the latest complete quarter"  # a dataset that does not give reasons
    if why is None and kind == "panel" and quarters.end(quarter) > as_of:
        why = f"{quarter} ends after the as-of date {as_of.isoformat()}"
    if why is not None:
        if not allow_incomplete:
            raise UserError(f"quarter {quarter} is not complete as of {as_of.isoformat()}: {why}; latest complete: "
                            f"{latest or 'none'}. Nothing was run; pass --allow-incomplete to publish it anyway")
        if progress is not None:
            progress.log(f"warning: {quarter} is not complete ({why}); published because of --allow-incomplete")
    return quarter


# ------------------------------------------------------------------------------------------ the run


def execute_all(tasks: dict[int, Task], jobs: int, make_cmd: Callable[[Task], tuple[list[str], Path]],
                cwd: Path, env: dict[str, str], progress: Progress) -> Task | None:
    """Run the DAG with up to ``jobs`` notebooks at once. Returns the first failed task, or None."""
    procs: dict[int, subprocess.Popen] = {}
    cancel = threading.Event()
    order = [tasks[n] for n in topo_order({n: t.deps for n, t in tasks.items()})]

    def run_one(t: Task) -> int:
        cmd, log_path = make_cmd(t)
        with open(log_path, "wb") as logf:
            p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=logf, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
            procs[t.number] = p
            while True:
                try:
                    return p.wait(timeout=0.2)
                except subprocess.TimeoutExpired:
                    if cancel.is_set():
                        with contextlib.suppress(ProcessLookupError):
                            os.killpg(p.pid, 15)
                        try:
                            p.wait(timeout=5)
                        except subprocess.TimeoutExpired:
                            os.killpg(p.pid, 9)
                        return -15

    failed: Task | None = None
    running: dict[Future, Task] = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        try:
            while True:
                if failed is None:
                    for t in order:
                        if len(running) >= jobs:
                            break
                        if t.status == "waiting" and all(tasks[d].status in ("ok", "skipped") for d in t.deps):
                            t.status, t.t0 = "running", time.monotonic()
                            t.started = dt.datetime.now().isoformat(timespec="seconds")
                            progress.log(f"start   {t.name}", echo=not progress.tty)
                            running[pool.submit(run_one, t)] = t
                if not running:
                    break
                done, _ = wait(list(running), timeout=0.25, return_when=FIRST_COMPLETED)
                for f in done:
                    t = running.pop(f)
                    t.seconds = round(time.monotonic() - t.t0, 3)
                    try:
                        rc = f.result()
                    except Exception as e:  # noqa: BLE001
                        rc, t.error = -1, {"ename": type(e).__name__, "evalue": str(e)}
                    if t.status == "running" and rc == 0:
                        t.status = "ok"
                        progress.log(f"done    {t.name} ({t.seconds:.1f}s)", echo=not progress.tty)
                    elif cancel.is_set() and rc == -15:
                        t.status = "cancelled"
                        progress.log(f"cancel  {t.name}", echo=not progress.tty)
                    else:
                        t.status = "failed"
                        progress.log(f"FAILED  {t.name} ({t.seconds:.1f}s)", echo=not progress.tty)
                        if failed is None:
                            failed = t
                            cancel.set()
                progress.draw(list(tasks.values()))
        except BaseException:
            cancel.set()
            raise
        finally:
            for t in tasks.values():
                if t.status == "waiting":
                    t.status = "skipped"
            progress.draw(list(tasks.values()))
            progress.finish()
    return failed


def main(args: argparse.Namespace) -> int:
    t_start = time.monotonic()
    started = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    root = project_root()
    progress = Progress()
    lang = i18n.check_lang(args.lang)
    if args.jobs < 1:
        raise UserError("--jobs must be 1 or more")
    if args.anonymity_threshold < 1:
        raise UserError("--anonymity-threshold must be 1 or more")
    if getattr(args, "pdf", False):
        report.chromium_path()  # no Chromium: say so before any notebook runs
    data_dir = Path(args.data).expanduser().resolve()
    if not data_dir.is_dir():
        raise UserError(f"data folder {args.data} does not exist")
    mapping = Path(args.mapping).expanduser().resolve() if args.mapping else None
    assumptions = Path(args.assumptions).expanduser().resolve() if args.assumptions else None
    for flag, p in (("--mapping", mapping), ("--assumptions", assumptions)):
        if p is not None and not p.is_file():
            raise UserError(f"{flag} file {p} does not exist")
    _use_item_labels(mapping)
    if assumptions is not None:  # a bad file is a clear error before any notebook starts
        from . import assumptions as assumptions_mod

        loaded = assumptions_mod.load(assumptions)
        if str(lang).startswith("es") and (warning := assumptions_mod.source_es_warning(loaded, assumptions.name)):
            progress.log(f"warning: {warning}")
    nb_dir = Path(args.notebooks_dir).expanduser()
    if not nb_dir.is_absolute():
        nb_dir = nb_dir.resolve() if nb_dir.exists() else (root / nb_dir)
    out = Path(args.out).expanduser().resolve()

    from servicechain.validation import parse_as_of

    as_of = parse_as_of(args.as_of)
    args.as_of = as_of.isoformat()  # the manifest records the date used
    # the key, checked against the reports in --out, before the loader would use (or create) it
    args.pseudonym_key = pseudonym_key(out, bool(getattr(args, "new_key", False)), progress)

    # 1. validate the data first
    progress.log(f"validate {_rel(data_dir)} as of {args.as_of}")
    try:
        ds = load_dataset(data_dir, mapping, as_of=as_of)
    except Exception as e:
        if _is_data_error(e):
            print(str(e), file=sys.stderr)
            print(f"servicechain run: the data in {args.data} did not pass validation; nothing was run.",
                  file=sys.stderr)
            return 1
        raise
    kind = getattr(ds, "kind", "panel")

    # 2. the quarter
    quarter = choose_quarter(ds, args.quarter, as_of, args.allow_incomplete, progress)
    progress.log(f"quarter {quarter} ({kind} data, language {lang})")

    # 3. the notebooks
    found = discover(nb_dir, kind)
    if not found:
        raise UserError(f"no notebooks NN_*.ipynb in {nb_dir}")
    deps = dependencies(set(found))
    tasks = {n: Task(n, p.stem, p, deps[n]) for n, p in sorted(found.items())}

    out.mkdir(parents=True, exist_ok=True)
    target = report_folder(out, quarter, lang)  # this language's folder; another language's is not touched
    if target.exists() and not args.force:
        raise UserError(f"{_rel(target)} already exists; pass --force to replace it with a new run")

    if args.keep_failed < 0:
        raise UserError("--keep-failed must be 0 or more")

    with quarter_lock(out, quarter, lang), signals_raise():
        target = report_folder(out, quarter, lang)
        if target.exists() and not args.force:  # published while we waited for nothing: still refuse
            raise UserError(f"{_rel(target)} already exists; pass --force to replace it with a new run")
        for old in clean_stale(out, run_key(quarter, lang)):
            progress.log(f"removed the unfinished run {old} left by a run that was killed")
        staging = out / f".staging-{run_key(quarter, lang)}-{_stamp()}-{os.getpid()}"
        rep = staging / "report"
        work: Path | None = None
        what = {"writing": f"the staging folder {_rel(staging)}"}  # what was being written (for a full disk)
        try:
            os.mkdir(staging, 0o700)
            os.chmod(staging, 0o700)
            (rep / "notebooks").mkdir(parents=True)
            # individual-level work data never lives under --out: a private temporary folder (0700)
            work = Path(tempfile.mkdtemp(prefix=WORK_PREFIX))
            (staging / WORK_MARKER).write_text(str(work), encoding="utf-8")
            for d in (work / "results", work / "logs", work / "specs"):
                d.mkdir(mode=0o700)
            progress.attach(rep / "run.log")
            return _run_in_staging(args, progress, ds, kind, quarter, lang, data_dir, mapping, assumptions,
                                   root, out, target, staging, rep, work, tasks, started, t_start, what)
        except Interrupted as e:
            name = signal.Signals(e.signum).name
            progress.close()
            _remove_run(staging, work)
            print(f"servicechain run: stopped by {name}; the notebooks were stopped, the unfinished report "
                  f"removed, nothing published", file=sys.stderr, flush=True)
            return EXIT_SIGTERM if e.signum == signal.SIGTERM else EXIT_SIGINT
        except OSError as e:
            if e.errno != errno.ENOSPC:
                _keep_failed(out, quarter, staging, work, progress, args.keep_failed)
                raise
            progress.close()
            _remove_run(staging, work)  # a full disk: keep nothing, so a retry is not made worse
            where = e.filename or what["writing"]
            print(f"servicechain run: error: no space left on the device while writing {where}"
                  f" ({_free(Path(str(where)))}); nothing was published and nothing kept under .failed/. "
                  f"A run needs room for the validated data in {tempfile.gettempdir()} and for one report "
                  f"under {_rel(out)}{_report_size_hint(out)}", file=sys.stderr, flush=True)
            return EXIT_NO_SPACE
        except BaseException:
            _keep_failed(out, quarter, staging, work, progress, args.keep_failed)
            raise
        finally:
            progress.close()
            if work is not None:
                shutil.rmtree(work, ignore_errors=True)


@contextlib.contextmanager
def signals_raise():
    """While the run holds its lock, SIGTERM and SIGINT raise :class:`Interrupted` in the main
    thread (once: a second signal while cleaning up is ignored). Elsewhere (threads): no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired: list[int] = []

    def handler(signum: int, _frame: Any) -> None:
        if fired:
            return
        fired.append(signum)
        raise Interrupted(signum)

    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _remove_run(staging: Path, work: Path | None) -> None:
    if work is not None:
        shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)


def _report_size_hint(out: Path) -> str:
    """" (about 9 MB, the size of the latest report)" when an earlier report tells how much a report takes."""
    try:
        done = sorted(d for d in out.iterdir() if d.is_dir() and re.fullmatch(r"\d{4}Q[1-4]", d.name))
        if not done:
            return ""
        size = sum(f.stat().st_size for f in done[-1].rglob("*") if f.is_file())
    except OSError:
        return ""
    return f" (about {max(1, round(size / 1e6))} MB, the size of the latest report, {done[-1].name})"


def _free(path: Path) -> str:
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        return f"{shutil.disk_usage(p).free / 1e6:.0f} MB free there"
    except OSError:
        return "free space unknown"


def _keep_failed(out: Path, quarter: str, staging: Path, work: Path | None, progress: Progress, keep: int,
                 failed_dir: Path | None = None) -> Path | None:
    """Keep a failed attempt's executed notebooks, manifest and log (never data) under
    ``<out>/.failed/<quarter>-<stamp>/report/``; only the last ``keep`` attempts stay."""
    progress.close()
    if work is not None:
        shutil.rmtree(work, ignore_errors=True)
    rep = staging / "report"
    try:
        if keep > 0 and rep.is_dir():
            for p in rep.iterdir():
                if p.name not in ("notebooks", "manifest.json", "run.log"):
                    shutil.rmtree(p) if p.is_dir() else p.unlink()
            failed_dir = failed_dir or _unique(out / ".failed" / f"{quarter}-{_stamp()}")
            failed_dir.mkdir(parents=True, exist_ok=True)
            os.rename(rep, failed_dir / "report")
            # diagnosis needs the cell and the error, not the user's home or temp folders
            report.scrub_local_paths(failed_dir / "report", report.local_path_replacements(
                project_root(), report_dir=staging / "report", work=work, others=(out,)))
        else:
            failed_dir = None
    except OSError:
        failed_dir = None
    shutil.rmtree(staging, ignore_errors=True)
    prune_failed(out / ".failed", keep)
    return failed_dir


def prune_failed(failed_root: Path, keep: int) -> list[Path]:
    """Remove all but the ``keep`` most recent attempts under ``.failed/``; returns the removed."""
    if not failed_root.is_dir():
        return []
    attempts = sorted((p for p in failed_root.iterdir() if p.is_dir()), key=lambda p: (p.stat().st_mtime, p.name))
    gone = attempts[:max(0, len(attempts) - keep)]
    for p in gone:
        shutil.rmtree(p, ignore_errors=True)
    return gone


def clean_stale(out: Path, held: str) -> list[str]:
    """Remove ``.staging-*`` folders (and the private work folders they name) of runs that died:
    those whose quarter lock is free. ``held`` is the quarter whose lock this run holds."""
    removed = []
    for d in sorted(out.glob(".staging-*")):
        m = STAGING_RX.match(d.name)
        if not m or not d.is_dir():
            continue
        q = m.group(1)  # the run's key: quarter and language (older runs: the quarter)
        if q != held and not _lock_is_free(out / f".{q}.lock"):
            continue
        marker = d / WORK_MARKER
        with contextlib.suppress(OSError, ValueError):
            w = Path(marker.read_text(encoding="utf-8").strip())
            if w.name.startswith(WORK_PREFIX) and w.is_dir():
                shutil.rmtree(w, ignore_errors=True)
        shutil.rmtree(d, ignore_errors=True)
        removed.append(d.name)
    return removed


def _lock_is_free(path: Path) -> bool:
    if not path.exists():
        return True
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def write_manifest(rep: Path, status: str, args, ds, kind, quarter, params, data_dir, mapping, assumptions, root,
                   kernel, tasks: dict[int, Task], started: str, t_start: float, error: str | None = None) -> None:
    """``manifest.json``: parameters, input hashes, versions, git commit, timings, status."""
    finished = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    manifest = {
        "status": status,
        "error": error,
        "quarter": quarter,
        "quarter_requested": args.quarter,
        "dataset": {"kind": kind, "quarters": list(getattr(ds, "quarters", []) or []),
                    "latest_complete_quarter": getattr(ds, "latest_complete_quarter", None),
                    "as_of": args.as_of, "data_through": dict(getattr(ds, "data_through", None) or {}),
                    "complete": quarter not in (getattr(ds, "incomplete_quarters", None) or {}),
                    "allow_incomplete": bool(getattr(args, "allow_incomplete", False))},
        # paths relative to the project (or a folder's name when outside it): nothing local is published
        "parameters": {k: (report.public_path(v, root) if k in ("data_dir", "mapping", "assumptions") and v else v)
                       for k, v in params.items() if k != "results_dir"},
        "options": {"jobs": args.jobs, "force": bool(args.force),
                    "notebooks_dir": report.public_path(Path(tasks[min(tasks)].path).parent, root)},
        "pseudonym_key": _key_record(args),
        "inputs": input_hashes(data_dir, {"mapping": mapping, "assumptions": assumptions,
                                          **{f"notebooks/{t.path.name}": t.path for t in tasks.values()}}),
        "packages": package_versions(),
        "git": git_commit(root),
        "kernel": kernel,
        "started": started,
        "finished": finished,
        "seconds": round(time.monotonic() - t_start, 3),
        "notebooks": [{"number": f"{t.number:02d}", "name": t.name, "status": t.status, "seconds": t.seconds,
                       "started": t.started, "depends_on": [f"{d:02d}" for d in sorted(t.deps)],
                       "html": f"{t.name}.html", "executed": f"notebooks/{t.path.name}",
                       **({"skipped_because": t.skip_reason} if t.skip_reason else {})} for t in tasks.values()],
    }
    (rep / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _key_record(args: Any) -> dict[str, str] | None:
    """The manifest's record of the key: its fingerprint and where it came from, never the key."""
    info = getattr(args, "pseudonym_key", None)
    return {"fingerprint": info.fingerprint, "source": info.source} if info is not None else None


def skip_parts(tasks: dict[int, Task], ds: Any, kind: str, quarter: str, lang: str, rep: Path,
               progress: Progress, results_dir: Path | None = None) -> list[Task]:
    """Mark the notebooks whose part of the suite cannot run on this data as skipped.

    A notebook names its part in its metadata (``"servicechain": {"part": "retention"}``);
    :func:`servicechain.preconditions.check` says whether the part can run. A skipped notebook
    is replaced by a short one saying why (in the report language), exported like the others;
    the results it would have saved without a model (the quarter at a glance) go to ``results_dir``.
    """
    import nbformat

    from servicechain import preconditions

    names = {n: nbformat.read(str(t.path), as_version=4).metadata.get("servicechain", {}).get("part")
             for n, t in tasks.items()}
    if not any(names.values()):
        return []
    try:
        parts = preconditions.check(getattr(ds, "tables", None) or {}, kind, quarter, list(getattr(ds, "items", [])))
    except Exception as exc:  # noqa: BLE001 - never worse than before: run every notebook
        progress.log(f"warning: could not check which parts can run ({type(exc).__name__}: {exc}); running all")
        return []
    skipped = []
    for n, t in tasks.items():
        part = parts.get(names[n] or "")
        if part is None or part.can_run:
            continue
        t.status, t.seconds, t.skip_reason = "skipped", 0.0, part.reason("en")
        nbformat.write(preconditions.skipped_notebook(t.number, part.reason(lang), lang),
                       str(rep / "notebooks" / t.path.name))
        progress.log(f"skip    {t.name}: {t.skip_reason}")
        skipped.append(t)
        if results_dir is not None:
            from servicechain.notebook import save_results

            fallback = preconditions.fallback_results(part.name, ds.tables, quarter, getattr(ds, "as_of", None))
            for name, res in fallback.items():
                save_results(name, res, results_dir=results_dir)
    return skipped


def _run_in_staging(args, progress, ds, kind, quarter, lang, data_dir, mapping, assumptions, root, out, target,
                    staging, rep, work, tasks, started, t_start, what) -> int:
    kernel, env = kernel_env(work)
    env["SERVICECHAIN_ROOT"] = str(root)
    # Validate once: the checked, pseudonymised tables go to the work folder (never published,
    # never the user's data folder) and the notebooks read them from there.
    staged_dir = work / "data"
    t0 = time.monotonic()
    what["writing"] = f"the validated copy of the data (in {work})"
    old_umask = os.umask(0o077)  # data files 0600, folders 0700
    try:
        staged = stage_dataset(ds, staged_dir, mapping)
    finally:
        os.umask(old_umask)
    what["writing"] = f"the executed notebooks in {_rel(rep)}"
    if staged is not None:
        progress.log(f"validated data written once for the notebooks ({time.monotonic() - t0:.1f}s)", echo=False)
        ds = staged
    params = {
        "data_dir": str(data_dir),
        "quarter": quarter,
        "lang": lang,
        "anonymity_threshold": int(args.anonymity_threshold),
        "seed": int(args.seed),
        "mapping": str(mapping) if mapping else "",
        "assumptions": str(assumptions) if assumptions else "",
        "results_dir": str(work / "results"),
    }
    # The notebooks keep the user's data folder as their parameter (the executed notebooks under
    # notebooks/ can be re-run by an analyst); the environment tells nb.setup to read the validated
    # copy of exactly that folder instead, for this run only.
    nb_params = params
    if staged is not None:
        env[VALIDATED_FOR_ENV] = str(data_dir)
        env[VALIDATED_DATA_ENV] = str(staged_dir)
        # the panels too, once, next to the validated copy (issue 17): notebooks only read them
        # (SERVICECHAIN_PANEL_CACHE=0: every notebook builds its own, as before; tests compare the two)
        if kind == "panel" and os.environ.get("SERVICECHAIN_PANEL_CACHE", "1") != "0":
            env.update(build_run_panels(ds, quarter, work / "panels", progress, what))
            what["writing"] = f"the executed notebooks in {_rel(rep)}"
    skip_parts(tasks, ds, kind, quarter, lang, rep, progress, work / "results")
    progress.log(f"run {len(tasks)} notebooks with {args.jobs} job(s): {', '.join(t.name for t in tasks.values())}")

    def make_cmd(t: Task) -> tuple[list[str], Path]:
        spec = {"input": str(t.path), "output": str(rep / "notebooks" / t.path.name), "parameters": nb_params,
                "parent_pid": os.getpid(), "kernel_name": kernel, "cwd": str(root), "error_path": str(work / "specs" / f"{t.name}.error.json")}
        sp = work / "specs" / f"{t.name}.json"
        sp.write_text(json.dumps(spec), encoding="utf-8")
        code = "import sys; from servicechain.run import _child; sys.exit(_child(sys.argv[1]))"
        return [sys.executable, "-c", code, str(sp)], work / "logs" / f"{t.name}.log"

    failed = execute_all(tasks, args.jobs, make_cmd, root, env, progress)

    if failed is not None:
        failed_dir = _unique(out / ".failed" / f"{quarter}-{_stamp()}")
        executed = rep / "notebooks" / failed.path.name
        info = failed_cell(executed) if executed.exists() else None
        ep = work / "specs" / f"{failed.name}.error.json"
        child = json.loads(ep.read_text(encoding="utf-8")) if ep.exists() else {}
        ename = (info or {}).get("ename") or child.get("ename") or "Error"
        evalue = (info or {}).get("evalue") or child.get("evalue") or ""
        if info:
            where = f"cell {info['cell']}" + (f" (In [{info['exec_count']}])" if info.get("exec_count") else "")
        else:
            where = "before any cell ran"
        evalue_1 = " ".join(str(evalue).split())[:300]
        line = f"notebook {failed.name} failed at {where}: {ename}: {evalue_1}".rstrip(": ")
        progress.log(line, echo=False)
        progress.log(f"the previous report (if any) was left untouched; executed notebooks kept in {_rel(failed_dir)}",
                     echo=False)
        if not info:
            log = work / "logs" / f"{failed.name}.log"
            if log.exists():
                tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-15:]
                progress.log("last lines of the notebook's log:\n" + "\n".join(tail), echo=False)
        progress.close()
        with contextlib.suppress(Exception):
            write_manifest(rep, "failed", args, ds, kind, quarter, params, data_dir, mapping, assumptions, root,
                           kernel, tasks, started, t_start, error=line)
        kept = _keep_failed(out, quarter, staging, work, progress, args.keep_failed, failed_dir)
        nb_path = (kept or failed_dir) / "report" / "notebooks" / failed.path.name
        raise RunFailed(f"{line}\nexecuted notebook: {_rel(nb_path) if nb_path.exists() else 'not kept (--keep-failed 0)'}")

    # every notebook finished: check, export, merge, index, manifest
    what["writing"] = f"the report pages in {_rel(rep)}"
    for t in tasks.values():
        if not is_complete(rep / "notebooks" / t.path.name):
            raise RunFailed(f"notebook {t.name} did not complete (partial output); nothing was published")
    generated = dt.date.today()
    pages = []
    for t in tasks.values():
        html_name = f"{t.name}.html"
        title = report.export_html(rep / "notebooks" / t.path.name, rep / html_name, lang=lang, quarter=quarter,
                                   number=f"{t.number:02d}", generated=generated,
                                   threshold=args.anonymity_threshold,
                                   label=report.period_label(quarter, lang, kind, args.as_of))
        if t.skip_reason:  # the index says which parts did not run
            title = i18n.t("pre_not_run_title", lang, title=title)
        pages.append({"href": html_name, "title": title, "number": f"{t.number:02d}", "name": t.name})
    if kind == "panel":  # issue 16: a pilot plan in the data folder adds its evaluation page
        from servicechain import pilot

        pages += pilot.suite_page(data_dir, ds.tables, rep, lang, quarter, work / "results")
    progress.log(f"exported {len(pages)} pages")
    metrics = report.merge_results(work / "results", {"quarter": quarter})
    (rep / "metrics.json").write_text(report.dumps_stable(metrics), encoding="utf-8")
    report.build_index(out, rep, quarter, lang, metrics, pages, kind=kind, threshold=args.anonymity_threshold,
                       generated=generated,
                       incomplete=quarter in (getattr(ds, "incomplete_quarters", None) or {}),
                       pack=True, pdf=bool(getattr(args, "pdf", False)))
    # every page in one file to forward (checked for identifiers below with the other pages), and the printed pack
    report.write_pack(rep, pages, lang, quarter, generated=generated, label=report.period_label(quarter, lang, kind, args.as_of))
    if getattr(args, "pdf", False):
        what["writing"] = f"the board pack {report.PACK_PDF} in {_rel(rep)}"
        try:
            printed = report.write_board_pdf(rep, pages, lang, quarter, generated=generated,
                                             label=report.period_label(quarter, lang, kind, args.as_of))
        except Exception as e:  # Playwright's errors (a timeout, Chromium that does not start): one line
            first = (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
            raise RunFailed(f"printing the board pack {report.PACK_PDF} with Chromium failed: {first}; "
                            "nothing was published") from None
        progress.log(f"printed the board pack {report.PACK_PDF} ({printed.pages} A4 pages)")
        for problem in printed.charts_outside():
            progress.log(f"warning: {report.PACK_PDF}: a chart does not fit the page: {problem}")

    ids = _person_ids(ds)
    if ids:
        for p in sorted(rep.glob("*.html")):
            leaked = report.find_identifiers(p.read_text(encoding="utf-8"), ids)
            if leaked:
                raise RunFailed(f"{p.name} contains {len(leaked)} person identifier(s) (e.g. {leaked[0][:4]}…); "
                                "nothing was published")

    write_manifest(rep, "ok", args, ds, kind, quarter, params, data_dir, mapping, assumptions, root, kernel,
                   tasks, started, t_start)
    with publish_lock(out, quarter):  # another language of the quarter may be publishing too
        target = report_folder(out, quarter, lang)
        if target.exists() and not args.force:
            raise UserError(f"{_rel(target)} was published while this run ran; pass --force to replace it")
        progress.log(f"publish {_rel(target)}")
        progress.close()
        # nothing local in the published folder: absolute paths (papermill's parameters and paths,
        # tracebacks, the log) become relative to the project / the report, or a folder's name
        report.scrub_local_paths(rep, report.local_path_replacements(
            root, data_dir, rep, work, work / "results",
            others=(out, Path(tasks[min(tasks)].path).parent, *(p for p in (mapping, assumptions) if p))))
        publish(rep, target)
    shutil.rmtree(staging, ignore_errors=True)
    skipped = [t.name for t in tasks.values() if t.skip_reason]
    print(f"report: {_rel(target / 'index.html')} ({len(tasks)} notebooks, "
          + (f"{len(skipped)} skipped for lack of data: {', '.join(skipped)}; " if skipped else "")
          + f"{time.monotonic() - t_start:.0f}s)", flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_child(sys.argv[1]))
