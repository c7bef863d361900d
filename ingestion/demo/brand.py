"""The fictional brand the demo data is about.

These values mirror the committed dbt seeds (`dbt_project/seeds/`): the demo brand is the
default configuration, so `make demo` needs no setup. A test keeps the two in step.
"""

from dataclasses import dataclass

BRAND = "Brewly"
COMPETITORS = ("Beanix", "CaffiCo")
CHAT_HASHTAG = "BrewlyChat"
SEARCH_QUERY = "Brewly OR Beanix OR CaffiCo"
MASTODON_INSTANCE = "social.example"


@dataclass(frozen=True)
class OwnedAccount:
    """One account the brand owns on one platform."""

    platform: str  # x | facebook | instagram | mastodon
    account_id: str
    handle: str
    purpose: str  # brand | help
    team: str  # the team that works this account's inbox

    @property
    def name(self) -> str:
        return self.handle


OWNED_ACCOUNTS: tuple[OwnedAccount, ...] = (
    OwnedAccount("x", "1000000000000000001", "brewly", "brand", "social"),
    OwnedAccount("x", "1000000000000000002", "brewly_help", "help", "support"),
    OwnedAccount("facebook", "200000000000001", "Brewly", "brand", "social"),
    OwnedAccount("facebook", "200000000000002", "Brewly Service", "help", "support"),
    OwnedAccount("instagram", "17841400000000001", "brewly", "brand", "social"),
    OwnedAccount("instagram", "17841400000000002", "brewly.help", "help", "support"),
    OwnedAccount("mastodon", "110000000000000001", "brewly", "brand", "social"),
    OwnedAccount("mastodon", "110000000000000002", "brewly_help", "help", "support"),
)

TEAM_MRM_TAGS = {"social": "#socialMRM", "support": "#supportMRM"}
COMPANY_MRM_TAG = "#MRM"
AGENTS = {"social": ("agent_01", "agent_02", "agent_03"), "support": ("agent_04", "agent_05")}


def accounts(platform: str) -> list[OwnedAccount]:
    """Owned accounts of one platform, brand account first."""
    return [a for a in OWNED_ACCOUNTS if a.platform == platform]
