"""CRM exports: contacts with their social ids, and lifecycle stage history."""

from __future__ import annotations

import dlt

from ingestion.sources.files import export_files, export_rows
from ingestion.sources.rest import require


@dlt.source(name="crm")
def crm_source(bucket_url: str | None = dlt.config.value):
    """CRM export files from a folder or bucket.

    Args:
        bucket_url: where the CRM exports land (``contacts*.csv``, ``lifecycle_stages*.jsonl``).
    """
    url = require(bucket_url, "crm", "bucket_url")
    contacts = (export_files(url, "contacts*.csv") | export_rows).with_name("contacts")
    stages = (export_files(url, "lifecycle_stages*.jsonl") | export_rows).with_name(
        "lifecycle_stages")
    return (
        contacts.apply_hints(primary_key="contact_id", write_disposition="merge"),
        stages.apply_hints(primary_key=("contact_id", "stage", "changed_at"),
                           write_disposition="merge"),
    )
