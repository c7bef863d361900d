"""Latency of the queries a dashboard sends, each from a fresh read-only connection to the
published serving file, as a BI tool that connects per query (or per tile) does.

    .venv/bin/python benchmarks/bi_queries.py [--serving PATH] [--repeat 20] [--json OUT]

PATH is the serving folder or its DuckDB file (default: the configured serving folder,
``RAPPORT_SERVING_DIR`` or warehouse/serving). Each query runs ``--repeat`` times; every run
opens a new read-only connection, executes, fetches every row and closes, and its wall time
counts all of that. The script prints per query the rows returned, p50 and p95 in
milliseconds, and the same for connecting alone (a connection that runs nothing), so the part
of a query's time that is DuckDB's start-up shows. Windows such as "the last 30 days" end at
the newest day in the data, so the figures do not depend on today's date.

The queries are the ones the dashboards and the nightly report need (issue 13's list): MRMs
per team per week, first response median and p90 per channel over 30 days, conversations
unanswered past their SLA, top contacts, segments, share of voice per day, alerts, post
engagement and interactions per day and platform.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from orchestration.serving import SERVING_FILE  # noqa: E402

QUERIES: dict[str, str] = {
    "mrms_per_team_per_week": """
        select d.week_start, m.team, sum(m.tagged_mrms) as tagged, sum(m.detected_mrms) as detected,
               sum(m.mrms) as mrms, sum(m.conversations_with_reply) as conversations_with_reply
        from marts.mart_mrm_daily m join marts.dim_date d using (date_day)
        group by all order by 1, 2""",
    "first_response_per_channel_30d": """
        select channel, count(*) as answered,
               quantile_cont(first_response_minutes, 0.5) as median_minutes,
               quantile_cont(first_response_minutes, 0.9) as p90_minutes,
               avg(case when is_sla_met then 1.0 else 0.0 end) as sla_met_share
        from marts.fct_conversations
        where is_answered
          and started_on > (select max(started_on) from marts.fct_conversations) - 30
        group by channel order by channel""",
    "unanswered_past_sla": """
        select conversation_id, channel, team, first_inbound_at, sla_minutes,
               date_diff('minute', first_inbound_at, (select max(last_message_at)
                                                      from marts.fct_conversations)) as waiting
        from marts.fct_conversations
        where is_unanswered
        order by waiting desc limit 100""",
    "top_contacts": """
        select contact_key, platform, segment, involvement_score, interactions,
               positive_share, last_interaction_at
        from marts.dim_contacts order by involvement_score desc nulls last limit 50""",
    "segments": """
        select segment, count(*) as contacts,
               sum(case when is_ambassador_candidate then 1 else 0 end)
               as ambassador_candidates, avg(involvement_score) as mean_involvement
        from marts.dim_contacts group by segment order by contacts desc""",
    "share_of_voice_per_day": """
        select date_day, name, kind, mentions, share_of_voice, net_sentiment
        from marts.mart_share_of_voice_daily
        where date_day > (select max(date_day) from marts.mart_share_of_voice_daily) - 90
        order by date_day, name""",
    "alerts": """
        select alert_id, alert_type, severity, window_start, window_end, observed_count, z_score
        from marts.mart_alerts order by window_start desc limit 100""",
    "post_engagement_30d": """
        select post_key, platform, channel, max(published_on) as published_on,
               sum(engagements) as engagements, max(impressions) as impressions,
               max(engagement_rate) as engagement_rate
        from marts.mart_post_performance_daily
        where date_day > (select max(date_day) from marts.mart_post_performance_daily) - 30
        group by post_key, platform, channel order by engagements desc limit 50""",
    "interactions_per_day_platform": """
        select date_day, platform, sum(interactions) as interactions,
               sum(negative_messages) as negative_messages
        from marts.mart_interactions_daily group by all order by 1, 2""",
    # what the tile above would cost without the pre-aggregated mart, for comparison
    "interactions_per_day_platform_scan": """
        select created_on, platform, count(*) as interactions,
               count(*) filter (where sentiment_label = 'negative') as negative_messages
        from marts.fct_interactions group by all order by 1, 2""",
}


def serving_path(given: str | None) -> Path:
    """The serving DuckDB file from ``--serving`` (folder or file) or the configured folder."""
    if given:
        path = Path(given)
    else:
        from ingestion.settings import serving_dir

        path = serving_dir()
    if path.is_dir():
        path = path / SERVING_FILE
    if not path.exists():
        raise SystemExit(f"bi_queries: no serving file at {path}: publish a night first "
                         "(`make demo`) or give --serving")
    return path


def timed(path: Path, sql: str | None) -> tuple[float, int]:
    """Milliseconds to connect read-only, run ``sql`` (if any), fetch all rows and close."""
    started = time.perf_counter()
    con = duckdb.connect(str(path), read_only=True)
    rows = len(con.execute(sql).fetchall()) if sql else 0
    con.close()
    return (time.perf_counter() - started) * 1000, rows


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (p95 of 20 runs is the 19th fastest)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serving", help="serving folder or its DuckDB file")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    path = serving_path(args.serving)
    with duckdb.connect(str(path), read_only=True) as con:
        interactions = con.execute("select count(*) from marts.fct_interactions").fetchone()[0]
    print(f"serving file {path} ({path.stat().st_size / 2**20:.0f} MiB, "
          f"{interactions:,} interactions); DuckDB {duckdb.__version__}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{'query':<34} {'rows':>7} {'p50 ms':>8} {'p95 ms':>8}")
    figures = {}
    for name, sql in {"connect_only": None, **QUERIES}.items():
        runs = [timed(path, sql) for _ in range(args.repeat)]
        times = [ms for ms, _ in runs]
        figures[name] = {"rows": runs[-1][1], "p50_ms": round(statistics.median(times), 1),
                         "p95_ms": round(percentile(times, 0.95), 1)}
        print(f"{name:<34} {runs[-1][1]:>7,} {figures[name]['p50_ms']:>8.1f} "
              f"{figures[name]['p95_ms']:>8.1f}")
    worst = max((f["p95_ms"], n) for n, f in figures.items()
                if n != "connect_only" and not n.endswith("_scan"))
    print(f"slowest p95 of the dashboard queries: {worst[1]} {worst[0]:.1f} ms")
    if args.json:
        args.json.write_text(json.dumps({"serving_file": str(path), "interactions": interactions,
                                         "repeat": args.repeat, "queries": figures}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
