"""Customer aggregates: the one definition of ``customer_quarters`` (and recognitions per employee-quarter).

Large users cannot hand the suite their raw ``customer_activity`` (billions of visits); they export
``customer_quarters`` from their warehouse instead, one row per unit and quarter. The suite reads either:
``features.unit_quarters`` always goes through :func:`customer_quarters`, so raw activity and its
aggregate give the same metrics.

Definitions, per unit and quarter q (a customer is "active" at a unit in q when it has at least one
activity row there in q, whatever its revenue):

* ``customers``: distinct customers active at the unit in q;
* ``returning_customers``: of those, the ones also active at the same unit in q-1;
* ``new_customers``: of those, the ones first active at the unit in q (first in the data: the data's
  first quarter counts everyone as new);
* ``revenue``: the sum of the activity's revenue (refunds negative);

so ``returning_customers + new_customers <= customers`` (the rest came back after a gap). With ``by``
(e.g. ``("segment",)`` or ``("touchpoint",)``, columns of the activity table), each breakdown adds rows
with that column set and the others empty, the definitions taken within the breakdown; the rows with
every breakdown column empty are the unit's totals (what the unit panel reads).

Two engines run the same definitions: polars (lazy, streaming, one machine; :func:`customer_quarters`)
and Spark (the DataFrame API, a cluster; :func:`spark_customer_quarters`), behind
``servicechain aggregate --engine polars|spark`` (:func:`main`). docs/scale.md says when to use which.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from . import quarters as Q

BREAKDOWNS = ("touchpoint", "segment")  # optional breakdown columns of customer_quarters
COUNTS = ("customers", "returning_customers", "new_customers")
COLUMNS = ("unit_id", "quarter", *BREAKDOWNS, *COUNTS, "revenue")
SCHEMA = pl.Schema({"unit_id": pl.String, "quarter": pl.String, "touchpoint": pl.String, "segment": pl.String,
                    "customers": pl.Int64, "returning_customers": pl.Int64, "new_customers": pl.Int64,
                    "revenue": pl.Float64})
RECOGNITION_SCHEMA = pl.Schema({"employee_id": pl.String, "quarter": pl.String, "recognitions": pl.Int64})


def _lazy(f: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    return f.lazy() if isinstance(f, pl.DataFrame) else f


def _one_level(cust: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """Counts for one grouping (unit + ``keys``) from one row per customer, group and quarter ``qi``."""
    grp = ["unit_id", *keys]
    prev = cust.select(*grp, "customer_id", (pl.col("qi") + 1).alias("qi"), pl.lit(True).alias("_was"))
    first = cust.group_by(*grp, "customer_id").agg(pl.col("qi").min().alias("_first"))
    return (
        cust.join(prev, on=[*grp, "customer_id", "qi"], how="left", nulls_equal=True)
        .join(first, on=[*grp, "customer_id"], how="left", nulls_equal=True)
        .group_by(*grp, "qi")
        .agg(
            pl.len().cast(pl.Int64).alias("customers"),
            pl.col("_was").fill_null(False).sum().cast(pl.Int64).alias("returning_customers"),
            (pl.col("qi") == pl.col("_first")).sum().cast(pl.Int64).alias("new_customers"),
            pl.col("revenue").sum().alias("revenue"),
        )
    )


def customer_quarters(activity: pl.DataFrame | pl.LazyFrame, by: Sequence[str] = ()) -> pl.LazyFrame:
    """``customer_quarters`` from raw ``customer_activity`` (customer_id, unit_id, date, revenue[, by...]).

    A lazy query (collect it with ``engine="streaming"`` for tables larger than memory), sorted by unit,
    quarter and breakdown, with the columns and dtypes of :data:`SCHEMA` (breakdown columns always present,
    empty on the totals rows; ``unit_id`` keeps the input's dtype). See the module docstring for the definitions.
    """
    bad = [b for b in by if b not in BREAKDOWNS]
    if bad:
        raise ValueError(f"unknown breakdown {bad}: choose among {list(BREAKDOWNS)}")
    act = _lazy(activity)
    names = act.collect_schema().names()
    missing = [b for b in by if b not in names]
    if missing:
        raise ValueError(f"the activity table has no column {missing} to break customers down by")
    base = act.select(  # ids keep their dtype: the run's validated copy has dense integer keys (faster joins)
        "unit_id", "customer_id",
        Q.index_expr(pl.col("date").cast(pl.Date)).alias("qi"), pl.col("revenue").cast(pl.Float64),
        *[pl.col(b).cast(pl.String) for b in by],
    )
    levels = []
    for keys in ([], *[[b] for b in by]):
        cust = base.group_by("unit_id", *keys, "qi", "customer_id").agg(pl.col("revenue").sum())
        levels.append(_one_level(cust, keys))
    out = pl.concat(levels, how="diagonal_relaxed")
    return _finish(out)


def _finish(out: pl.LazyFrame) -> pl.LazyFrame:
    """Quarter labels, every column of :data:`SCHEMA` in order, sorted (nulls, the totals, first)."""
    names = out.collect_schema().names()
    return (
        out.with_columns(
            *[pl.lit(None, pl.String).alias(b) for b in BREAKDOWNS if b not in names],
        )
        .sort("unit_id", "qi", *BREAKDOWNS, nulls_last=False)
        .with_columns(Q.label_expr("qi").alias("quarter"))
        .select([pl.col(c) if c == "unit_id" else pl.col(c).cast(t) for c, t in SCHEMA.items()])
    )


def totals(cq: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """The unit totals of a ``customer_quarters`` table (rows with every breakdown column empty), with ``qi``."""
    lf = _lazy(cq)
    names = lf.collect_schema().names()
    keep = pl.all_horizontal([pl.col(b).is_null() for b in BREAKDOWNS if b in names] or [pl.lit(True)])
    return lf.filter(keep).select(
        "unit_id", _qi("quarter").alias("qi"),
        *[pl.col(c).cast(pl.Int64) for c in COUNTS], pl.col("revenue").cast(pl.Float64),
    )


def _qi(col: str) -> pl.Expr:
    """``"2026Q3"`` labels -> quarter index (year*4 + quarter-1)."""
    e = pl.col(col)
    return (e.str.slice(0, 4).cast(pl.Int32) * 4 + e.str.slice(5, 1).cast(pl.Int32) - 1).alias(col)


def recognition_quarters(recognitions: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """Recognitions received per employee and quarter (employee_id, quarter, recognitions), sorted.

    The same count ``features.recognitions_by_quarter`` makes from the events (self-recognitions are dropped
    by validation before either sees them).
    """
    return (
        _lazy(recognitions)
        .select(pl.col("receiver_id").cast(pl.String).alias("employee_id"), Q.index_expr(pl.col("date").cast(pl.Date)).alias("qi"))
        .group_by("employee_id", "qi").agg(pl.len().cast(pl.Int64).alias("recognitions"))
        .sort("employee_id", "qi")
        .with_columns(Q.label_expr("qi").alias("quarter"))
        .select([pl.col(c).cast(t) for c, t in RECOGNITION_SCHEMA.items()])
    )


# --------------------------------------------------------------------------- Spark: the same definitions


def spark_session(master: str = "local[2]", shuffle_partitions: int = 4):
    """A Spark session for local runs and tests (UI off, few shuffle partitions); on a cluster use spark-submit's."""
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(master).appName("servicechain-aggregate")
        .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )


