"""JupyterLab never dirties the suite: a ``ContentsManager.pre_save_hook`` for ``make lab``.

``jupyter_server_config.py`` (project root, used by ``make lab``) installs :func:`pre_save_hook`.
When a notebook under ``notebooks/`` is saved (autosave included) it is written as the suite stores it:

- no outputs, no execution counts, cell metadata reduced to ``tags``;
- the cell tagged ``parameters`` keeps its source as committed in git (``HEAD``), so values an analyst
  tried in Lab never become the notebook's defaults;
- the notebook metadata (kernelspec, language_info) stays as committed.

Everything else an analyst edits in a suite notebook (cells, text) is saved as usual. Notebooks elsewhere
(``scratch/``, ``reports/``) are saved untouched. To change a stored parameter default on purpose, edit the
file outside Lab, or start Lab with ``SERVICECHAIN_LAB_KEEP_PARAMETERS=0``.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

SUITE_DIR = "notebooks"
KEEP_CELL_METADATA = ("tags",)


def is_suite_notebook(path: str) -> bool:
    """An API path (relative to the server root, ``/``-separated) of a notebook under ``notebooks/``."""
    p = PurePosixPath(path.lstrip("/"))
    return p.suffix == ".ipynb" and len(p.parts) > 1 and p.parts[0] == SUITE_DIR and ".ipynb_checkpoints" not in p.parts


def stored_notebook(root: Path, path: str) -> dict | None:
    """The notebook as committed at ``HEAD`` (JSON dict), or None when it is not tracked / not a git checkout."""
    try:
        out = subprocess.run(["git", "-C", str(root), "show", f"HEAD:{path.lstrip('/')}"],
                             capture_output=True, check=True, timeout=10)
        return json.loads(out.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


def _parameters_cell(nb: dict) -> dict | None:
    return next((c for c in nb.get("cells", []) if "parameters" in c.get("metadata", {}).get("tags", [])), None)


def clean_notebook(nb: dict, stored: dict | None = None, keep_parameters: bool = True) -> dict:
    """``nb`` (a notebook JSON dict, changed in place and returned) as the suite stores it."""
    for cell in nb.get("cells", []):
        md = cell.get("metadata", {})
        cell["metadata"] = {k: md[k] for k in KEEP_CELL_METADATA if k in md}
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    if stored is not None:
        nb["metadata"] = stored.get("metadata", nb.get("metadata", {}))
        mine, theirs = _parameters_cell(nb), _parameters_cell(stored)
        if keep_parameters and mine is not None and theirs is not None:
            src = theirs["source"]
            mine["source"] = "".join(src) if isinstance(src, list) else src
    return nb


def pre_save_hook(model: dict[str, Any], path: str, contents_manager: Any, **kwargs: Any) -> None:
    """Jupyter server hook: clean suite notebooks before they are written (see module docstring)."""
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict) or not is_suite_notebook(path):
        return
    root = Path(getattr(contents_manager, "root_dir", "."))
    keep = os.environ.get("SERVICECHAIN_LAB_KEEP_PARAMETERS", "1") != "0"
    clean_notebook(model["content"], stored_notebook(root, path), keep_parameters=keep)
