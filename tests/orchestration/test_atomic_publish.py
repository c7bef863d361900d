"""Publishing is one switch: a publish killed at any step leaves BI the old whole night.

Each publish runs in a real subprocess that SIGKILLs itself right after one step of
``orchestration.serving.PUBLISH_STEPS``; a separate reader process then opens what BI opens
(the serving file, ``parquet/current/*.parquet``, ``status.json``) and reports what it sees.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.serving import KEEP_SNAPSHOTS, PUBLISH_STEPS, publish, record_failure
from tests.orchestration.test_serving import make_working

PUBLISHER = """
import os, signal, sys
from pathlib import Path
from orchestration.serving import publish, record_failure

working, serving, run_id, kill_at, what = sys.argv[1:6]

def step(name):
    if name == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)

if what == "publish":
    publish(Path(working), Path(serving), run_id, on_step=step)
else:
    record_failure(Path(serving), run_id, "nightly run failed in dbt", on_step=step)
"""

READER = """
import glob, json, os, sys, duckdb
serving = sys.argv[1]
con = duckdb.connect(os.path.join(serving, "rapport_serving.duckdb"), read_only=True)
file_rows = con.execute("select count(*) from marts.fct_demo").fetchall()[0][0]
table = con.execute("select published_run_id, marts, last_attempt_status "
                    "from meta.serving_status").fetchall()
con.close()
parquet = glob.glob(os.path.join(serving, "parquet", "current", "*.parquet"))
parquet_rows = duckdb.execute("select count(*) from read_parquet(?)", [parquet]
                              ).fetchall()[0][0]
with open(os.path.join(serving, "status.json"), encoding="utf-8") as fh:
    status = json.load(fh)
print(json.dumps({"file_rows": file_rows, "table": table, "parquet_rows": parquet_rows,
                  "parquet_files": len(parquet), "status": status}))
