"""Exports of the social inbox tool: one row per inbound message with team, assignee and tags."""

from __future__ import annotations

import dlt

from ingestion.sources.files import export_files, export_rows, unconfigured

HINTS = {"primary_key": "message_id", "write_disposition": "merge"}


@dlt.source(name="inbox")
def inbox_source(bucket_url: str | None = dlt.config.value, file_glob: str = "*.csv"):
    """Inbox export files from a folder or bucket (``file://``, ``s3://``, ``gs://``...).

    Args:
        bucket_url: where the inbox tool drops its exports.
        file_glob: which files in it are inbox exports.
    """
    if not bucket_url:
        return unconfigured("inbox", "bucket_url", "inbox_messages", **HINTS)
    rows = export_files(bucket_url, file_glob) | export_rows
    return rows.with_name("inbox_messages").apply_hints(**HINTS)
