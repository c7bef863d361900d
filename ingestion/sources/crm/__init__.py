"""CRM exports: contacts with their social ids, and lifecycle stage history.

CSV or JSONL files in a folder or bucket, new and changed files only. Rows that break the
declared schema land in ``contacts_quarantine`` / ``lifecycle_stages_quarantine``.
"""

from __future__ import annotations

import dlt

from ingestion.sources.files import ExportTable, export_resource

TABLES = (
    ExportTable(name="contacts", file_glob="contacts*", primary_key=("contact_id",),
                required=("contact_id",), timestamps=("created_at", "updated_at"),
                columns=("contact_id", "x_user_id", "facebook_user_id", "instagram_user_id",
                         "mastodon_account_id", "lifecycle_stage", "created_at",
                         "updated_at")),
    ExportTable(name="lifecycle_stages", file_glob="lifecycle_stages*",
                primary_key=("contact_id", "stage", "changed_at"),
                required=("contact_id", "stage", "changed_at"), timestamps=("changed_at",),
                columns=("contact_id", "stage", "changed_at")),
)


@dlt.source(name="crm")
def crm_source(bucket_url: str | None = dlt.config.value):
    """CRM export files from a folder or bucket (``file://``, ``s3://``; see docs/sources.md).

    Bucket credentials are read from ``[sources.crm.credentials]`` when the files are listed.

    Args:
        bucket_url: where the CRM exports land (``contacts*`` and ``lifecycle_stages*``, each
            as ``.csv`` or ``.jsonl``).
    """
    return [export_resource(bucket_url, table, "crm") for table in TABLES]
