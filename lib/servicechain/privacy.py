"""Privacy: keyed pseudonyms for employee ids and small-cell suppression.

Two rules protect the people in the data:

* No raw employee id goes past the loader. Every employee id column is replaced
  by ``E`` + the first 16 hex digits of HMAC-SHA256(key, id). The same key gives
  the same pseudonym in every table and every run (so panels can be joined and
  quarters compared); without the key the mapping cannot be rebuilt by hashing
  a list of guessed ids, which a plain unkeyed hash would allow.
* Anonymity threshold: a published cell that describes fewer than
  ``threshold`` people is suppressed, together with a complementary cell when
  it would otherwise be recoverable by subtraction (see :func:`suppress_small`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from servicechain.cli import UserError

ENV_KEY = "SERVICECHAIN_PSEUDONYM_KEY"
KEY_FILE_NAME = ".servicechain-key"
PREFIX = "E"
HEX_CHARS = 16  # 64 bits: collisions are negligible below ~10^8 ids
DEFAULT_THRESHOLD = 5

# Reasons written into the flag column of suppress_small.
REASON_SMALL = "small"  # n < threshold
REASON_COMPLEMENTARY = "complementary"  # hidden so the small cell cannot be recovered by subtraction


class PseudonymKeyError(UserError):
    """The pseudonymisation key cannot be read or is unusable."""


def project_root() -> Path:
    """The checkout this package is installed from (editable install), where the per-checkout key lives."""
    return Path(__file__).resolve().parents[2]


def resolve_key(key: str | os.PathLike[str] | bytes | None = None, root: Path | None = None) -> bytes:
    """Return the pseudonymisation key.

    Order: an explicit ``key`` (raw ``bytes``, or the path of a key file), then
    the environment variable ``SERVICECHAIN_PSEUDONYM_KEY``, then the
    per-checkout file ``.servicechain-key`` (created with mode 0600 and a random
    key on first use; it is git-ignored and must never be committed). An explicit
    argument wins over the environment so that a caller asking for a specific
    key is never silently given another one.
    """
    info = key_info(key, root)
    return info.key if info is not None else _checkout_key(root or project_root(), warn=True)


@dataclass(frozen=True)
class KeyInfo:
    """Where the key came from, for the runner's checks (the key itself is never written anywhere)."""

    key: bytes = field(repr=False)
    source: str  # "argument" | "environment" | "key file"
    path: Path | None = None  # the key file, when the key came from one

    @property
    def fingerprint(self) -> str:
        return key_fingerprint(self.key)

    def describe(self) -> str:
        """Where the key comes from, in words (for messages); never the key."""
        if self.source == "environment":
            return f"${ENV_KEY}"
        return f"the key file {self.path}" if self.path is not None else "the key passed by the caller"


def key_info(key: str | os.PathLike[str] | bytes | None = None, root: Path | None = None) -> KeyInfo | None:
    """The key :func:`resolve_key` would use and where it comes from, without creating anything:
    None when it would come from a per-checkout key file that does not exist yet."""
    if isinstance(key, bytes):
        if len(key) < 16:
            raise PseudonymKeyError("the pseudonymisation key must be at least 16 bytes")
        return KeyInfo(key, "argument")
    if key is not None and str(key) != "":
        return KeyInfo(_read_key_file(Path(key)), "key file", Path(key))
    env = os.environ.get(ENV_KEY, "")
    if env:
        if len(env) < 16:
            raise PseudonymKeyError(f"{ENV_KEY} must be at least 16 characters long")
        return KeyInfo(env.encode("utf-8"), "environment")
    path = (root or project_root()) / KEY_FILE_NAME
    if not path.exists():
        return None
    return KeyInfo(_read_key_file(path), "key file", path)


def create_checkout_key(root: Path | None = None) -> KeyInfo:
    """Create the per-checkout key file (0600, random) when missing and return its :class:`KeyInfo`."""
    path = (root or project_root()) / KEY_FILE_NAME
    return KeyInfo(_checkout_key(path.parent), "key file", path)