def _spark_qi(col):
    from pyspark.sql import functions as F

    d = F.to_date(col)
    return (F.year(d) * 4 + F.floor((F.month(d) - 1) / 3)).cast("int")


def spark_customer_quarters(activity, by: Sequence[str] = ()):
    """:func:`customer_quarters` with the Spark DataFrame API: a Spark DataFrame in, a Spark DataFrame out.

    ``activity`` is any Spark DataFrame with customer_id, unit_id, date, revenue (``spark.read.parquet``,
    ``spark.read.table("warehouse.visits")``, JDBC). Columns and order as :data:`SCHEMA`.
    """
    from pyspark.sql import functions as F

    bad = [b for b in by if b not in BREAKDOWNS]
    if bad:
        raise ValueError(f"unknown breakdown {bad}: choose among {list(BREAKDOWNS)}")
    base = activity.select(
        F.col("unit_id").cast("string").alias("unit_id"), F.col("customer_id").cast("string").alias("customer_id"),
        _spark_qi(F.col("date")).alias("qi"), F.col("revenue").cast("double").alias("revenue"),
        *[F.col(b).cast("string").alias(b) for b in by],
    )
    levels = []
    for keys in ([], *[[b] for b in by]):
        grp = ["unit_id", *keys]
        cust = base.groupBy(*grp, "qi", "customer_id").agg(F.sum("revenue").alias("revenue"))
        prev = cust.select(*grp, "customer_id", (F.col("qi") + 1).alias("qi"), F.lit(True).alias("_was"))
        first = cust.groupBy(*grp, "customer_id").agg(F.min("qi").alias("_first"))
        cond = lambda a, b, cols: [a[c].eqNullSafe(b[c]) for c in cols]  # noqa: E731 - null-safe keys
        c, p = cust.alias("c"), prev.alias("p")
        j = c.join(p, cond(c, p, [*grp, "customer_id", "qi"]), "left").select(
            *[c[x] for x in [*grp, "customer_id", "qi", "revenue"]], p["_was"])
        f = first.alias("f")
        j = j.join(f, cond(j, f, [*grp, "customer_id"]), "left").select(*[j[x] for x in j.columns], f["_first"])
        lvl = j.groupBy(*grp, "qi").agg(
            F.count(F.lit(1)).cast("long").alias("customers"),
            F.sum(F.when(F.col("_was"), 1).otherwise(0)).cast("long").alias("returning_customers"),
            F.sum(F.when(F.col("qi") == F.col("_first"), 1).otherwise(0)).cast("long").alias("new_customers"),
            F.sum("revenue").alias("revenue"),
        )
        for b in BREAKDOWNS:
            if b not in keys:
                lvl = lvl.withColumn(b, F.lit(None).cast("string"))
        levels.append(lvl)
    out = levels[0]
    for lvl in levels[1:]:
        out = out.unionByName(lvl)
    label = F.concat((F.col("qi") / 4).cast("int").cast("string"), F.lit("Q"), (F.col("qi") % 4 + 1).cast("string"))
    return out.withColumn("quarter", label).orderBy(
        "unit_id", "qi", *[F.col(b).asc_nulls_first() for b in BREAKDOWNS]).select(*COLUMNS)


