"""Pseudonymisation keys and the anonymity threshold with complementary suppression."""

from __future__ import annotations

import stat
from pathlib import Path

import polars as pl
import pytest

from servicechain import privacy
from servicechain.privacy import PseudonymKeyError, pseudonym, resolve_key, suppress_small


def test_pseudonym_shape_and_determinism() -> None:
    k = b"a" * 32
    p = pseudonym("1001", k)
    assert p.startswith("E") and len(p) == 17 and int(p[1:], 16) >= 0
    assert p == pseudonym("1001", k) != pseudonym("1001", b"b" * 32)
    assert pseudonym("1001", k) != pseudonym("1002", k)


def test_key_order_explicit_then_env_then_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keyfile = tmp_path / "k"
    keyfile.write_text("from-a-key-file-123456\n")
    monkeypatch.setenv(privacy.ENV_KEY, "from-the-environment-123")
    assert resolve_key(keyfile, root=tmp_path) == b"from-a-key-file-123456"
    assert resolve_key(b"x" * 16, root=tmp_path) == b"x" * 16
    assert resolve_key(None, root=tmp_path) == b"from-the-environment-123"
    monkeypatch.delenv(privacy.ENV_KEY)
    first = resolve_key(None, root=tmp_path)
    path = tmp_path / ".servicechain-key"
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) == 64 and resolve_key(None, root=tmp_path) == first  # created once, then reused


def test_short_or_missing_keys_are_clear_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(PseudonymKeyError, match="cannot read the key file"):
        resolve_key(tmp_path / "missing")
    (tmp_path / "short").write_text("abc")
    with pytest.raises(PseudonymKeyError, match="fewer than 16"):
        resolve_key(tmp_path / "short")
    monkeypatch.setenv(privacy.ENV_KEY, "short")
    with pytest.raises(PseudonymKeyError, match="at least 16"):
        resolve_key(None, root=tmp_path)


def test_checkout_key_is_git_ignored() -> None:
    ignore = (Path(__file__).resolve().parents[1] / ".gitignore").read_text().split()
    assert ".servicechain-key" in ignore


def test_pseudonymise_tables_consistent() -> None:
    t = {
        "a": pl.DataFrame({"id": ["1", "2", None], "x": [1, 2, 3]}),
        "b": pl.DataFrame({"who": ["2", "1", "1"]}),
    }
    out = privacy.pseudonymise_tables(t, {"a": ["id"], "b": ["who"], "c": ["id"]}, b"k" * 16)
    assert out["a"]["id"][0] == out["b"]["who"][1] and out["a"]["id"][2] is None
    assert out["a"]["x"].to_list() == [1, 2, 3]


def breakdown() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "quarter": ["Q1"] * 4 + ["Q2"] * 3 + ["Q3"] * 2,
            "unit": ["w", "x", "y", "z", "w", "x", "y", "w", "x"],
            "n": [3, 10, 8, 20, 2, 4, 9, 12, 30],
            "mean": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
        }
    )


def test_suppress_small_primary_and_complementary() -> None:
    out = suppress_small(breakdown(), "n", 5, "quarter")
    flags = dict(zip(zip(out["quarter"], out["unit"]), out["suppressed"]))
    # Q1: w (3) is small; exactly one suppressed, so the next-smallest (y, 8) is hidden too
    assert flags[("Q1", "w")] == "small" and flags[("Q1", "y")] == "complementary"
    assert flags[("Q1", "x")] is None and flags[("Q1", "z")] is None
    # Q2: two small cells already protect each other; no complementary cell
    assert [flags[("Q2", u)] for u in "wxy"] == ["small", "small", None]
    # Q3: nothing small
    assert flags[("Q3", "w")] is None and flags[("Q3", "x")] is None
    hidden = out.filter(pl.col("suppressed").is_not_null())
    assert hidden["n"].null_count() == hidden.height and hidden["mean"].null_count() == hidden.height
    assert hidden["unit"].null_count() == 0  # labels stay, values go


def test_suppress_small_threshold_and_whole_frame() -> None:
    out = suppress_small(breakdown(), "n", 10)  # one breakdown over all rows
    small = out.filter(pl.col("suppressed") == "small")["unit"].len()
    assert small == 5 and (out["suppressed"] == "complementary").sum() == 0
    one = suppress_small(pl.DataFrame({"g": ["a", "b", "c"], "n": [2, 50, 7]}), "n")
    assert one["suppressed"].to_list() == ["small", None, "complementary"]
    assert suppress_small(pl.DataFrame({"n": [1], "v": [2.0]}), "n", value_cols=["v"])["n"].to_list() == [1]