FINGERPRINT_LABEL = b"servicechain pseudonym key fingerprint v1"
FINGERPRINT_CHARS = 12


def key_fingerprint(key: bytes) -> str:
    """A short public fingerprint of ``key``: the first 12 hex digits of HMAC-SHA256(key, a fixed label).

    Recorded in each report's manifest so that a changed key is noticed. It tells nothing
    about the key (an HMAC output of a constant) and cannot be used to rebuild pseudonyms."""
    return hmac.new(key, FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:FINGERPRINT_CHARS]


def key_file_warning(path: Path | None) -> str | None:
    """A warning when the key file can be read by its group or by others, else None."""
    if path is None:
        return None
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    if not mode & 0o077:
        return None
    return (f"warning: the pseudonymisation key file {path} can be read by other users (mode {mode:04o}); "
            f"anyone who can read it can link pseudonyms to employee ids: chmod 600 {path}")


def _read_key_file(path: Path) -> bytes:
    try:
        data = path.read_bytes().strip()
    except OSError as exc:
        raise PseudonymKeyError(f"cannot read the key file {path}: {exc.strerror or exc}") from None
    if len(data) < 16:
        raise PseudonymKeyError(f"the key file {path} holds fewer than 16 bytes; use a long random key")
    return data


class NewKeyWarning(UserWarning):
    """A new per-checkout key file was created: pseudonyms differ from those of any earlier key."""


def _checkout_key(root: Path, warn: bool = False) -> bytes:
    """Read ``root/.servicechain-key``, creating it (0600, random) when missing (``warn``: say so)."""
    path = root / KEY_FILE_NAME
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key_file(path)
    except OSError as exc:
        raise PseudonymKeyError(
            f"cannot create the key file {path} ({exc.strerror}); set the environment variable {ENV_KEY} "
            f"to a long random key (at least 16 characters), or make {path.parent} writable"
        ) from None
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    if warn:  # never silently: the pseudonyms of every later load depend on this file
        warnings.warn(f"created a new pseudonymisation key in {path}; back it up: later loads need the same key "
                      f"to give the same pseudonyms", NewKeyWarning, stacklevel=3)
    return _read_key_file(path)


def pseudonym(raw_id: str, key: bytes) -> str:
    """One id -> its pseudonym (``E`` + 16 hex digits of HMAC-SHA256)."""
    return PREFIX + hmac.new(key, raw_id.encode("utf-8"), hashlib.sha256).hexdigest()[:HEX_CHARS]


def pseudonym_frame(ids: pl.Series, key: bytes, id_col: str = "id", pseudo_col: str = "pseudonym") -> pl.DataFrame:
    """A small (unique id -> pseudonym) frame for joining. Polars has no HMAC, so this is
    the one Python loop of the loader, and it runs over the *unique* ids (about one per
    employee), never over rows."""
    uniq = ids.cast(pl.String).drop_nulls().unique()
    digest, n = hmac.digest, HEX_CHARS // 2
    pseudo = [PREFIX + digest(key, v.encode("utf-8"), "sha256")[:n].hex() for v in uniq.to_list()]
    return pl.DataFrame({id_col: uniq, pseudo_col: pl.Series(pseudo, dtype=pl.String)})


def pseudonymise_ids(ids: pl.Series, key: bytes) -> pl.Series:
    """Map a string Series of ids to pseudonyms; nulls stay null."""
    m = pseudonym_frame(ids, key)
    return ids.cast(pl.String).replace_strict(m["id"], m["pseudonym"], default=None, return_dtype=pl.String)


