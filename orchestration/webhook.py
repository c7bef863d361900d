"""Posting notifications (alerts, failed nights) to one configurable webhook."""

from __future__ import annotations

import os

import requests

WEBHOOK_ENV = "RAPPORT_WEBHOOK_URL"


def webhook_url() -> str | None:
    """The webhook that receives alerts and run failures (``$RAPPORT_WEBHOOK_URL``), if set."""
    return os.environ.get(WEBHOOK_ENV) or None


def post(payload: dict, url: str | None = None, timeout: float = 10.0) -> bool:
    """POST ``payload`` as JSON; True on a 2xx answer. ``text`` makes it readable in chat tools.

    Errors are reported by the return value, never raised: a notification must not fail a run.
    """
    target = url or webhook_url()
    if not target:
        return False
    try:
        response = requests.post(target, json=payload, timeout=timeout)
    except requests.RequestException:
        return False
    return 200 <= response.status_code < 300
