"""Mastodon REST API endpoints."""

LIMIT = 40
NOTIFICATION_TYPES = ("mention", "status", "reblog", "favourite", "follow")
