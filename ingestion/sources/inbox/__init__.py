"""Exports of the social inbox tool: one row per inbound message with team, assignee and tags.

CSV or JSONL files in a drop folder or bucket; only files new or changed since the last
successful load are read. Rows without ``message_id``, ``platform``, ``account_id``, ``status``
or a readable ``received_at``, or with a platform or status the warehouse does not know, go to
``inbox_messages_quarantine`` with file, line and reason.
"""

from __future__ import annotations

import dlt

from ingestion.settings import PLATFORMS
from ingestion.sources.files import ExportTable, export_resource


def inbox_table(file_glob: str = "*") -> ExportTable:
    """The declared schema of inbox exports."""
    return ExportTable(name="inbox_messages", file_glob=file_glob, primary_key=("message_id",),
                       required=("message_id", "platform", "account_id", "status",
                                 "received_at"),
                       timestamps=("received_at", "closed_at"),
                       # what staging accepts (stg_inbox__messages tests)
                       allowed=(("platform", PLATFORMS),
                                ("status", ("open", "closed"))),
                       columns=("message_id", "platform", "account_id", "team", "assignee",
                                "tags", "briefing", "status", "received_at", "closed_at"))


@dlt.source(name="inbox")
def inbox_source(bucket_url: str | None = dlt.config.value, file_glob: str = "*"):
    """Inbox export files from a folder or bucket (``file://``, ``s3://``; see docs/sources.md).

    Bucket credentials are read from ``[sources.inbox.credentials]`` when the files are listed.

    Args:
        bucket_url: where the inbox tool drops its exports (a folder or a bucket and prefix).
        file_glob: which files in it are inbox exports (``.csv`` and ``.jsonl`` are read; any
            other file matched is reported in the quarantine table).
    """
    return export_resource(bucket_url, inbox_table(file_glob), "inbox")