def pseudonymise_tables(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    columns: Mapping[str, Iterable[str]],
    key: bytes,
    ids: pl.Series | None = None,
) -> dict[str, pl.DataFrame | pl.LazyFrame]:
    """Replace the listed id columns of every table, consistently across tables.

    The HMAC is computed once over the union of ids from all tables, so an
    employee gets one pseudonym wherever they appear; each id column is then
    swapped by a left join against that small (id -> pseudonym) frame, which
    keeps LazyFrames lazy (the union of ids is the only thing collected) and
    DataFrames eager.

    ``ids``: every id that can occur in those columns, when the caller knows
    it (after validation, every employee reference is an ``employee_id`` of
    the employees table), which saves reading the large tables for their
    unique ids; an id missing from ``ids`` would become null.
    """
    schemas = {t: f.collect_schema() for t, f in tables.items()}
    present = {t: [c for c in cols if c in schemas[t]] for t, cols in columns.items() if t in tables}
    present = {t: cols for t, cols in present.items() if cols}
    if not present:
        return dict(tables)
    if ids is None:
        parts = [tables[t].lazy().select(pl.col(c).cast(pl.String).alias("id")) for t, cols in present.items() for c in cols]
        ids = pl.concat(parts).drop_nulls().unique().collect(engine="streaming").to_series()
    uniq = ids
    m = pseudonym_frame(uniq, key, "__id", "__pseudonym").lazy()
    out = dict(tables)
    for t, cols in present.items():
        lf = tables[t].lazy()
        for c in cols:
            lf = (
                lf.with_columns(pl.col(c).cast(pl.String))
                .join(m, left_on=c, right_on="__id", how="left", maintain_order="left", coalesce=True)
                .with_columns(pl.col("__pseudonym").alias(c))
                .drop("__pseudonym")
            )
        lf = lf.select(schemas[t].names())
        out[t] = lf.collect() if isinstance(tables[t], pl.DataFrame) else lf
    return out


def suppress_small(
    df: pl.DataFrame,
    count_col: str,
    threshold: int = DEFAULT_THRESHOLD,
    *group_cols: str,
    value_cols: Iterable[str] | None = None,
    flag_col: str = "suppressed",
) -> pl.DataFrame:
    """Apply the anonymity rule to an aggregated table.

    ``df`` holds one row per cell of a breakdown (e.g. one row per unit and
    quarter) with the number of people behind it in ``count_col``. Rows sharing
    the ``group_cols`` form one breakdown whose total may be published
    elsewhere (e.g. all units of one quarter).

    * primary suppression: a cell with ``count < threshold`` is hidden;
    * complementary suppression: when exactly one cell of a breakdown is
      hidden, its value could be recovered by subtracting the others from the
      total, so the next-smallest cell of that breakdown is hidden too.

    Hidden cells get null in ``value_cols`` (default: every numeric column
    except the group columns, the count included) and ``flag_col`` says why:
    ``"small"``, ``"complementary"`` or null when shown.
    """
    if count_col not in df.columns:
        raise ValueError(f"suppress_small: no column {count_col!r}")
    groups = list(group_cols)
    if value_cols is None:
        value_cols = [c for c, t in df.schema.items() if t.is_numeric() and c not in groups]
    value_cols = list(value_cols)

    def over(e: pl.Expr) -> pl.Expr:
        return e.over(groups) if groups else e

    n = pl.col(count_col)
    primary = n.is_null() | (n < threshold)
    candidate_rank = over(pl.when(~primary).then(n).rank("ordinal"))
    complementary = (over(primary.sum()) == 1) & ~primary & (candidate_rank == 1)
    flagged = df.with_columns(
        pl.when(primary)
        .then(pl.lit(REASON_SMALL))
        .when(complementary)
        .then(pl.lit(REASON_COMPLEMENTARY))
        .otherwise(pl.lit(None, dtype=pl.String))
        .alias(flag_col)
    )
    hidden = pl.col(flag_col).is_not_null()
    return flagged.with_columns(pl.when(~hidden).then(pl.col(c)).alias(c) for c in value_cols)
