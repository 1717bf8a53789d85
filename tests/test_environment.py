"""One source of truth for dependencies: pyproject names them, requirements.lock pins them, environment.yml mirrors the pins."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"requirements.lock: {line!r} is not an exact pin"
            pins[_norm(name)] = version
    return pins


def _direct() -> list[str]:
    proj = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = proj["dependencies"] + [r for extra in proj.get("optional-dependencies", {}).values() for r in extra]
    return [_norm(re.split(r"[<>=!\[; ]", r)[0]) for r in reqs]


def test_every_direct_dependency_is_pinned_in_the_lock():
    lock = _lock()
    missing = [d for d in _direct() if d not in lock]
    assert not missing, f"pyproject dependencies missing from requirements.lock: {missing}"


def test_environment_yml_pins_match_the_lock():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    pins = {}
    for spec in pip:
        name, _, version = spec.partition("==")
        pins[_norm(name)] = version
    lock = _lock()
    drift = {d: (pins.get(d), lock.get(d)) for d in _direct() if pins.get(d) != lock.get(d)}
    assert not drift, f"environment.yml and requirements.lock disagree (env, lock): {drift}"
