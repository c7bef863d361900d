"""CRM exports: contacts with their social ids, and lifecycle stage history."""

from __future__ import annotations

import dlt

from ingestion.sources.files import export_files, export_rows, unconfigured

TABLES = {
    "contacts": ("contacts*.csv", {"primary_key": "contact_id", "write_disposition": "merge"}),
    "lifecycle_stages": ("lifecycle_stages*.jsonl", {
        "primary_key": ("contact_id", "stage", "changed_at"), "write_disposition": "merge"}),
}


@dlt.source(name="crm")
def crm_source(bucket_url: str | None = dlt.config.value):
    """CRM export files from a folder or bucket.

    Args:
        bucket_url: where the CRM exports land (``contacts*.csv``, ``lifecycle_stages*.jsonl``).
    """
    if not bucket_url:
        return [unconfigured("crm", "bucket_url", name, **hints)
                for name, (_, hints) in TABLES.items()]
    return [(export_files(bucket_url, glob) | export_rows).with_name(name).apply_hints(**hints)
            for name, (glob, hints) in TABLES.items()]
