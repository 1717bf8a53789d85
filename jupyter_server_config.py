"""Jupyter server configuration for `make lab` (jupyter lab --config=jupyter_server_config.py).

- the server's root is the project root: notebooks/, scratch/ (your own, git-ignored), reports/, docs/;
- saving a suite notebook under notebooks/ strips outputs and keeps its parameters cell and kernel as
  committed (servicechain.labhook.pre_save_hook), so JupyterLab never dirties the suite.
"""

from pathlib import Path

from servicechain.labhook import pre_save_hook

ROOT = Path(__file__).resolve().parent

c = get_config()  # noqa: F821  (provided by Jupyter when it loads this file)
c.ServerApp.root_dir = str(ROOT)
c.ContentsManager.pre_save_hook = pre_save_hook
