"""The nightly report: one self-contained HTML page a social-media or community manager opens
in a browser, built from a published night (its serving file and status), working offline.

What it shows, for the people the seed articles write for: the MRMs each team created per
week (tagged by agents and detected), the MRM rate, first response median and p90 per channel
against its SLA, who is waiting past the SLA right now, volume and sentiment over time with the
shitstorm alerts marked, share of voice against the competitors, the community segments and
the ambassador candidates, and a banner when the last night failed (BI then reads the night
before). Times are shown in the reporting time zone (``RAPPORT_REPORT_TIMEZONE``, default
Europe/Berlin); the marts count days in UTC, which the page says where it shows days.

Charts are Plotly figures with Plotly's JavaScript inlined once, so the file needs no server
and no network. ``build_report`` writes ``<night>/report/index.html`` through a temporary file
and a rename: a reader opens the old page or the new one, never half of one.
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

REPORT_DIR = "report"
REPORT_FILE = "index.html"
TIMEZONE_ENV = "RAPPORT_REPORT_TIMEZONE"
DEFAULT_TIMEZONE = "Europe/Berlin"
WAITING_ROWS = 50
RECENT_DAYS = 7  # the waiting list: people who wrote in the last week
AMBASSADOR_ROWS = 25


def report_timezone() -> ZoneInfo:
    """The reporting time zone from ``RAPPORT_REPORT_TIMEZONE`` (an IANA name)."""
    name = os.environ.get(TIMEZONE_ENV) or DEFAULT_TIMEZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"{TIMEZONE_ENV}={name!r} is not a time zone name such as "
                         f"'Europe/Berlin' or 'UTC'") from error


@dataclass
class _Section:
    body: str
    note: str = ""
    title: str = ""


def _local(value: object, zone: ZoneInfo) -> str:
    """A UTC timestamp (naive = UTC, as the marts store them) as local time with its zone."""
    if value is None:
        return "–"
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone).strftime("%a %d %b %Y, %H:%M %Z")


def _table(headers: list[str], rows: list[list[object]], empty: str) -> str:
    if not rows:
        return f'<p class="empty">{html.escape(empty)}</p>'
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _chart(figure, name: str) -> str:
    figure.update_layout(margin={"l": 50, "r": 20, "t": 30, "b": 40}, height=360,
                         template="plotly_white", legend={"orientation": "h", "y": -0.2})
    return figure.to_html(full_html=False, include_plotlyjs=False, div_id=f"chart-{name}",
                          config={"displaylogo": False, "responsive": True})


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def _mrms(con) -> _Section:
    import plotly.graph_objects as go

    rows = _rows(con, """
        select d.week_start, m.team, sum(m.tagged_mrms), sum(m.detected_mrms), sum(m.mrms),
               sum(m.conversations_with_reply)
        from marts.mart_mrm_daily m join marts.dim_date d using (date_day)
        where m.team <> 'company'
        group by all order by 1, 2""")
    if not rows:
        return _Section('<p class="empty">No MRMs yet.</p>')
    figure = go.Figure()
    for team in sorted({r[1] for r in rows}):
        weeks = [r for r in rows if r[1] == team]
        figure.add_bar(x=[r[0] for r in weeks], y=[r[2] for r in weeks],
                       name=f"{team}: tagged by agents")
        figure.add_bar(x=[r[0] for r in weeks], y=[r[3] for r in weeks],
                       name=f"{team}: detected")
    figure.update_layout(barmode="group", yaxis_title="MRMs", xaxis_title="week (from Monday)")
    rate = go.Figure()
    for team in sorted({r[1] for r in rows}):
        weeks = [r for r in rows if r[1] == team]
        rate.add_scatter(x=[r[0] for r in weeks],
                         y=[(r[4] / r[5]) if r[5] else None for r in weeks],
                         mode="lines+markers", name=team)
    rate.update_layout(yaxis_title="MRMs per conversation answered", yaxis_tickformat=".0%",
                       xaxis_title="week (from Monday)")
    return _Section(_chart(figure, "mrms") + "<h3>MRM rate</h3>" + _chart(rate, "mrm-rate"),
                    "Tagged: an agent tagged the conversation in the inbox. Detected: the "
                    "person's mood clearly improved after the team's reply. A conversation "
                    "both tagged and detected counts once in the rate.")


def _response(con) -> _Section:
    import plotly.graph_objects as go

    rows = _rows(con, """
        with latest as (select max(started_on) as day from marts.fct_conversations),
        sla as (select channel, max(sla_minutes) as sla from marts.dim_accounts group by 1)
        select c.channel, count(*), quantile_cont(c.first_response_minutes, 0.5),
               quantile_cont(c.first_response_minutes, 0.9), any_value(sla.sla)
        from marts.fct_conversations c cross join latest left join sla using (channel)
        where c.is_answered and c.started_on > latest.day - 30
        group by c.channel order by c.channel""")
    if not rows:
        return _Section('<p class="empty">No answered conversations in the last 30 days.</p>')
    figure = go.Figure()
    channels = [r[0] for r in rows]
    figure.add_bar(x=channels, y=[r[2] for r in rows], name="median")
    figure.add_bar(x=channels, y=[r[3] for r in rows], name="90% answered within")
    figure.add_scatter(x=channels, y=[r[4] for r in rows], mode="markers", name="SLA",
                       marker={"symbol": "line-ew-open", "size": 40, "line": {"width": 3}})
    figure.update_layout(barmode="group", yaxis_title="minutes to first response")
    table = _table(["channel", "answered", "median min", "p90 min", "SLA min"],
                   [[r[0], r[1], round(r[2]), round(r[3]), r[4] if r[4] is not None else "–"]
                    for r in rows], "")
    return _Section(_chart(figure, "response") + table,
                    "Minutes from a person's first unanswered message to the team's first "
                    "reply, per channel; the SLA is the channel's target.")


def _waiting(con, zone: ZoneInfo) -> _Section:
    rows = _rows(con, f"""
        with now as (select max(last_message_at) as at from marts.fct_conversations)
        select c.channel, c.team, c.first_inbound_at,
               date_diff('minute', c.first_inbound_at, now.at) as waiting, c.sla_minutes
        from marts.fct_conversations c cross join now
        where c.is_unanswered and c.first_inbound_at > now.at - interval {RECENT_DAYS} day
        order by waiting desc limit {WAITING_ROWS}""")
    total = _rows(con, "select count(*) from marts.fct_conversations where is_unanswered")[0][0]
    body = (f'<p class="kpi"><span id="waiting-count">{total}</span> conversations wait '
            "longer than their SLA.</p>"
            + _table(["channel", "team", "waiting since", "waiting (hours)", "SLA (minutes)"],
                     [[r[0], r[1], _local(r[2], zone), f"{r[3] / 60:.1f}", r[4]]
                      for r in rows], "Nobody is waiting past the SLA."))
    return _Section(body,
                    f"Unanswered conversations of the last {RECENT_DAYS} days, longest wait "
                    f"first (at most {WAITING_ROWS}), as of the newest message in the data; "
                    "the count includes older ones.")


def _volume(con, zone: ZoneInfo) -> _Section:
    import plotly.graph_objects as go

    rows = _rows(con, """
        select date_day, sum(interactions) filter (where direction = 'inbound'),
               sum(negative_messages), sum(positive_messages)
        from marts.mart_interactions_daily group by 1 order by 1""")
    alerts = _rows(con, """
        select window_start, window_end, severity, alert_type, observed_count
        from marts.mart_alerts order by window_start""")
    figure = go.Figure()
    figure.add_bar(x=[r[0] for r in rows], y=[r[1] for r in rows], name="inbound interactions",
                   marker={"color": "#9db4d0"})
    figure.add_scatter(x=[r[0] for r in rows], y=[r[3] for r in rows], name="positive messages",
                       mode="lines", line={"color": "#2e8b57"})
    figure.add_scatter(x=[r[0] for r in rows], y=[r[2] for r in rows], name="negative messages",
                       mode="lines", line={"color": "#c0392b"})
    for start, end, severity, _kind, _count in alerts:
        figure.add_vrect(x0=start, x1=end, fillcolor="#c0392b", opacity=0.15, line_width=0,
                         annotation_text=f"alert ({severity})", annotation_position="top left")
    figure.update_layout(yaxis_title="per UTC day")
    table = _table(["from", "to", "severity", "kind", "negative messages"],
                   [[_local(a[0], zone), _local(a[1], zone), a[2], a[3], a[4]]
                    for a in alerts[-10:]], "No shitstorm alert.")
    return _Section(_chart(figure, "volume")
                    + "<h3>Alerts</h3>" + table,
                    "Shaded: shitstorm alerts (negative messages far above their usual level).")


def _share_of_voice(con) -> _Section:
    import plotly.graph_objects as go

    rows = _rows(con, """
        select date_day, name, kind, share_of_voice from marts.mart_share_of_voice_daily
        where date_day > (select max(date_day) from marts.mart_share_of_voice_daily) - 90
        order by 1, 2""")
    figure = go.Figure()
    for name in sorted({r[1] for r in rows}):
        days = [r for r in rows if r[1] == name]
        figure.add_scatter(x=[r[0] for r in days], y=[r[3] for r in days], mode="lines",
                           name=f"{name} ({days[0][2]})", stackgroup="share")
    figure.update_layout(yaxis_tickformat=".0%", yaxis_title="share of mentions per UTC day")
    return _Section(_chart(figure, "share-of-voice") if rows else
                    '<p class="empty">No mentions of the brand or its competitors.</p>',
                    "Public mentions of the brand and each competitor, spam left out.")


def _community(con) -> _Section:
    import plotly.graph_objects as go

    segments = _rows(con, """
        select coalesce(segment, 'none'), count(*) from marts.dim_contacts
        group by 1 order by 2 desc""")
    ambassadors = _rows(con, f"""
        select contact_key, platform, round(involvement_score, 1), interactions,
               round(100 * positive_share), unprompted_positive_posts
        from marts.dim_contacts where is_ambassador_candidate
        order by involvement_score desc nulls last limit {AMBASSADOR_ROWS}""")
    figure = go.Figure(go.Bar(x=[r[0] for r in segments], y=[r[1] for r in segments]))
    figure.update_layout(yaxis_title="people")
    table = _table(["person (pseudonymous key)", "platform", "involvement", "interactions",
                    "positive %", "unprompted praise"], [list(r) for r in ambassadors],
                   "No ambassador candidates yet.")
    return _Section(_chart(figure, "segments") + "<h3>Ambassador candidates</h3>" + table,
                    "Segments as defined in DOMAIN.md (advocates, punks, observers, panicked).")


SECTIONS = (
    ("Meaningful relationship moments per team and week", lambda con, zone: _mrms(con)),
    ("First response in the last 30 days", lambda con, zone: _response(con)),
    ("Waiting past the SLA now", _waiting),
    ("Volume and sentiment over time", _volume),
    ("Share of voice", lambda con, zone: _share_of_voice(con)),
    ("Community: segments and ambassador candidates", lambda con, zone: _community(con)),
)


def _section(con: duckdb.DuckDBPyConnection, title: str, build, zone: ZoneInfo) -> _Section:
    """One section, or a line saying what this night lacks for it (a serving file without
    one of the marts, e.g. from an older version): the rest of the page still helps."""
    try:
        section = build(con, zone)
    except (duckdb.CatalogException, duckdb.BinderException) as error:
        first = str(error).splitlines()[0]
        return _Section(f'<p class="empty">Not available for this night: '
                        f"{html.escape(first)}</p>", title=title)
    section.title = title
    return section


STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1d2733;
background:#f5f7fa}
header{background:#1d3557;color:#fff;padding:16px 24px}header h1{margin:0;font-size:1.4em}
main{padding:8px 24px 40px;max-width:1200px}section{background:#fff;border-radius:6px;
padding:12px 18px;margin:16px 0;box-shadow:0 1px 2px rgba(0,0,0,.08)}
h2{font-size:1.15em;margin:4px 0 8px}h3{font-size:1em;margin:16px 0 4px}
.note{color:#5a6775;font-size:.9em}.empty{color:#5a6775;font-style:italic}
table{border-collapse:collapse;font-size:.9em;margin-top:8px}td,th{padding:4px 10px;
border-bottom:1px solid #e3e8ee;text-align:left}.kpi{font-size:1.1em}
.banner{padding:12px 24px;font-weight:600}.banner.failed{background:#fdecea;color:#8a1c12}
.banner.ok{background:#e8f5e9;color:#1b5e20}
"""


