"""Sensors: failed nights and new shitstorm alerts reach people through the webhook."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import duckdb
from dagster import (
    DefaultSensorStatus,
    RunFailureSensorContext,
    SensorEvaluationContext,
    SkipReason,
    run_failure_sensor,
    sensor,
)

from ingestion.settings import serving_dir
from orchestration import webhook
from orchestration.digest import build_digest
from orchestration.preflight import configuration_problems
from orchestration.runs import reap_dead_runs
from orchestration.schedules import nightly_job
from orchestration.serving import read_status, record_failure, serving_file

ALERTS_TABLE = "marts.mart_alerts"
REMEMBERED_ALERTS = 5000


def failure_message(context: RunFailureSensorContext) -> str:
    steps = [e.step_key for e in context.get_step_failure_events() if e.step_key]
    return f"nightly run {context.dagster_run.run_id} failed" + (
        f" in {', '.join(steps)}" if steps else "")


@run_failure_sensor(monitored_jobs=[nightly_job], default_status=DefaultSensorStatus.RUNNING,
                    name="nightly_failure")
def nightly_failure(context: RunFailureSensorContext) -> None:
    """A failed night: BI keeps the last good data and its status says so; the webhook hears.

    A run stopped by its configuration (a setting missing or invalid) is not a failed night
    of the data: the status stays as it is, and the webhook is told what to fix."""
    message = failure_message(context)
    run_id = context.dagster_run.run_id
    status = read_status(serving_dir())
    if status.last_attempt_run_id == run_id and status.last_attempt_status == "interrupted":
        # killed and already recorded as such (orchestration.runs): keep that reason
        webhook.post({"text": f"Rapport: {status.last_failure}. BI keeps serving the last "
                              "published night.", "kind": "run_failure", "run_id": run_id})
        return
    problems = configuration_problems(context.get_step_failure_events())
    if problems:
        webhook.post({"text": f"Rapport: nightly run {context.dagster_run.run_id} did not "
                              f"start: {'; '.join(problems)}",
                      "kind": "configuration_error", "run_id": context.dagster_run.run_id})
        return
    record_failure(serving_dir(), context.dagster_run.run_id, message)
    webhook.post({"text": f"Rapport: {message}. BI keeps serving the last published night.",
                  "kind": "run_failure", "run_id": context.dagster_run.run_id})


@sensor(name="dead_runs", minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.RUNNING)
def dead_runs(context: SensorEvaluationContext) -> SkipReason:
    """Every minute where the daemon runs: fail runs whose process was killed and free their
    ``duckdb_writer`` slots, so a waiting night goes on (see :mod:`orchestration.runs`)."""
    reaped = reap_dead_runs(context.instance, by="sensor dead_runs")
    return SkipReason(f"failed {len(reaped)} killed run(s): {', '.join(reaped)}" if reaped
                      else "no killed run")


def _jsonable(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def read_published_alerts() -> list[dict]:
    """Alerts in the published serving file (none before the first publish)."""
    path = serving_file(serving_dir())
    if not path.exists():
        return []
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute("select 1 from information_schema.tables where table_schema = "
                             "'marts' and table_name = 'mart_alerts'").fetchall()
        if not tables:
            return []
        cursor = con.execute(f"select * from {ALERTS_TABLE} order by alert_id")
        names = [d[0] for d in cursor.description]
        return [{n: _jsonable(v) for n, v in zip(names, row, strict=True)}
                for row in cursor.fetchall()]
    finally:
        con.close()


@sensor(name="shitstorm_alerts", minimum_interval_seconds=300,
        default_status=DefaultSensorStatus.RUNNING)
def shitstorm_alerts(context: SensorEvaluationContext) -> SkipReason:
    """Post each new alert of the published ``mart_alerts`` to the webhook, once."""
    if not webhook.webhook_url():
        return SkipReason(f"no webhook configured (set {webhook.WEBHOOK_ENV})")
    posted: list[str] = json.loads(context.cursor) if context.cursor else []
    seen = set(posted)
    sent = 0
    for alert in read_published_alerts():
        alert_id = str(alert["alert_id"])
        if alert_id in seen:
            continue
        severity = alert.get("severity", "")
        ok = webhook.post({"text": f"Rapport alert ({severity}): {alert_id}", "kind": "alert",
                           "alert": alert})
        if not ok:
            break  # keep the rest for the next tick, in order
        posted.append(alert_id)
        seen.add(alert_id)
        sent += 1
    context.update_cursor(json.dumps(posted[-REMEMBERED_ALERTS:]))
    return SkipReason(f"posted {sent} new alert(s)")


@sensor(name="nightly_digest", minimum_interval_seconds=300,
        default_status=DefaultSensorStatus.RUNNING)
def nightly_digest(context: SensorEvaluationContext) -> SkipReason:
    """Post the morning digest of each published night to the webhook, once (a refused post
    is tried again next tick); see :mod:`orchestration.digest`."""
    if not webhook.webhook_url():
        return SkipReason(f"no webhook configured (set {webhook.WEBHOOK_ENV})")
    status = read_status(serving_dir())
    night = status.published_run_id
    if not night or night == context.cursor:
        return SkipReason("no newly published night")
    report = serving_dir() / "report" / "index.html"
    payload = build_digest(serving_file(serving_dir()), status.data_as_of,
                           report if report.exists() else None)
    if payload is None:
        context.update_cursor(night)
        return SkipReason(f"night {night} has no data to digest")
    if not webhook.post({**payload, "run_id": night}):
        return SkipReason("the webhook refused the digest; trying again next tick")
    context.update_cursor(night)
    return SkipReason(f"posted the digest of night {night} for {payload['day']}")
