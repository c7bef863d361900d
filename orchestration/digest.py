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
        response = con.execute("""
            select channel, sum(sla_breaches), median(median_first_response_minutes)
            from marts.mart_response_daily where date_day = ? and team <> 'company'
            group by channel order by channel""", [day]).fetchall()
        alerts = con.execute("""
            select alert_id, severity from marts.mart_alerts where alert_date = ?
            order by window_start""", [day]).fetchall()
        waiting = con.execute("""
            with now as (select max(last_message_at) as at from marts.fct_conversations)
            select count(*) from marts.fct_conversations c cross join now
            where c.is_unanswered and c.sla_minutes is not null
              and date_diff('minute', c.first_inbound_at, now.at) > c.sla_minutes""").fetchone()[0]
    teams = {team: {"tagged": int(t), "detected": int(d), "mrms": int(m)}
             for team, t, d, m in mrms}
    channels = {ch: {"sla_breaches": int(b or 0),
                     "median_first_response_minutes": None if med is None else round(med)}
                for ch, b, med in response}
    lines = [f"Rapport digest for {day:%a %d %b %Y} (UTC day)"]
    team_parts = [f"{team} {v['mrms']} ({v['tagged']} tagged, {v['detected']} detected)"
                  for team, v in teams.items() if team != "company"]
    lines.append("MRMs: " + ("; ".join(team_parts) if team_parts else "none")
                 + (f"; company-wide {teams['company']['mrms']}" if "company" in teams else ""))
    breaches = sum(v["sla_breaches"] for v in channels.values())
    lines.append(f"SLA breaches: {breaches}" + (" (" + ", ".join(
        f"{ch} {v['sla_breaches']}" for ch, v in channels.items() if v["sla_breaches"]) + ")"
        if breaches else ""))
    lines.append(f"Waiting past the SLA now: {waiting}")
    if alerts:
        lines.append("Alerts: " + ", ".join(f"{a} ({s})" for a, s in alerts))
    if report is not None:
        lines.append(f"Report: {report}")
    return {"text": "\n".join(lines), "kind": "digest", "day": day.isoformat(),
            "mrms_per_team": teams, "channels": channels, "waiting_past_sla": int(waiting),
            "alerts": [a for a, _ in alerts]}