"""


def publish_killed_at(working: Path, serving: Path, run_id: str, step: str,
                      what: str = "publish") -> int:
    done = subprocess.run([sys.executable, "-c", PUBLISHER, str(working), str(serving), run_id,
                           step, what], capture_output=True, text=True, timeout=120)
    return done.returncode


def bi_sees(serving: Path) -> dict:
    """What a separate BI process reads through the paths BI opens."""
    done = subprocess.run([sys.executable, "-c", READER, str(serving)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def assert_one_whole_night(seen: dict, run_id: str, rows: int, attempt: str = "published"
                           ) -> None:
    """File, its status table, the Parquet snapshot and status.json are all of one night."""
    assert seen["file_rows"] == rows, seen
    assert seen["parquet_rows"] == rows and seen["parquet_files"] == 1, seen
    assert seen["table"] == [[run_id, json.dumps({"fct_demo": rows}), attempt]], seen
    assert seen["status"]["published_run_id"] == run_id, seen
    assert seen["status"]["marts"] == {"fct_demo": rows}, seen
    assert seen["status"]["last_attempt_status"] == attempt, seen


def leftovers(serving: Path) -> list[str]:
    """Temporary files and folders (dot-names) and WAL files anywhere in the serving folder."""
    return sorted(str(p.relative_to(serving)) for p in [*serving.rglob(".*"),
                                                         *serving.rglob("*.wal")])


@pytest.mark.parametrize("step", PUBLISH_STEPS)
def test_a_publish_killed_at_any_step_leaves_bi_one_whole_night_and_the_next_cleans_up(
        tmp_path: Path, step: str) -> None:
    working, serving = tmp_path / "work.duckdb", tmp_path / "serving"
    make_working(working, 5)
    publish(working, serving, "night-1")
    make_working(working, 9)

    assert publish_killed_at(working, serving, "night-2", step) == -signal.SIGKILL
    seen = bi_sees(serving)
    if PUBLISH_STEPS.index(step) < PUBLISH_STEPS.index("switched"):
        assert_one_whole_night(seen, "night-1", 5)
    else:
        assert_one_whole_night(seen, "night-2", 9)
    if step == "marts_copied":  # killed with the copy's data still in the WAL
        assert list((serving / "nights").glob(".*.tmp/*.wal")), leftovers(serving)

    make_working(working, 12)
    publish(working, serving, "night-3")
    assert_one_whole_night(bi_sees(serving), "night-3", 12)
    assert leftovers(serving) == []
    assert len(list((serving / "nights").iterdir())) <= KEEP_SNAPSHOTS


@pytest.mark.parametrize("step", ["night_complete", "switched"])
def test_recording_a_failure_killed_midway_keeps_data_and_status_of_one_night(
        tmp_path: Path, step: str) -> None:
    working, serving = tmp_path / "work.duckdb", tmp_path / "serving"
    make_working(working, 5)
    publish(working, serving, "night-1")

    assert publish_killed_at(working, serving, "night-2", step, "failure") == -signal.SIGKILL
    seen = bi_sees(serving)
    assert seen["file_rows"] == seen["parquet_rows"] == 5, seen
    attempt = "published" if step == "night_complete" else "failed"
    assert seen["table"][0][2] == seen["status"]["last_attempt_status"] == attempt, seen

    record_failure(serving, "night-3", "nightly run failed in ingest_x")
    assert_one_whole_night(bi_sees(serving), "night-1", 5, "failed")
    assert leftovers(serving) == []


def test_old_nights_are_bounded_and_a_reader_of_an_old_one_keeps_reading(
        tmp_path: Path) -> None:
    working, serving = tmp_path / "work.duckdb", tmp_path / "serving"
    make_working(working, 5)
    publish(working, serving, "night-1")
    held = duckdb.connect(str(serving / "rapport_serving.duckdb"), read_only=True)
    try:
        for night in range(2, 2 + KEEP_SNAPSHOTS + 2):
            make_working(working, night)
            publish(working, serving, f"night-{night}")
        # the first night's folder is gone, its file still reads for the reader holding it
        assert held.execute("select count(*) from marts.fct_demo").fetchall()[0][0] == 5
    finally:
        held.close()
    assert len(list((serving / "nights").iterdir())) == KEEP_SNAPSHOTS
    assert_one_whole_night(bi_sees(serving), f"night-{KEEP_SNAPSHOTS + 3}", KEEP_SNAPSHOTS + 3)


def test_a_serving_folder_of_the_layout_before_night_folders_is_taken_over(
        tmp_path: Path) -> None:
    # what publishing wrote before: a regular serving file and status.json, a Parquet
    # `current` link into parquet/snapshots/, and a temporary file a kill left behind
    working, serving = tmp_path / "work.duckdb", tmp_path / "serving"
    make_working(working, 5)
    snapshot = serving / "parquet" / "snapshots" / "20261020T021400000000Z"
    snapshot.mkdir(parents=True)
    con = duckdb.connect(str(serving / "rapport_serving.duckdb"))
    con.execute(f"attach '{working}' as w (read_only)")
    con.execute("create schema marts")
    con.execute("create table marts.fct_demo as select * from w.marts.fct_demo")
    con.execute(f"copy marts.fct_demo to '{snapshot / 'fct_demo.parquet'}' (format parquet)")
    con.close()
    (serving / "parquet" / "current").symlink_to(Path("snapshots") / snapshot.name)
    (serving / "status.json").write_text(json.dumps({"published_run_id": "old-night"}))
    (serving / ".rapport_serving.duckdb.20261021T021400000000Z.tmp").write_bytes(b"half")
    (serving / ".rapport_serving.duckdb.20261021T021400000000Z.tmp.wal").write_bytes(b"wal")

    make_working(working, 9)
    publish(working, serving, "night-2")
    assert_one_whole_night(bi_sees(serving), "night-2", 9)
    assert leftovers(serving) == []
    assert not (serving / "parquet" / "snapshots").exists()


PAUSING_PUBLISHER = """
import sys, time
from pathlib import Path
from orchestration.serving import publish

working, serving, marker = sys.argv[1:4]

def step(name):
    if name == "marts_copied":  # half-way: tell the test, then take a while
        Path(marker).touch()
        time.sleep(3)

publish(Path(working), Path(serving), "night-2", on_step=step)
"""


def test_a_failure_recorded_while_a_night_publishes_waits_and_keeps_the_new_night(
        tmp_path: Path) -> None:
    # the failure sensor (in the daemon) may record a failed run while the next one publishes
    working, serving, marker = tmp_path / "work.duckdb", tmp_path / "serving", tmp_path / "m"
    make_working(working, 5)
    publish(working, serving, "night-1")
    make_working(working, 9)
    publisher = subprocess.Popen([sys.executable, "-c", PAUSING_PUBLISHER, str(working),
                                  str(serving), str(marker)], stderr=subprocess.PIPE, text=True)
    while not marker.exists():
        assert publisher.poll() is None, publisher.stderr.read()
        time.sleep(0.05)
    record_failure(serving, "night-x", "nightly run night-x failed in dbt")
    assert publisher.wait(timeout=120) == 0, publisher.stderr.read()
    seen = bi_sees(serving)
    assert seen["file_rows"] == seen["parquet_rows"] == 9, seen
    assert seen["table"] == [["night-2", json.dumps({"fct_demo": 9}), "failed"]], seen
    assert seen["status"]["last_attempt_run_id"] == "night-x", seen
