"""HTTP plumbing shared by the API sources: clients, clear config errors, page iteration."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import BasePaginator


class SourceConfigError(ValueError):
    """A setting a source needs is missing; the message names the setting and its env var."""


def require(value: Any, source: str, setting: str, secret: bool = False) -> Any:
    """Return ``value`` or explain which setting to provide."""
    if value in (None, "", [], {}):
        where = "secrets.toml" if secret else "config.toml"
        env = f"SOURCES__{source.upper()}__{setting.upper()}"
        raise SourceConfigError(
            f"source '{source}' needs setting '{setting}': set [sources.{source}] {setting} "
            f"in .dlt/{where} or the environment variable {env}"
        )
    return value


def api_client(base_url: str, token: str | None) -> RESTClient:
    """A REST client that sends ``token`` as a bearer header (never in the URL or logs)."""
    return RESTClient(base_url=base_url.rstrip("/"),
                      auth=BearerTokenAuth(token) if token else None)


def pages(client: RESTClient, path: str, paginator: BasePaginator, params: dict | None = None,
          data_selector: str | None = "data", token: str | None = None
          ) -> Iterator[tuple[list[dict], Any]]:
    """Yield ``(items, body)`` for every page; ``token`` overrides the client's for this call."""
    auth = BearerTokenAuth(token) if token else None
    for page in client.paginate(path, params=params, paginator=paginator,
                                data_selector=data_selector, auth=auth):
        yield list(page), page.response.json()
