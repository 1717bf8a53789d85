"""Pseudonymisation keys and the anonymity threshold with complementary suppression."""

from __future__ import annotations

import stat
import warnings
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
    with pytest.warns(privacy.NewKeyWarning, match="created a new pseudonymisation key"):
        first = resolve_key(None, root=tmp_path)  # never silently
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


# ------------------------------------------------------------------- results do not depend on the key


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from servicechain import demo

    tables, truth = demo.generate(demo.DemoConfig(employees=400, quarters=5, end_quarter="2026Q3"))
    folder = tmp_path_factory.mktemp("keys") / "demo"
    demo.write({k: v for k, v in tables.items() if k != "internal_service"}, truth, folder)  # not needed here
    return folder


def test_retention_results_do_not_depend_on_the_key(demo_folder: Path) -> None:
    """Rows used to be ordered by pseudonymised id before the seeded subset of the annual-probability
    step was drawn, so another key moved the published figures in the third digit. A small
    ``max_rows_for_draws`` forces any thinning of rows or patterns to happen."""
    from servicechain import features, loading, retention

    fits, oots, ids = [], [], []
    for key in (b"first-key-0123456789abcdef", b"other-key-fedcba9876543210"):
        ds = loading.load(demo_folder, key=key)
        pq, _ = features.person_quarters(ds.tables)
        ids.append(set(pq["employee_id"].to_list()))
        fits.append(retention.fit_hazard(pq, seed=3, draws=60, max_rows_for_draws=300))
        oots.append(retention.out_of_time(pq))
    assert not ids[0] & ids[1]  # the keys really gave other pseudonyms
    assert fits[0].n_obs > 300  # more rows than max_rows_for_draws
    for dr in fits[0].annual_pp:
        a, b = fits[0].annual_pp[dr], fits[1].annual_pp[dr]
        # equal up to summation-order noise (~1e-15; metrics.json keeps 8 significant digits)
        assert (a.estimate, a.ci_low, a.ci_high) == pytest.approx((b.estimate, b.ci_low, b.ci_high), rel=1e-10), dr
    cal = [o.calibration.select("bin", "n", "observed_rate") for o in oots]
    assert cal[0].equals(cal[1]) and oots[0].auc == pytest.approx(oots[1].auc, rel=1e-12)


def test_content_order_ignores_ids() -> None:
    from servicechain import retention

    rows = pl.DataFrame({"employee_id": ["b", "a", "c"], "recognition_per_month": [1.0, 0.5, 1.0],
                         "empowerment": [3, 3, 2], "leadership_team_mean": [4.0, 4.0, 4.0], "tenure_band": ["<1"] * 3,
                         "role": ["support"] * 3, "quarter": ["2026Q1"] * 3, "voluntary_exit": [0, 1, 0]})
    relabelled = rows.with_columns(pl.Series("employee_id", ["z", "y", "x"]))
    drivers = ("recognition_per_month", "empowerment", "leadership_team_mean")
    a = retention.content_order(rows, drivers).drop("employee_id")
    b = retention.content_order(relabelled, drivers).drop("employee_id")
    assert a.equals(b) and a["recognition_per_month"].to_list() == [0.5, 1.0, 1.0]


# ------------------------------------------------------------------- keys must not change silently


def test_fingerprint_is_short_stable_and_not_the_key() -> None:
    k = b"k" * 32
    fp = privacy.key_fingerprint(k)
    assert fp == privacy.key_fingerprint(k) != privacy.key_fingerprint(b"j" * 32)
    assert len(fp) == 12 and int(fp, 16) >= 0 and fp not in k.hex() and fp not in pseudonym("x", k)


def test_key_info_never_creates_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(privacy.ENV_KEY)
    assert privacy.key_info(None, root=tmp_path) is None and not (tmp_path / ".servicechain-key").exists()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the runner logs it itself: no second warning
        made = privacy.create_checkout_key(tmp_path)
    assert made.source == "key file" and made.path == tmp_path / ".servicechain-key"
    again = privacy.key_info(None, root=tmp_path)
    assert again is not None and again.key == made.key and again.fingerprint == made.fingerprint
    assert made.key.decode() not in repr(made) and made.key.decode() not in made.describe()
    monkeypatch.setenv(privacy.ENV_KEY, "from-the-environment-123")
    env = privacy.key_info(None, root=tmp_path)
    assert env is not None and env.source == "environment" and env.describe() == f"${privacy.ENV_KEY}"


def test_key_file_warning_for_group_or_other_readable(tmp_path: Path) -> None:
    p = tmp_path / "k"
    p.write_text("k" * 32)
    p.chmod(0o600)
    assert privacy.key_file_warning(p) is None and privacy.key_file_warning(None) is None
    for mode in (0o640, 0o604):
        p.chmod(mode)
        w = privacy.key_file_warning(p)
        assert w is not None and str(p) in w and f"{mode:04o}" in w and "chmod 600" in w


def test_key_creation_error_names_the_real_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(privacy.ENV_KEY)
    with pytest.raises(PseudonymKeyError) as exc:
        resolve_key(None, root=tmp_path / "no" / "such" / "folder")
    msg = str(exc.value)
    assert "--key-file" not in msg and privacy.ENV_KEY in msg and "cannot create the key file" in msg
