"""Generate ``environment.yml`` (conda) from ``requirements.lock``: every locked package, same exact pin.

``python -m servicechain.envfile`` rewrites ``environment.yml`` at the project root;
``python -m servicechain.envfile --check`` exits 1 when the stored file differs from what the lock gives.
tests/test_environment.py checks that the stored file equals the generated one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HEADER = """\
# Conda environment for servicechain. GENERATED from requirements.lock by `python -m servicechain.envfile`:
# do not edit by hand (tests/test_environment.py checks every pin equals the lock, and vice versa).
#
#   conda env create -f environment.yml
#   conda activate servicechain
#   pip install --no-deps -e .
#   python -m ipykernel install --sys-prefix --name servicechain --display-name "servicechain (conda)"
#
# The last step registers the project kernel the notebooks store (papermill and JupyterLab look it up by name).
"""


def read_lock(path: Path) -> list[tuple[str, str]]:
    """``(name, version)`` of every exact pin in a requirements lock, in file order (comments ignored)."""
    pins: list[tuple[str, str]] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#")[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep or not version.strip():
            raise ValueError(f"{path.name}: {line!r} is not an exact pin (name==version)")
        pins.append((name.strip(), version.strip()))
    return pins


def render(pins: list[tuple[str, str]], python: str = "3.11") -> str:
    """The environment.yml text: python + pip from conda-forge, every lock pin under ``pip:``."""
    lines = [HEADER.rstrip("\n"), "name: servicechain", "channels:", "  - conda-forge", "dependencies:",
             f"  - python={python}", "  - pip", "  - pip:"]
    lines += [f"      - {name}=={version}" for name, version in pins]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    root = Path(__file__).resolve().parents[2]
    p = argparse.ArgumentParser(prog="python -m servicechain.envfile", description=__doc__.splitlines()[0])
    p.add_argument("--lock", type=Path, default=root / "requirements.lock")
    p.add_argument("--out", type=Path, default=root / "environment.yml")
    p.add_argument("--check", action="store_true", help="exit 1 if --out differs from the lock instead of writing")
    a = p.parse_args(argv)
    text = render(read_lock(a.lock))
    if a.check:
        same = a.out.is_file() and a.out.read_text(encoding="utf-8") == text
        if not same:
            print(f"{a.out} is out of date with {a.lock.name}: run python -m servicechain.envfile", file=sys.stderr)
        return 0 if same else 1
    a.out.write_text(text, encoding="utf-8")
    print(f"wrote {a.out} ({len(text.splitlines())} lines, {text.count('==')} pins)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
