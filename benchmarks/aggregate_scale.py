"""Measure the polars streaming aggregate (servicechain aggregate --engine polars) on a large raw activity table.

    .venv/bin/python benchmarks/aggregate_scale.py --rows 60_000_000 --dir /tmp/sc_activity

writes synthetic customer_activity in parquet chunks of 5M rows under --dir (not in the repo; about 11 bytes
a row on disk), unless they are there already, then times `servicechain aggregate` on the folder and prints
rows per second and peak memory (docs/scale.md records the figure). Seeded; the synthetic visits have the
demo's shape: each customer visits one home unit most of the time, across 8 quarters.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

CHUNK = 5_000_000


def generate(folder: Path, rows: int, units: int, customers: int, seed: int = 17) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    start = dt.date(2024, 10, 1)
    for k in range(0, rows, CHUNK):
        path = folder / f"part-{k // CHUNK:04d}.parquet"
        if path.is_file():
            continue
        n = min(CHUNK, rows - k)
        rng = np.random.default_rng(seed + k // CHUNK)
        cust = rng.integers(0, customers, n)
        home = cust % units
        unit = np.where(rng.random(n) < 0.9, home, rng.integers(0, units, n))
        days = rng.integers(0, 730, n)
        pl.DataFrame({
            "customer_id": pl.Series(cust).cast(pl.String).str.zfill(10),
            "unit_id": pl.Series(unit).cast(pl.String).str.zfill(6),
            "date": pl.Series(np.datetime64(start.isoformat()) + days.astype("timedelta64[D]")).cast(pl.Date),
            "revenue": np.round(rng.gamma(2.0, 60.0, n), 2),
        }).write_parquet(path)
        print(f"wrote {path.name} ({n:,} rows)", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=60_000_000)
    p.add_argument("--units", type=int, default=10_000)
    p.add_argument("--customers", type=int, default=8_000_000)
    p.add_argument("--dir", type=Path, default=Path("/tmp/sc_activity"))
    p.add_argument("--out", type=Path, default=Path("/tmp/sc_customer_quarters.parquet"))
    a = p.parse_args(argv)
    generate(a.dir, a.rows, a.units, a.customers)
    size = sum(f.stat().st_size for f in a.dir.glob("*.parquet"))
    cmd = [str(Path(sys.executable).with_name("servicechain")), "aggregate", "--engine", "polars",
           "--activity", str(a.dir), "--out", str(a.out)]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 ** 2
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"{a.rows:,} rows ({size / 1e9:.2f} GB parquet): {wall:.1f} s wall, {cpu.ru_utime + cpu.ru_stime:.1f} CPU-s, "
          f"{a.rows / wall:,.0f} rows/s, peak RSS {peak:.2f} GB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