def render(serving_file: Path, status: dict, zone: ZoneInfo) -> str:
    """The report page of the night in ``serving_file`` with its ``status`` (status.json)."""
    import plotly.offline

    with duckdb.connect(str(serving_file), read_only=True) as con:
        sections = [_section(con, title, build, zone) for title, build in SECTIONS]
    outcome = status.get("last_attempt_status")
    if outcome and outcome != "published":
        banner = (f'<div class="banner failed" id="banner">The last night '
                  f'({_local(status.get("last_attempt_at"), zone)}) {html.escape(outcome)}: '
                  f'{html.escape(str(status.get("last_failure") or "no reason given"))}. '
                  "This page shows the last good night.</div>")
    else:
        banner = ('<div class="banner ok" id="banner">Last night was published without '
                  "problems.</div>")
    body = "".join(
        f'<section><h2>{html.escape(s.title)}</h2>{s.body}'
        + (f'<p class="note">{html.escape(s.note)}</p>' if s.note else "") + "</section>"
        for s in sections)
    generated = datetime.now(UTC)
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        "<title>Rapport nightly report</title>"
        f"<style>{STYLE}</style><script>{plotly.offline.get_plotlyjs()}</script></head><body>"
        "<header><h1>Rapport nightly report</h1>"
        f"<div>Data as of <span id=\"data-as-of\">{_local(status.get('data_as_of'), zone)}"
        f"</span> · published {_local(status.get('published_at'), zone)}</div></header>"
        f"{banner}<main>{body}<p class=\"note\">Times in {html.escape(str(zone))}; days are UTC "
        f"days. Built {_local(generated, zone)} from "
        f"{html.escape(serving_file.name)}.</p></main></body></html>")


def build_report(night: Path, zone: ZoneInfo | None = None) -> Path:
    """Write ``<night>/report/index.html`` for the night folder ``night`` (its serving file
    and status.json), atomically; returns the page's path."""
    from orchestration.serving import SERVING_FILE, STATUS_FILE

    status_path = night / STATUS_FILE
    status = json.loads(status_path.read_text(encoding="utf-8")) if status_path.exists() else {}
    page = render(night / SERVING_FILE, status, zone or report_timezone())
    target = night / REPORT_DIR / REPORT_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".html.tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, target)
    return target
