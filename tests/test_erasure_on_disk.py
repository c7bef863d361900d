"""Deleted content leaves the disk, not only the tables: after a night in which the platforms
reported items deleted, no byte of their text is left in any file under the warehouse folder
(the DuckDB file and its WAL, dlt's pipelines folder with its load packages, state and trace).

Two real nights as in ``tests/dbt/test_tombstones.py`` (recorded pages served on loopback, the
real pipelines, ``dbt build``, the purge asset executed by Dagster). The scan reads the bytes of
every file and looks for each deleted text as UTF-8, UTF-16 (both byte orders) and JSON-escaped
(``\\u00e9``, ``\\/``), so a copy in a load package, a freed DuckDB block or a pickled trace is
found. The same scan after night one must find the texts (in the warehouse file at least), so
the test can fail.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingestion.purge import WarehouseBusy, compaction_due
from tests.conftest import query
from tests.dbt.test_tombstones import (
    COMMENTS,
    FIXTURES,
    LATER_NIGHT,
    STATUSES,
    add_brand_reply_on_x,
    delete_on_platform,
    deleted_texts,
    edit_page,
    purge,
    run_night,
)


def encodings(text: str) -> dict[str, bytes]:
    """The forms a text may take in a file: UTF-8, UTF-16 and JSON-escaped (ASCII or not)."""
    forms = {"utf-8": text.encode("utf-8"), "utf-16-le": text.encode("utf-16-le"),
             "utf-16-be": text.encode("utf-16-be"),
             "json": json.dumps(text, ensure_ascii=False)[1:-1].encode("utf-8"),
             "json-ascii": json.dumps(text, ensure_ascii=True)[1:-1].encode("ascii"),
             "json-slashes": json.dumps(text)[1:-1].replace("/", "\\/").encode("utf-8")}
    distinct: dict[bytes, str] = {}
    for form, needle in forms.items():
        distinct.setdefault(needle, form)
    return {form: needle for needle, form in distinct.items()}


def scan(folder: Path, texts: list[str]) -> list[tuple[str, str, str]]:
    """``(file, text, form)`` for every file under ``folder`` holding one of ``texts``."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        data = path.read_bytes()
        for text in texts:
            for form, needle in encodings(text).items():
                if needle in data:
                    found.append((str(path.relative_to(folder)), text[:40], form))
    return found


@dataclass
class Nights:
    root: Path
    warehouse: Path
    texts: list[str]
    after_first: list[tuple[str, str, str]]
    packages_after_first: list[Path]
    purged: dict[str, int]
    version_before: dict


def loaded_packages(folder: Path) -> list[Path]:
    """dlt's completed load packages under the pipelines folder."""
    return sorted(folder.glob(".dlt_pipelines/*/load/loaded/*"))


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nights]:
    root = tmp_path_factory.mktemp("erasure")
    shutil.copytree(FIXTURES / "api", root / "api")
    shutil.copytree(FIXTURES / "exports", root / "exports")
    add_brand_reply_on_x(root)
    warehouse = root / "warehouse" / "rapport.duckdb"
    texts = deleted_texts(root)
    assert run_night(root, warehouse) == {}
    after_first = scan(warehouse.parent, texts)
    packages = loaded_packages(warehouse.parent)
    for page in (STATUSES, COMMENTS):
        edit_page(root / "api" / page, delete_on_platform)
    version_before = storage_version(warehouse)
    purged = run_night(root, warehouse, *LATER_NIGHT)
    yield Nights(root, warehouse, texts, after_first, packages, purged, version_before)


def storage_version(warehouse: Path) -> dict:
    return query(warehouse, "select tags from duckdb_databases() "
                            "where database_name = current_database()")[0][0]


def test_the_scan_finds_the_texts_while_they_are_still_held(nights: Nights) -> None:
    assert len(nights.texts) == 2
    held = {(file, text) for file, text, _ in nights.after_first}
    # each text is in the warehouse file (the raw tables) after night one
    for text in nights.texts:
        assert ("rapport.duckdb", text[:40]) in held, (text, nights.after_first)


def test_no_copy_of_a_deleted_text_is_left_on_disk_after_the_purge(nights: Nights) -> None:
    assert nights.purged  # the purge removed something tonight
    assert scan(nights.warehouse.parent, nights.texts) == []


def test_completed_load_packages_keep_no_data(nights: Nights) -> None:
    """dlt keeps the folder of a loaded package (its schema and state) but deletes its data
    files once the load lands; nothing of a loaded package holds a row."""
    for package in loaded_packages(nights.warehouse.parent):
        jobs = [p for p in package.rglob("*") if p.is_file() and "_jobs" in str(p)]
        assert jobs == [], package


def test_the_compacted_warehouse_keeps_every_table_and_its_format(nights: Nights) -> None:
    assert storage_version(nights.warehouse) == nights.version_before
    assert not compaction_due(nights.warehouse).exists()
    assert query(nights.warehouse, "select count(*) from marts.fct_interactions")[0][0] > 0
    # every view still reads (dbt's views name the warehouse's catalog)
    views = query(nights.warehouse, "select schema_name, view_name from duckdb_views() "
                                    "where not internal")
    assert len(views) > 5
    for schema, view in views:
        query(nights.warehouse, f'select count(*) from "{schema}"."{view}"')


HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("open", flush=True)
time.sleep(120)
"""


def test_a_warehouse_held_open_elsewhere_fails_the_purge_and_the_compaction_stays_due(
        isolated_env: Path) -> None:
    """A BI tool (or anything) holding the working file: the purge asset fails naming the
    holder instead of copying under it; the compaction is still owed and the next night, with
    the file free again, does it even though that night purges nothing."""
    import duckdb

    isolated_env.parent.mkdir(parents=True)
    con = duckdb.connect(str(isolated_env))
    con.execute("create table t as select 'gone' as text")
    con.close()
    due = compaction_due(isolated_env)
    due.touch()  # a night whose purge changed rows and whose compaction failed
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(isolated_env)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(Exception) as failed:  # noqa: PT011 (Dagster wraps it)
            purge(isolated_env)
        chain = [failed.value, failed.value.__cause__]
        busy = [e for e in chain if isinstance(e, WarehouseBusy)]
        assert busy and "open in another process" in str(busy[0])
        assert f"PID {holder.pid}" in str(busy[0])
        assert due.exists()
    finally:
        holder.kill()
        holder.wait()
    assert purge(isolated_env) == {}
    assert not due.exists()
    assert query(isolated_env, "select text from t") == [("gone",)]
