"""Rapport as a real team sets it up: its own platforms, accounts and business config.

Three teams (tests/fixtures/teams/README.md tells their stories and derives the figures):
``mastodon_only``, ``x_only`` and ``meta_only``, each with recorded API pages written by hand
for these tests (not the demo generator) and a seeds folder of its own, read through
``RAPPORT_SEEDS_DIR``. Each team runs ``rapport run`` twice as a new user would (only its own
platform's settings, its own warehouse, serving folder and Dagster instance) against a loopback
server of its pages; the tests read the published serving file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from ingestion.demo.replay import ReplayServer
from ingestion.settings import REPO_ROOT
from tests.conftest import query

TEAMS = Path(__file__).resolve().parent / "fixtures" / "teams"
DBT_PROJECT = REPO_ROOT / "dbt_project"
DBT = Path(sys.executable).parent / "dbt"
RAPPORT = Path(sys.executable).parent / "rapport"
SOURCES = ("x", "meta", "mastodon", "inbox", "crm")
NIGHT_TIMEOUT_SECONDS = 900


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


# --- end to end: `rapport run` for each team ---------------------------------------------------


@dataclass
class TeamNights:
    """Two `rapport run`s in a row for one team, and what each published."""

    team: str
    serving_file: Path
    runs: list[subprocess.CompletedProcess]
    statuses: list[dict]

    def query(self, sql: str) -> list[tuple]:
        """Rows of ``sql`` on the published serving file (read-only)."""
        return query(self.serving_file, sql)

    def scalar(self, sql: str) -> object:
        return self.query(sql)[0][0]


def _user_environment(home: Path, team: str, settings: dict[str, str]) -> dict[str, str]:
    """The environment of a new user's shell: nothing of this machine's Rapport, dlt or Dagster
    settings, only the team's platform, its own folders, a salt and its seeds."""
    dagster_home = home / "dagster_home"
    dagster_home.mkdir()
    shutil.copy(REPO_ROOT / "dagster_home" / "dagster.yaml", dagster_home / "dagster.yaml")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SOURCES__", "RAPPORT_", "DAGSTER_"))}
    return {**env, **settings,
            "RAPPORT_WAREHOUSE": str(home / "warehouse" / "rapport.duckdb"),
            "RAPPORT_SERVING_DIR": str(home / "serving"),
            "DAGSTER_HOME": str(dagster_home),
            "RAPPORT_CONTACT_KEY_SALT": f"{team}-6f1c9e0d4b7a2385e4c1d09f7b3a6e52",
            "RAPPORT_SEEDS_DIR": seeds_dir(team)}


def two_nights(team: str, settings: Callable[[str], dict[str, str]],
               tmp_path_factory: pytest.TempPathFactory) -> TeamNights:
    """Serve ``team``'s pages and run `rapport run` twice (the second finds nothing new)."""
    home = tmp_path_factory.mktemp(team)
    runs, statuses = [], []
    with ReplayServer(TEAMS / team / "api") as server:
        env = _user_environment(home, team, settings(server.url))
        for _ in range(2):
            run = subprocess.run([str(RAPPORT), "run"], cwd=home, env=env, capture_output=True,
                                 text=True, timeout=NIGHT_TIMEOUT_SECONDS)
            runs.append(run)
            status = home / "serving" / "status.json"
            statuses.append(json.loads(status.read_text()) if status.exists() else {})
    return TeamNights(team, home / "serving" / "rapport_serving.duckdb", runs, statuses)


# The owned accounts each team configures (its seeds list the same ids).
VELOFLOTT = "109384756120934712"
X_BRAND, X_HELP = "1402837465123045376", "1402839912047331329"
KRUME_PAGE = "104857392016482"


def mastodon_settings(url: str) -> dict[str, str]:
    return {"SOURCES__MASTODON__BASE_URL": f"{url}/mastodon",
            "SOURCES__MASTODON__ACCOUNT_IDS": json.dumps([VELOFLOTT]),
            "SOURCES__MASTODON__ACCESS_TOKENS": json.dumps({VELOFLOTT: f"demo-{VELOFLOTT}"})}


def x_settings(url: str) -> dict[str, str]:
    accounts = [X_BRAND, X_HELP]
    return {"SOURCES__X__BASE_URL": f"{url}/x",
            "SOURCES__X__ACCOUNT_IDS": json.dumps(accounts),
            "SOURCES__X__SEARCH_QUERY": "pixelpost OR printora -is:retweet",
            "SOURCES__X__BEARER_TOKEN": "AAAAAAAAAAAAAAAAAAAAAPixelpostTeamApp",
            # the replay server answers a user token demo-<id> with that account's DM pages
            "SOURCES__X__USER_TOKENS": json.dumps({a: f"demo-{a}" for a in accounts})}


