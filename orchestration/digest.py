"""The morning digest: what yesterday brought, posted once per published night to the webhook
(``RAPPORT_WEBHOOK_URL``) by sensor ``nightly_digest``, so the team hears about its MRMs and the
people waiting without opening anything.

"Yesterday" is the last whole UTC day before the newest message of the published night
(``data_as_of``). The digest says, for that day: the MRMs per team (tagged by agents,
detected), SLA breaches and the median first response per channel, the alerts; and how many
conversations wait past their SLA now, with where the nightly report is.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb


def digest_day(data_as_of: str | None) -> date | None:
    """The last whole UTC day before ``data_as_of`` (ISO 8601), or None without one."""
    if not data_as_of:
        return None
    return datetime.fromisoformat(data_as_of.replace("Z", "+00:00")).date() - timedelta(days=1)


def build_digest(serving_file: Path, data_as_of: str | None, report: Path | None = None
                 ) -> dict | None:
    """The digest payload (``text`` for chat tools, the figures as fields), or None when the
    night has no data to speak of."""
    day = digest_day(data_as_of)
    if day is None:
        return None
    with duckdb.connect(str(serving_file), read_only=True) as con:
        mrms = con.execute("""
            select team, sum(tagged_mrms), sum(detected_mrms), sum(mrms)
            from marts.mart_mrm_daily where date_day = ? group by team order by team""",
                           [day]).fetchall()
        # one row per channel and team of the day: the mart's own grain, nothing re-aggregated
        response = con.execute("""
            select channel, team, sla_breaches, median_first_response_minutes
            from marts.mart_response_daily where date_day = ? order by channel, team""",
                               [day]).fetchall()
        alerts = con.execute("""
            select alert_id, severity from marts.mart_alerts where alert_date = ?
            order by window_start""", [day]).fetchall()
        # is_unanswered: no reply and past the SLA, as of the newest message (fct_conversations)
        waiting = con.execute("select count(*) from marts.fct_conversations "
                              "where is_unanswered").fetchone()[0]
    teams = {team: {"tagged": int(t), "detected": int(d), "mrms": int(m)}
             for team, t, d, m in mrms}
    channels = [{"channel": ch, "team": team, "sla_breaches": int(b or 0),
                 "median_first_response_minutes": None if med is None else round(med)}
                for ch, team, b, med in response]
    lines = [f"Rapport digest for {day:%a %d %b %Y} (UTC day)"]
    team_parts = [f"{team} {v['mrms']} ({v['tagged']} tagged, {v['detected']} detected)"
                  for team, v in teams.items() if team != "company"]
    lines.append("MRMs: " + ("; ".join(team_parts) if team_parts else "none")
                 + (f"; company-wide {teams['company']['mrms']}" if "company" in teams else ""))
    breaches = sum(c["sla_breaches"] for c in channels)
    lines.append(f"SLA breaches: {breaches}" + (" (" + ", ".join(
        f"{c['channel']} {c['sla_breaches']}" for c in channels if c["sla_breaches"]) + ")"
        if breaches else ""))
    lines.append(f"Waiting past the SLA now: {waiting}")
    if alerts:
        lines.append("Alerts: " + ", ".join(f"{a} ({s})" for a, s in alerts))
    if report is not None:
        lines.append(f"Report: {report}")
    return {"text": "\n".join(lines), "kind": "digest", "day": day.isoformat(),
            "mrms_per_team": teams, "channels": channels, "waiting_past_sla": int(waiting),
            "alerts": [a for a, _ in alerts]}
