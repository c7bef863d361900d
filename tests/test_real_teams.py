"""Rapport as a real team sets it up: its own platforms, accounts and business config.

Three teams (tests/fixtures/teams/README.md tells their stories and derives the figures):
``mastodon_only``, ``x_only`` and ``meta_only``, each with recorded API pages written by hand
for these tests (not the demo generator) and a seeds folder of its own, read through
``RAPPORT_SEEDS_DIR``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ingestion.settings import REPO_ROOT

TEAMS = Path(__file__).resolve().parent / "fixtures" / "teams"
DBT_PROJECT = REPO_ROOT / "dbt_project"
DBT = Path(sys.executable).parent / "dbt"


def seeds_dir(team: str) -> str:
    """A team's seeds folder as ``RAPPORT_SEEDS_DIR`` takes it: relative to dbt_project/."""
    return os.path.relpath(TEAMS / team / "seeds", DBT_PROJECT)


def dbt(command: str, tmp_path: Path, seeds: str) -> subprocess.CompletedProcess:
    """``dbt <command>`` on the project with ``seeds`` as RAPPORT_SEEDS_DIR, writing only
    under ``tmp_path`` (its own target folder and warehouse)."""
    env = {**os.environ, "RAPPORT_SEEDS_DIR": seeds,
           "RAPPORT_WAREHOUSE": str(tmp_path / "rapport.duckdb")}
    return subprocess.run([str(DBT), command, "--profiles-dir", ".", "--target-path",
                           str(tmp_path / "target")], cwd=DBT_PROJECT, env=env,
                          capture_output=True, text=True)


def seed_nodes(manifest: Path) -> dict[str, str]:
    """Seed unique_id -> the file it is read from."""
    nodes = json.loads(manifest.read_text(encoding="utf-8"))["nodes"]
    return {key: node["original_file_path"] for key, node in nodes.items()
            if node["resource_type"] == "seed"}


def test_team_seeds_folder_keeps_the_seed_ids_of_the_prepared_manifest(tmp_path: Path) -> None:
    # Dagster's asset keys come from the manifest `make prepare` built with the default seeds:
    # a night with a team's folder must produce the same seed nodes, read from that folder.
    parsed = dbt("parse", tmp_path, seeds_dir("x_only"))
    assert parsed.returncode == 0, parsed.stdout
    team = seed_nodes(tmp_path / "target" / "manifest.json")
    prepared = seed_nodes(DBT_PROJECT / "target" / "manifest.json")
    assert team.keys() == prepared.keys()
    assert {Path(p).parent for p in team.values()} == {Path(seeds_dir("x_only"))}


def test_absolute_seeds_dir_is_refused_and_leaves_the_csvs_alone(tmp_path: Path) -> None:
    # dbt 1.11 writes every seed it loads to target/run/<project>/<seed path>: for an absolute
    # path that is the team's CSV itself. The project refuses such a value by name instead.
    team = shutil.copytree(TEAMS / "x_only" / "seeds", tmp_path / "team_seeds")
    before = {p.name: p.read_bytes() for p in team.iterdir()}
    seeded = dbt("seed", tmp_path, str(team))
    assert seeded.returncode != 0
    assert f"RAPPORT_SEEDS_DIR={team} refused" in seeded.stdout
    assert {p.name: p.read_bytes() for p in team.iterdir()} == before