def meta_settings(url: str) -> dict[str, str]:
    return {"SOURCES__META__BASE_URL": f"{url}/meta",
            "SOURCES__META__PAGE_IDS": json.dumps([KRUME_PAGE]),
            "SOURCES__META__ACCESS_TOKENS": json.dumps({KRUME_PAGE: "EAAGkrumePAGEtoken"})}


@pytest.fixture(scope="module")
def mastodon_team(tmp_path_factory: pytest.TempPathFactory) -> TeamNights:
    """mastodon_only: two nights of `rapport run`."""
    return two_nights("mastodon_only", mastodon_settings, tmp_path_factory)


@pytest.fixture(scope="module")
def x_team(tmp_path_factory: pytest.TempPathFactory) -> TeamNights:
    """x_only: two nights of `rapport run`."""
    return two_nights("x_only", x_settings, tmp_path_factory)


@pytest.fixture(scope="module")
def meta_team(tmp_path_factory: pytest.TempPathFactory) -> TeamNights:
    """meta_only: two nights of `rapport run`."""
    return two_nights("meta_only", meta_settings, tmp_path_factory)


TEAM_FIXTURES = {"mastodon_team": "mastodon", "x_team": "x", "meta_team": "meta"}


def _tail(run: subprocess.CompletedProcess) -> str:
    return (f"rc {run.returncode}\n--- stdout\n{run.stdout[-3000:]}\n"
            f"--- stderr\n{run.stderr[-6000:]}")


def conversation(nights: TeamNights, conversation_id: str) -> dict:
    """One row of the published fct_conversations, by column name."""
    con = duckdb.connect(str(nights.serving_file), read_only=True)
    try:
        cursor = con.execute("select * from marts.fct_conversations where conversation_id = ?",
                             [conversation_id])
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    finally:
        con.close()
    assert len(rows) == 1, f"{conversation_id}: {len(rows)} conversations"
    return dict(zip(names, rows[0], strict=True))


def interactions_per_platform(nights: TeamNights) -> dict[str, int]:
    return dict(nights.query("select platform, count(*) from marts.fct_interactions "
                             "group by platform"))


@pytest.mark.parametrize("fixture", TEAM_FIXTURES)
def test_one_platform_team_night_publishes_and_names_the_skipped_sources(
        fixture: str, request: pytest.FixtureRequest) -> None:
    nights: TeamNights = request.getfixturevalue(fixture)
    first = nights.runs[0]
    assert first.returncode == 0, _tail(first)
    status = nights.statuses[0]
    assert status["last_attempt_status"] == "published"
    used = TEAM_FIXTURES[fixture]
    assert status["sources"][used] != "not configured"
    assert {s: status["sources"][s] for s in SOURCES if s != used} == {
        s: "not configured" for s in SOURCES if s != used}


@pytest.mark.parametrize("fixture", TEAM_FIXTURES)
def test_second_run_without_new_data_publishes_the_same_marts(
        fixture: str, request: pytest.FixtureRequest) -> None:
    nights: TeamNights = request.getfixturevalue(fixture)
    second = nights.runs[1]
    assert second.returncode == 0, _tail(second)
    first_status, second_status = nights.statuses
    assert second_status["last_attempt_status"] == "published"
    assert second_status["published_run_id"] != first_status["published_run_id"]
    # nothing new was read, nothing was counted twice
    assert second_status["marts"] == first_status["marts"]
    assert second_status["data_as_of"] == first_status["data_as_of"]


# Conversations of the Mastodon team, by their first status (README: mastodon_only).
LENA_COMPLAINT = "mastodon:117625344491524711"
KAI_DM = "mastodon:117632139264004711"
TOBI_LATE_ANSWER = "mastodon:117633330708484711"
MARA_UNANSWERED = "mastodon:117636680908804711"
GIVEAWAY_SPAM = "mastodon:117635253534724711"


