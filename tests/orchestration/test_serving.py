"""Write-audit-publish: BI reads a swapped-in copy; failed nights keep the last good data."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest
from dagster import build_sensor_context

from orchestration.serving import publish, read_status, record_failure, serving_file

READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("select count(*) from marts.fct_demo").fetchall()[0][0], flush=True)
sys.stdin.readline()  # hold the file open until told to read again
print(con.execute("select count(*) from marts.fct_demo").fetchall()[0][0], flush=True)
"""


def make_working(path: Path, rows: int) -> None:
    con = duckdb.connect(str(path))
    con.execute("create schema if not exists marts")
    con.execute("create or replace table marts.fct_demo as "
                f"select range as id, timestamp '2026-10-01' + to_hours(range) as created_at "
                f"from range({rows})")
    con.close()


def count(path: Path, table: str = "marts.fct_demo") -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(f"select count(*) from {table}").fetchall()[0][0]
    finally:
        con.close()


def test_publish_copies_every_mart_to_file_and_parquet(tmp_path: Path) -> None:
    working, serving = tmp_path / "work.duckdb", tmp_path / "serving"
    make_working(working, 5)
    status = publish(working, serving, "run-1", "select max(created_at) from {marts}.fct_demo")
    assert count(serving_file(serving)) == 5
    parquet = serving / "parquet" / "current" / "fct_demo.parquet"
    assert duckdb.sql(f"select count(*) from '{parquet}'").fetchall()[0][0] == 5
    assert status.marts == {"fct_demo": 5}
    assert status.data_as_of == "2026-10-01T04:00:00Z"  # ISO 8601 in UTC, as every status time
    con = duckdb.connect(str(serving_file(serving)), read_only=True)
    row = con.execute("select published_run_id, last_attempt_status "
                      "from meta.serving_status").fetchall()
    con.close()
    assert row == [("run-1", "published")]


def test_bi_reader_keeps_its_night_while_the_next_one_is_published(tmp_path: Path) -> None:
    working, serving = tmp_path / "work.duckdb", tmp_path / "serving"
    make_working(working, 5)
    publish(working, serving, "run-1")
    reader = subprocess.Popen([sys.executable, "-c", READER, str(serving_file(serving))],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "5"
        make_working(working, 9)
        publish(working, serving, "run-2")  # must not be blocked by the open reader
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "5"  # the old night, consistently
    finally:
        reader.communicate(timeout=30)
    assert count(serving_file(serving)) == 9  # new connections see the new night
    assert read_status(serving).published_run_id == "run-2"


def test_failed_night_keeps_the_published_marts_and_says_so(tmp_path: Path) -> None:
    working, serving = tmp_path / "work.duckdb", tmp_path / "serving"
    make_working(working, 5)
    published = publish(working, serving, "run-1")
    make_working(working, 7)  # the failed night's half-built data must not leak
    status = record_failure(serving, "run-2", "nightly run run-2 failed in dbt")
    assert count(serving_file(serving)) == 5
    assert status.published_at == published.published_at
    assert (status.last_attempt_status, status.last_attempt_run_id) == ("failed", "run-2")
    con = duckdb.connect(str(serving_file(serving)), read_only=True)
    row = con.execute("select last_attempt_status, last_failure, published_run_id "
                      "from meta.serving_status").fetchall()
    con.close()
    assert row == [("failed", "nightly run run-2 failed in dbt", "run-1")]


def test_publishing_nothing_is_an_error_and_leaves_serving_alone(tmp_path: Path) -> None:
    working, serving = tmp_path / "work.duckdb", tmp_path / "serving"
    make_working(working, 5)
    publish(working, serving, "run-1")
    duckdb.connect(str(working)).execute("drop table marts.fct_demo").close()
    with pytest.raises(RuntimeError, match="nothing to publish"):
        publish(working, serving, "run-2")
    assert count(serving_file(serving)) == 5
    assert not list(serving.glob(".*.tmp"))


class Receiver:
    """A webhook receiver on loopback that records JSON bodies; can be told to fail."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.fail = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                if receiver.fail:
                    self.send_response(500)
                else:
                    receiver.bodies.append(body)
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def write_alerts(serving: Path, alert_ids: list[str]) -> None:
    working = serving.parent / "work.duckdb"
    con = duckdb.connect(str(working))
    con.execute("create schema if not exists marts")
    con.execute("create or replace table marts.mart_alerts "
                "(alert_id varchar, severity varchar, window_start timestamp)")
    for i, alert_id in enumerate(alert_ids):
        con.execute("insert into marts.mart_alerts values (?, 'high', "
                    "timestamp '2026-10-21 14:00' + to_hours(?))", [alert_id, i])
    con.close()
    publish(working, serving, "run")


def test_each_new_alert_is_posted_to_the_webhook_once(
        tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestration.sensors import shitstorm_alerts

    serving = tmp_path / "serving"
    monkeypatch.setenv("RAPPORT_SERVING_DIR", str(serving))
    monkeypatch.setenv("RAPPORT_WEBHOOK_URL", receiver.url)
    write_alerts(serving, ["storm-1"])
    context = build_sensor_context()
    shitstorm_alerts(context)
    assert [b["alert"]["alert_id"] for b in receiver.bodies] == ["storm-1"]
    assert receiver.bodies[0]["alert"]["window_start"] == "2026-10-21T14:00:00"
    write_alerts(serving, ["storm-1", "storm-2"])
    shitstorm_alerts(build_sensor_context(cursor=context.cursor))
    assert [b["alert"]["alert_id"] for b in receiver.bodies] == ["storm-1", "storm-2"]


def test_an_alert_the_webhook_refused_is_sent_again_next_time(
        tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestration.sensors import shitstorm_alerts

    serving = tmp_path / "serving"
    monkeypatch.setenv("RAPPORT_SERVING_DIR", str(serving))
    monkeypatch.setenv("RAPPORT_WEBHOOK_URL", receiver.url)
    write_alerts(serving, ["storm-1"])
    receiver.fail = True
    context = build_sensor_context()
    shitstorm_alerts(context)
    assert receiver.bodies == []
    receiver.fail = False
    shitstorm_alerts(build_sensor_context(cursor=context.cursor))
    assert [b["alert"]["alert_id"] for b in receiver.bodies] == ["storm-1"]


def test_publishing_works_with_an_apostrophe_in_the_paths(tmp_path: Path) -> None:
    folder = tmp_path / "O'Brien's team"
    folder.mkdir()
    working, serving = folder / "it's.duckdb", folder / "serving 'BI'"
    make_working(working, 3)
    status = publish(working, serving, "run-'1'")
    assert count(serving_file(serving)) == 3
    parquet = serving / "parquet" / "current" / "fct_demo.parquet"
    assert duckdb.execute("select count(*) from read_parquet(?)", [str(parquet)]
                          ).fetchall()[0][0] == 3
    assert status.published_run_id == "run-'1'"