def spark_recognition_quarters(recognitions):
    """:func:`recognition_quarters` with the Spark DataFrame API."""
    from pyspark.sql import functions as F

    out = (
        recognitions.select(F.col("receiver_id").cast("string").alias("employee_id"), _spark_qi(F.col("date")).alias("qi"))
        .groupBy("employee_id", "qi").agg(F.count(F.lit(1)).cast("long").alias("recognitions"))
    )
    label = F.concat((F.col("qi") / 4).cast("int").cast("string"), F.lit("Q"), (F.col("qi") % 4 + 1).cast("string"))
    return out.withColumn("quarter", label).orderBy("employee_id", "qi").select("employee_id", "quarter", "recognitions")


# --------------------------------------------------------------------------- `servicechain aggregate`


@dataclass(frozen=True)
class AggregateResult:
    """What ``servicechain aggregate`` wrote: paths, input and output rows, seconds and rows per second."""

    engine: str
    outputs: dict[str, Path]
    rows_in: dict[str, int]
    rows_out: dict[str, int]
    seconds: float

    @property
    def rows_per_second(self) -> float | None:
        n = sum(self.rows_in.values())
        return n / self.seconds if self.seconds > 0 and n else None

    def summary(self) -> str:
        parts = [f"{name}: {self.rows_in.get(name, 0):,} rows in -> {self.rows_out[name]:,} rows, {p}"
                 for name, p in self.outputs.items()]
        rps = self.rows_per_second
        return "\n".join([*parts, f"{self.engine}: {self.seconds:.1f} s" + (f", {rps:,.0f} input rows/s" if rps else "")])


def _scan(path: Path) -> pl.LazyFrame:
    """Lazy scan of parquet or csv: a file, a folder of files, or a glob."""
    p = Path(path)
    if p.is_dir():
        files = sorted(p.glob("*.parquet")) or sorted(p.glob("*.csv"))
        if not files:
            raise FileNotFoundError(f"{p}: no .parquet or .csv files")
        return _scan_files(files)
    if any(ch in str(p) for ch in "*?["):
        return _scan_files(sorted(Path().glob(str(p))) if not p.is_absolute() else sorted(Path("/").glob(str(p)[1:])))
    if not p.is_file():
        raise FileNotFoundError(f"{p}: not found")
    return _scan_files([p])


def _scan_files(files: list[Path]) -> pl.LazyFrame:
    if not files:
        raise FileNotFoundError("no input files match")
    if files[0].suffix == ".csv":
        return pl.concat([pl.scan_csv(f, schema_overrides={"customer_id": pl.String, "unit_id": pl.String,
                                                          "receiver_id": pl.String, "giver_id": pl.String},
                                      try_parse_dates=True) for f in files])
    return pl.scan_parquet(files)


