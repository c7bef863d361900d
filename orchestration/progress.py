"""What a person at the terminal sees of a run: one line per step, the full log in a file.

A night prints thousands of lines (Dagster's debug events, dbt's node lines, dlt's output).
:func:`output_to` sends all of it (this process's and its subprocesses', at the file
descriptor level) to a log file and hands back the terminal; :class:`Progress` follows the
run's events in the Dagster instance and writes a line there when a step starts, ends or
fails, when a blocking check fails, and for each warning and source message of the run.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from dagster import DagsterInstance, EventLogEntry

POLL_SECONDS = 0.5
WAITING = "waiting: another run holds the warehouse writer pool"
# User messages worth a terminal line: what the ingest steps say about their source.
_SOURCE_STEPS = ("ingest_",)


@contextmanager
def output_to(log: Path) -> Iterator[IO[str]]:
    """Everything written to stdout and stderr goes to ``log``; yields the terminal."""
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(saved_out), "w", buffering=1, encoding="utf-8")
    with log.open("a", encoding="utf-8") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            terminal.close()


class Progress:
    """Follows run ``run_id`` in ``instance`` from a thread, writing lines to ``out``."""

    def __init__(self, instance: DagsterInstance, run_id: str, out: IO[str]) -> None:
        self.instance, self.run_id, self.out = instance, run_id, out
        self._cursor: str | None = None
        self._waiting: set[str] = set()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="rapport-progress",
                                        daemon=True)

    def __enter__(self) -> Progress:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(timeout=10)
        self._poll()  # what arrived after the last poll

    def _follow(self) -> None:
        while not self._done.wait(POLL_SECONDS):
            self._poll()

    def _poll(self) -> None:
        try:
            records = self.instance.get_records_for_run(self.run_id, cursor=self._cursor)
        except Exception:  # noqa: BLE001 - the run may not be stored yet; try again
            return
        for record in records.records:
            line = describe(record.event_log_entry)
            if line and line.endswith(WAITING):  # said once per step, not on every retry
                if line[12:] in self._waiting:
                    continue
                self._waiting.add(line[12:])
            if line:
                self.out.write(line + "\n")
        self._cursor = records.cursor or self._cursor


def describe(entry: EventLogEntry) -> str | None:
    """The terminal line for one event of a run, or None for events not worth one."""
    import logging

    when = datetime.fromtimestamp(entry.timestamp).strftime("%H:%M:%S")
    step = entry.step_key or ""
    event = entry.dagster_event
    if event is None:
        if entry.level >= logging.WARNING or (
                entry.level >= logging.INFO and step.startswith(_SOURCE_STEPS)):
            return f"  {when}  {step:<34} {entry.user_message.splitlines()[0][:200]}"
        return None
    kind = event.event_type_value
    if kind == "STEP_START":
        return f"  {when}  {step:<34} started"
    if kind == "STEP_SUCCESS":
        seconds = event.event_specific_data.duration_ms / 1000
        return f"  {when}  {step:<34} done in {seconds:.1f}s"
    if kind == "STEP_FAILURE":
        data = event.step_failure_data
        reason = ((data.user_failure_data.description if data.user_failure_data else None)
                  or (data.error.message if data.error else "") or "failed")
        reason = reason.strip().splitlines()[0]
        cause = data.error.cause if data.error and not data.user_failure_data else None
        if cause is not None:  # e.g. "Exceeded max_retries of 2": the cause says why
            reason += f" ({cause.message.strip().splitlines()[0]})"
        return f"  {when}  {step:<34} FAILED: {reason[:300]}"
    if kind == "ENGINE_EVENT" and "blocked by limit for pool" in (event.message or ""):
        return f"  {when}  {step:<34} {WAITING}"
    if kind == "STEP_UP_FOR_RETRY":
        return f"  {when}  {step:<34} will be retried"
    if kind == "ASSET_CHECK_EVALUATION":
        evaluation = event.event_specific_data
        if not evaluation.passed:
            return (f"  {when}  {step:<34} check {evaluation.asset_key.to_user_string()}:"
                    f"{evaluation.check_name} failed ({evaluation.severity.value})")
    return None
