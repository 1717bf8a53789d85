"""One source of truth for dependencies: pyproject names them, requirements.lock pins them, environment.yml mirrors the pins."""

import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock(name: str = "requirements.lock") -> dict[str, str]:
    pins = {}
    for line in (ROOT / name).read_text().splitlines():
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
    lock = _lock() | _lock("requirements-spark.lock")  # the optional Spark engine has its own lock (issue 17)
    missing = [d for d in _direct() if d not in lock]
    assert not missing, f"pyproject dependencies missing from requirements.lock: {missing}"


def _env_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    pins = {}
    for spec in pip:
        name, sep, version = spec.partition("==")
        assert sep and version, f"environment.yml: {spec!r} is not an exact pin"
        assert _norm(name) not in pins, f"environment.yml pins {name} twice"
        pins[_norm(name)] = version
    return pins


def test_environment_yml_pins_match_the_lock():
    """Every pin in environment.yml equals the lock's, and every locked package is in environment.yml."""
    pins, lock = _env_pins(), _lock()
    drift = {d: (pins.get(d), lock.get(d)) for d in sorted(set(pins) | set(lock)) if pins.get(d) != lock.get(d)}
    assert not drift, f"environment.yml and requirements.lock disagree (env, lock): {drift}"
    assert len(pins) == len(lock)


def test_environment_yml_is_the_generated_file():
    """environment.yml is exactly what `python -m servicechain.envfile` writes from the lock."""
    from servicechain import envfile

    expected = envfile.render(envfile.read_lock(ROOT / "requirements.lock"))
    assert (ROOT / "environment.yml").read_text() == expected, "run: python -m servicechain.envfile"
    assert "ipykernel install --sys-prefix --name servicechain" in expected


def test_envfile_check_fails_on_drift(tmp_path):
    from servicechain import envfile

    lock = tmp_path / "requirements.lock"
    lock.write_text("polars==2.1.0\nnumpy==2.4.6\n")
    out = tmp_path / "environment.yml"
    assert envfile.main(["--lock", str(lock), "--out", str(out)]) == 0
    assert envfile.main(["--lock", str(lock), "--out", str(out), "--check"]) == 0
    lock.write_text("polars==2.1.1\nnumpy==2.4.6\n")
    assert envfile.main(["--lock", str(lock), "--out", str(out), "--check"]) == 1
    lock.write_text("polars>=2\n")
    with pytest.raises(ValueError, match="not an exact pin"):
        envfile.read_lock(lock)
