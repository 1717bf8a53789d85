"""Airflow DAG: the quarterly servicechain run (one task; it either publishes or changes nothing)."""

from __future__ import annotations

import datetime as dt

from airflow import DAG
from airflow.operators.bash import BashOperator

PROJECT = "/opt/servicechain"

with DAG(
    dag_id="servicechain_quarterly",
    schedule="0 6 5 1,4,7,10 *",  # 06:00 on the 5th of each quarter's first month
    start_date=dt.datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,  # the run also refuses a second concurrent run of the same quarter
    default_args={"retries": 1, "retry_delay": dt.timedelta(minutes=30)},
    tags=["people-analytics"],
) as dag:
    BashOperator(
        task_id="run_reports",
        cwd=PROJECT,
        bash_command=(
            ".venv/bin/servicechain run --data /srv/hr-exports/current --quarter latest "
            "--out /srv/reports --lang en --jobs 2 --force"
        ),
        # non-TTY: plain timestamped log lines land in the task log; exit 1 fails the task
        execution_timeout=dt.timedelta(hours=2),
    )