def test_mastodon_team_conversations_response_times_and_own_config(
        mastodon_team: TeamNights) -> None:
    assert mastodon_team.query(
        "select team, channel, count(*), count(*) filter (where is_answered), "
        "count(*) filter (where is_unanswered) from marts.fct_conversations "
        "group by all") == [("community", "mastodon_brand", 6, 4, 1)]
    lena = conversation(mastodon_team, LENA_COMPLAINT)
    assert (lena["first_response_minutes"], lena["turns"], lena["is_resolved"]) == (35, 5, True)
    kai = conversation(mastodon_team, KAI_DM)
    assert (kai["medium"], kai["first_response_minutes"]) == ("direct", 25)
    # 17.5 hours: within the default brand SLA (24 h), late by the team's own (12 h)
    tobi = conversation(mastodon_team, TOBI_LATE_ANSWER)
    assert (tobi["first_response_minutes"], tobi["sla_minutes"], tobi["is_sla_met"]) == (
        1050, 720, False)
    # the giveaway is listed as spam, not as a question left unanswered
    assert {c: (conversation(mastodon_team, c)["is_unanswered"],
                conversation(mastodon_team, c)["is_spam"])
            for c in (MARA_UNANSWERED, GIVEAWAY_SPAM)} == {MARA_UNANSWERED: (True, False),
                                                           GIVEAWAY_SPAM: (False, True)}
    assert mastodon_team.query("select team, team_name from marts.dim_teams") == [
        ("community", "Community & Werkstatt")]


def test_mastodon_team_interactions_leave_out_the_own_boost(mastodon_team: TeamNights) -> None:
    assert interactions_per_platform(mastodon_team) == {"mastodon": 22}
    assert dict(mastodon_team.query(
        "select interaction_type, count(*) from marts.fct_interactions "
        "where direction = 'outbound' group by all")) == {"post": 2, "reply": 4, "dm": 1}
    assert dict(mastodon_team.query(
        "select interaction_type, count(*) from marts.fct_interactions "
        "where interaction_type in ('favourite', 'reblog', 'follow') group by all")) == {
        "favourite": 3, "reblog": 1, "follow": 1}


# Conversations of the X team (README: x_only).
JULE_PUBLIC = "x:2124770172076032000"
JULE_DM = "x:2124777470164992007"
MIKE_LATE = "x:2125341184622592000"
GUS_SARCASM = "x:2125560127291392000"


def test_x_team_conversations_per_team_and_response_times(x_team: TeamNights) -> None:
    assert x_team.query(
        "select team, channel, count(*), count(*) filter (where is_answered), "
        "count(*) filter (where is_unanswered) from marts.fct_conversations "
        "group by all order by team") == [("care", "x_help", 4, 3, 1),
                                          ("marketing", "x_brand", 2, 1, 0)]
    assert conversation(x_team, JULE_PUBLIC)["first_response_minutes"] == 22
    jule_dm = conversation(x_team, JULE_DM)
    assert (jule_dm["medium"], jule_dm["first_response_minutes"], jule_dm["is_resolved"]) == (
        "direct", 21, True)
    mike = conversation(x_team, MIKE_LATE)
    assert (mike["first_response_minutes"], mike["sla_minutes"], mike["is_sla_met"]) == (
        645, 45, False)
    gus = conversation(x_team, GUS_SARCASM)
    assert (gus["first_response_minutes"], gus["is_sla_met"], gus["is_resolved"]) == (
        70, True, False)
    # the crypto spam is no unanswered conversation
    assert x_team.query("select sum(unanswered), sum(spam_conversations) "
                        "from marts.mart_response_daily") == [(1, 1)]


def test_x_team_interactions_count_the_spam_found_by_search_once(x_team: TeamNights) -> None:
    assert interactions_per_platform(x_team) == {"x": 18}
    assert dict(x_team.query("select interaction_type, count(*) from marts.fct_interactions "
                             "where direction = 'inbound' group by all")) == {
        "mention": 5, "reply": 2, "dm": 2, "keyword_mention": 3}


# Conversations of the Facebook team (README: meta_only).
JUERGEN_COMMENT = "facebook:122110483920001234_1187400112233405"
JUERGEN_MESSENGER = "facebook:m_Kr4mJ1aQw8-Z0pX2vbNfWg"
LISA_LATE = "facebook:122110571830004567_1203398877665501"


def test_meta_team_comment_threads_and_messenger(meta_team: TeamNights) -> None:
    assert meta_team.query(
        "select medium, count(*), count(*) filter (where is_answered), "
        "count(*) filter (where is_unanswered) from marts.fct_conversations "
        "group by all order by medium") == [("direct", 3, 2, 1), ("public", 6, 4, 1)]
    juergen = conversation(meta_team, JUERGEN_COMMENT)
    assert (juergen["first_response_minutes"], juergen["turns"], juergen["is_resolved"]) == (
        75, 3, True)
    assert conversation(meta_team, JUERGEN_MESSENGER)["first_response_minutes"] == 44
    lisa = conversation(meta_team, LISA_LATE)
    assert (lisa["first_response_minutes"], lisa["sla_minutes"], lisa["is_sla_met"]) == (
        1395, 240, False)
    assert meta_team.query("select distinct team from marts.fct_conversations") == [("dialog",)]
    assert interactions_per_platform(meta_team) == {"facebook": 22}
