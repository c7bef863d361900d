"""CRM exports: contacts with their social ids, lifecycle stage history, and leads and
conversions with their source.

CSV or JSONL files in a folder or bucket, new and changed files only. Rows that break the
declared schema land in ``contacts_quarantine`` / ``lifecycle_stages_quarantine`` /
``conversions_quarantine``. A CRM that exports no conversions leaves that table empty.
"""

from __future__ import annotations

import dlt

from ingestion.settings import PLATFORMS
from ingestion.sources.files import ExportTable, export_resource

CONVERSION_KINDS = ("lead", "conversion")
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
    # Leads and conversions with the source the CRM credits them to (``social`` with the
    # platform, ``web``, ``email``, ``referral``, ``event``, ...: free text, as CRMs differ).
    ExportTable(name="conversions", file_glob="conversions*", primary_key=("conversion_id",),
                required=("conversion_id", "contact_id", "kind", "occurred_at"),
                timestamps=("occurred_at", "updated_at"),
                allowed=(("kind", CONVERSION_KINDS), ("source_platform", PLATFORMS)),
                columns=("conversion_id", "contact_id", "kind", "source", "source_platform",
                         "campaign", "occurred_at", "updated_at")),
)


@dlt.source(name="crm")
def crm_source(bucket_url: str | None = dlt.config.value):
    """CRM export files from a folder or bucket (``file://``, ``s3://``; see docs/sources.md).

    Bucket credentials are read from ``[sources.crm.credentials]`` when the files are listed.

    Args:
        bucket_url: where the CRM exports land (``contacts*``, ``lifecycle_stages*`` and
            ``conversions*``, each as ``.csv`` or ``.jsonl``).
    """
    return [export_resource(bucket_url, table, "crm") for table in TABLES]
