"""What is checked, declared as data: one ``TableSuite`` per raw table and staging model.

Each declaration names the table's key, timestamps, enumerations, required text and links to
other tables; ``runner.expectations_for`` turns it into a Great Expectations suite (keys unique
and not null, timestamps after the earliest date and not in the future, values in their set,
text not blank, links found, row count near the previous night's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dagster import AssetCheckSeverity, AssetKey

from ingestion.pipelines import dataset_name
from ingestion.settings import PLATFORMS
from ingestion.sources.crm import CONVERSION_KINDS

ERROR = AssetCheckSeverity.ERROR
WARN = AssetCheckSeverity.WARN

# The two checks every table gets.
SUITE_CHECK = "gx_expectations"
ROW_COUNT_CHECK = "row_count_delta"

# Enumerations the sources and the staging models promise (the dbt accepted_values agree).
INBOX_STATUSES = ("open", "closed")
LIFECYCLE_STAGES = ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead",
                    "opportunity", "customer", "evangelist", "other")
MASTODON_VISIBILITIES = ("public", "unlisted", "private", "direct")
X_DM_EVENT_TYPES = ("MessageCreate", "ParticipantsJoin", "ParticipantsLeave")
IG_MEDIA_TYPES = ("IMAGE", "VIDEO", "CAROUSEL_ALBUM")

# Where a text column is not blank by the platform's own rules it is an ERROR; where a
# media-only post, sticker or attachment legitimately has no text it is a WARN.
MASTODON_STATUS_NOTIFICATIONS = ("mention", "status")
# A Mastodon notification's type is not enumerated: an instance may send types the source
# does not ask for (ingestion.sources.mastodon.settings.NOTIFICATION_TYPES); they are kept
# under their own name and only warned about (dbt's accepted_values test on
# stg_mastodon__notifications), where an enumeration here would fail the night.


@dataclass(frozen=True)
class Text:
    """A text column that must hold more than whitespace (optionally only where ``when``
    column holds one of the given values)."""

    column: str
    severity: AssetCheckSeverity = ERROR
    when: tuple[str, tuple[str, ...]] | None = None


@dataclass(frozen=True)
class Link:
    """Every non-null ``column`` value is found in ``to_column`` of the table of ``to``."""

    column: str
    to: tuple[str, ...]
    to_column: str
    severity: AssetCheckSeverity = ERROR


@dataclass(frozen=True)
class TableSuite:
    """The checks of one table, keyed like its Dagster asset."""

    asset_key: AssetKey
    key: tuple[str, ...]
    timestamps: tuple[str, ...] = ()
    not_null: tuple[str, ...] = ()
    enums: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    text: tuple[Text, ...] = ()
    links: tuple[Link, ...] = ()
    # Extra columns that locate a failing row without showing content (dlt's row id).
    locators: tuple[str, ...] = ()

    @property
    def relation(self) -> str:
        """The DuckDB table or view holding the asset."""
        return relation_of(self.asset_key)

    @property
    def id_columns(self) -> tuple[str, ...]:
        """The only columns whose values may appear in check metadata."""
        return self.key + self.locators

    @property
    def layer(self) -> str:
        """``raw`` or ``staging``."""
        return "staging" if self.asset_key.path[0] == "staging" else "raw"

    @property
    def source(self) -> str:
        """The source the table comes from (``x``, ``meta``...), for grouping checks."""
        if self.layer == "staging":
            return self.asset_key.path[-1].removeprefix("stg_").split("__")[0]
        return self.asset_key.path[0]


def relation_of(asset_key: AssetKey) -> str:
    """``schema.table`` of an asset: dbt models and seeds live in the schema named by the
    first part of their key; a raw ``[source, table]`` lives in ``raw_<source>``."""
    first, table = asset_key.path[0], asset_key.path[-1]
    if first in ("staging", "config"):
        return f"{first}.{table}"
    return f"{dataset_name(first)}.{table}"


def _raw(source: str, table: str, key: str | tuple[str, ...], **rules) -> TableSuite:
    return TableSuite(AssetKey([source, table]), _tuple(key), locators=("_dlt_id",), **rules)


def _stg(model: str, key: str, **rules) -> TableSuite:
    return TableSuite(AssetKey(["staging", model]), (key,), **rules)


def _tuple(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else value


OWNED_ACCOUNT = ("config", "owned_accounts")

RAW_SUITES: tuple[TableSuite, ...] = (
    _raw("x", "mentions", ("owned_account_id", "id"), timestamps=("created_at",),
         not_null=("author_id", "created_at"), text=(Text("text"),)),
    _raw("x", "posts", "id", timestamps=("created_at",),
         not_null=("owned_account_id", "author_id", "created_at"), text=(Text("text"),)),
    _raw("x", "search_results", "id", timestamps=("created_at",),
         not_null=("author_id", "created_at"), text=(Text("text"),)),
    _raw("x", "dm_events", ("owned_account_id", "id"), timestamps=("created_at",),
         not_null=("event_type", "created_at"), enums={"event_type": X_DM_EVENT_TYPES},
         text=(Text("text", WARN, when=("event_type", ("MessageCreate",))),)),
    _raw("meta", "accounts", ("platform", "id", "snapshot_date"), not_null=("snapshot_date",),
         enums={"platform": ("facebook", "instagram")}),
    _raw("meta", "page_posts", "id", timestamps=("created_time",),
         not_null=("page_id", "created_time")),
    _raw("meta", "post_comments", "id", timestamps=("created_time",),
         not_null=("post_id", "page_id", "created_time"), text=(Text("message", WARN),),
         links=(Link("post_id", ("meta", "page_posts"), "id"),)),
    _raw("meta", "page_conversations", "id", timestamps=("updated_time",),
         not_null=("page_id",)),
    _raw("meta", "conversation_messages", "id", timestamps=("created_time",),
         not_null=("conversation_id", "page_id", "created_time"),
         text=(Text("message", WARN),),
         links=(Link("conversation_id", ("meta", "page_conversations"), "id"),)),
    _raw("meta", "ig_media", "id", timestamps=("timestamp",),
         not_null=("account_id", "timestamp"), enums={"media_type": IG_MEDIA_TYPES}),
    _raw("meta", "ig_comments", "id", timestamps=("timestamp",),
         not_null=("media_id", "account_id", "timestamp"), text=(Text("text", WARN),),
         links=(Link("media_id", ("meta", "ig_media"), "id"),)),
    _raw("mastodon", "notifications", ("owned_account_id", "id"),
         timestamps=("created_at", "status__created_at"), not_null=("type", "created_at"),
         enums={"status__visibility": MASTODON_VISIBILITIES},
         text=(Text("status__content_text", WARN,
                    when=("type", MASTODON_STATUS_NOTIFICATIONS)),)),
    _raw("mastodon", "statuses", "id", timestamps=("created_at",),
         not_null=("owned_account_id", "created_at"),
         enums={"visibility": MASTODON_VISIBILITIES}, text=(Text("content_text", WARN),)),
    _raw("mastodon", "conversations", ("owned_account_id", "id"),
         timestamps=("last_status__created_at",),
         not_null=("last_status__id", "last_status__created_at"),
         enums={"last_status__visibility": MASTODON_VISIBILITIES},
         text=(Text("last_status__content_text", WARN),)),
    _raw("mastodon", "tag_statuses", ("hashtag", "id"), timestamps=("created_at",),
         not_null=("created_at",), enums={"visibility": MASTODON_VISIBILITIES},
         text=(Text("content_text", WARN),)),
    _raw("inbox", "inbox_messages", "message_id", timestamps=("received_at", "closed_at"),
         not_null=("platform", "account_id", "status", "received_at"),
         enums={"platform": PLATFORMS, "status": INBOX_STATUSES}),
    _raw("crm", "contacts", "contact_id", timestamps=("created_at", "updated_at"),
         not_null=("created_at",), enums={"lifecycle_stage": LIFECYCLE_STAGES}),
    _raw("crm", "lifecycle_stages", ("contact_id", "stage", "changed_at"),
         timestamps=("changed_at",), enums={"stage": LIFECYCLE_STAGES},
         links=(Link("contact_id", ("crm", "contacts"), "contact_id"),)),
    _raw("crm", "conversions", "conversion_id", timestamps=("occurred_at", "updated_at"),
         not_null=("contact_id", "kind", "occurred_at"),
         enums={"kind": CONVERSION_KINDS, "source_platform": PLATFORMS},
         links=(Link("contact_id", ("crm", "contacts"), "contact_id", WARN),)),
)

STAGING_SUITES: tuple[TableSuite, ...] = (
    _stg("stg_x__mentions", "mention_key", timestamps=("created_at",),
         not_null=("owned_account_id", "tweet_id", "author_id", "created_at"),
         text=(Text("text"),),
         links=(Link("owned_account_id", OWNED_ACCOUNT, "account_id", WARN),)),
    _stg("stg_x__posts", "tweet_id", timestamps=("created_at",),
         not_null=("owned_account_id", "author_id", "created_at"), text=(Text("text"),),
         links=(Link("owned_account_id", OWNED_ACCOUNT, "account_id", WARN),)),
    _stg("stg_x__search_results", "tweet_id", timestamps=("created_at",),
         not_null=("author_id", "created_at"), text=(Text("text"),)),
    _stg("stg_x__dm_events", "dm_event_key", timestamps=("created_at",),
         not_null=("owned_account_id", "dm_event_id", "created_at"),
         enums={"event_type": X_DM_EVENT_TYPES},
         text=(Text("text", WARN, when=("event_type", ("MessageCreate",))),),
         links=(Link("owned_account_id", OWNED_ACCOUNT, "account_id", WARN),)),
    _stg("stg_meta__accounts", "account_snapshot_key",
         not_null=("platform", "account_id", "snapshot_date"),
         enums={"platform": ("facebook", "instagram")},
         links=(Link("account_id", OWNED_ACCOUNT, "account_id", WARN),)),
    _stg("stg_meta__page_posts", "post_id", timestamps=("created_at",),
         not_null=("page_id", "created_at"),
         links=(Link("page_id", OWNED_ACCOUNT, "account_id", WARN),)),
    _stg("stg_meta__post_comments", "comment_id", timestamps=("created_at",),
         not_null=("post_id", "page_id", "created_at"), text=(Text("text", WARN),),
         links=(Link("post_id", ("staging", "stg_meta__page_posts"), "post_id"),
                Link("parent_comment_id", ("staging", "stg_meta__post_comments"),
                     "comment_id", WARN))),
    _stg("stg_meta__page_conversations", "conversation_id", timestamps=("updated_at",),
         not_null=("page_id",)),
    _stg("stg_meta__conversation_messages", "message_id", timestamps=("created_at",),
         not_null=("conversation_id", "page_id", "created_at"), text=(Text("text", WARN),),
         links=(Link("conversation_id", ("staging", "stg_meta__page_conversations"),
                     "conversation_id"),)),
    _stg("stg_meta__ig_media", "media_id", timestamps=("created_at",),
         not_null=("account_id", "created_at"), enums={"media_type": IG_MEDIA_TYPES}),
    _stg("stg_meta__ig_comments", "comment_id", timestamps=("created_at",),
         not_null=("media_id", "account_id", "created_at"), text=(Text("text", WARN),),
         links=(Link("media_id", ("staging", "stg_meta__ig_media"), "media_id"),
                Link("parent_comment_id", ("staging", "stg_meta__ig_comments"),
                     "comment_id", WARN))),
    _stg("stg_mastodon__notifications", "notification_key",
         timestamps=("created_at", "status_created_at"),
         not_null=("notification_id", "owned_account_id", "notification_type", "created_at"),
         enums={"status_visibility": MASTODON_VISIBILITIES},
         text=(Text("status_text", WARN,
                    when=("notification_type", MASTODON_STATUS_NOTIFICATIONS)),),
         links=(Link("owned_account_id", OWNED_ACCOUNT, "account_id", WARN),)),
    _stg("stg_mastodon__statuses", "status_id", timestamps=("created_at",),
         not_null=("owned_account_id", "author_id", "created_at"),
         enums={"visibility": MASTODON_VISIBILITIES}, text=(Text("text", WARN),),
         links=(Link("owned_account_id", OWNED_ACCOUNT, "account_id", WARN),)),
    _stg("stg_mastodon__conversations", "conversation_key",
         timestamps=("last_status_created_at",),
         not_null=("conversation_id", "owned_account_id", "last_status_id",
                   "last_status_author_id", "last_status_created_at"),
         enums={"last_status_visibility": MASTODON_VISIBILITIES},
         text=(Text("last_status_text", WARN),),
         links=(Link("owned_account_id", OWNED_ACCOUNT, "account_id", WARN),)),
    _stg("stg_mastodon__tag_statuses", "tag_status_key", timestamps=("created_at",),
         not_null=("hashtag", "status_id", "created_at"), text=(Text("text", WARN),)),
    _stg("stg_inbox__messages", "message_id", timestamps=("received_at", "closed_at"),
         not_null=("platform", "account_id", "status", "received_at"),
         enums={"platform": PLATFORMS, "status": INBOX_STATUSES},
         links=(Link("account_id", OWNED_ACCOUNT, "account_id", WARN),
                Link("team", ("config", "teams"), "team", WARN))),
    _stg("stg_crm__contacts", "contact_id", timestamps=("created_at", "updated_at"),
         not_null=("created_at",), enums={"lifecycle_stage": LIFECYCLE_STAGES}),
    _stg("stg_crm__lifecycle_stages", "stage_change_key", timestamps=("changed_at",),
         not_null=("contact_id", "stage", "changed_at"), enums={"stage": LIFECYCLE_STAGES},
         links=(Link("contact_id", ("staging", "stg_crm__contacts"), "contact_id"),)),
    _stg("stg_crm__conversions", "conversion_id", timestamps=("occurred_at", "updated_at"),
         not_null=("contact_id", "kind", "occurred_at"),
         enums={"kind": CONVERSION_KINDS, "source_platform": PLATFORMS},
         links=(Link("contact_id", ("staging", "stg_crm__contacts"), "contact_id", WARN),)),
)

SUITES: tuple[TableSuite, ...] = RAW_SUITES + STAGING_SUITES