def _outputs(out: Path, recognitions: bool) -> dict[str, Path]:
    """A folder -> ``customer_quarters.parquet`` (+ ``recognition_quarters.parquet``) in it; a .parquet file -> that."""
    if out.suffix == ".parquet":
        res = {"customer_quarters": out}
        if recognitions:
            res["recognition_quarters"] = out.with_name("recognition_quarters.parquet")
        return res
    res = {"customer_quarters": out / "customer_quarters.parquet"}
    if recognitions:
        res["recognition_quarters"] = out / "recognition_quarters.parquet"
    return res


def run(activity: Path, out: Path, *, recognitions: Path | None = None, engine: str = "polars",
        by: Sequence[str] = (), master: str = "local[2]") -> AggregateResult:
    """Build customer_quarters (and recognition_quarters) from raw event tables with one engine; write parquet."""
    outs = _outputs(Path(out), recognitions is not None)
    for p in outs.values():
        p.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    rows_in: dict[str, int] = {}
    rows_out: dict[str, int] = {}
    if engine == "polars":
        act = _scan(activity)
        rows_in["customer_quarters"] = int(act.select(pl.len()).collect().item())
        cq = customer_quarters(act, by).collect(engine="streaming")
        cq.write_parquet(outs["customer_quarters"])
        rows_out["customer_quarters"] = cq.height
        if recognitions is not None:
            rec = _scan(recognitions)
            rows_in["recognition_quarters"] = int(rec.select(pl.len()).collect().item())
            rq = recognition_quarters(rec).collect(engine="streaming")
            rq.write_parquet(outs["recognition_quarters"])
            rows_out["recognition_quarters"] = rq.height
    elif engine == "spark":
        spark = spark_session(master)
        jobs = [("customer_quarters", activity, lambda df: spark_customer_quarters(df, by), SCHEMA)]
        if recognitions is not None:
            jobs.append(("recognition_quarters", recognitions, spark_recognition_quarters, RECOGNITION_SCHEMA))
        for name, src, build, schema in jobs:
            src = Path(src)
            reader = spark.read.option("header", True).option("inferSchema", False)  # ids stay text ("0042")
            df = reader.csv(str(src)) if (src.suffix == ".csv" or (src.is_dir() and not list(src.glob("*.parquet")))) \
                else spark.read.parquet(str(src))
            rows_in[name] = df.count()
            res = build(df)
            # the aggregate is small (units x quarters): collect it through Arrow and write one parquet file
            table = res.toArrow()
            frame = pl.from_arrow(table).select([pl.col(c).cast(t) for c, t in schema.items()])
            frame.write_parquet(outs[name])
            rows_out[name] = frame.height
    else:
        raise ValueError(f"unknown engine {engine!r}: polars or spark")
    return AggregateResult(engine, outs, rows_in, rows_out, time.perf_counter() - t0)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", choices=("polars", "spark"), default="polars",
                        help="polars: streaming on this machine; spark: PySpark (pip install -e .[spark]), local[2] "
                             "here or the cluster's master under spark-submit")
    parser.add_argument("--activity", required=True, type=Path,
                        help="raw customer_activity: a parquet/csv file, a folder of them, or a glob")
    parser.add_argument("--recognitions", type=Path, default=None,
                        help="raw recognitions events: also write recognition_quarters.parquet")
    parser.add_argument("--out", required=True, type=Path,
                        help="a folder (customer_quarters.parquet is written in it) or a .parquet file")
    parser.add_argument("--by", action="append", choices=BREAKDOWNS, default=[],
                        help="also break customers down by this activity column (repeatable)")
    parser.add_argument("--master", default="local[2]", help="Spark master for --engine spark outside spark-submit")


def main(args: argparse.Namespace) -> int:
    try:
        res = run(args.activity, args.out, recognitions=args.recognitions, engine=args.engine, by=tuple(args.by),
                  master=args.master)
    except (FileNotFoundError, ValueError, pl.exceptions.PolarsError) as exc:
        print(f"servicechain aggregate: {exc}", file=sys.stderr)
        return 1
    except ImportError as exc:
        print(f"servicechain aggregate: the Spark engine needs pyspark (pip install -e .[spark]) and Java 17: {exc}",
              file=sys.stderr)
        return 1
    print(res.summary())
    return 0
