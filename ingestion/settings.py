"""Where the warehouse lives: the one setting every layer reads (at call time, not import)."""

from __future__ import annotations

import os
from pathlib import Path

# The platforms the warehouse knows (inbox exports, CRM credits, tombstones, quality checks).
PLATFORMS = ("x", "facebook", "instagram", "mastodon")

REPO_ROOT = Path(__file__).resolve().parent.parent
WAREHOUSE_ENV = "RAPPORT_WAREHOUSE"


def warehouse_path() -> Path:
    """The working DuckDB file: ``$RAPPORT_WAREHOUSE`` or ``warehouse/rapport.duckdb``."""
    return Path(os.environ.get(WAREHOUSE_ENV) or REPO_ROOT / "warehouse" / "rapport.duckdb")


def pipelines_dir() -> Path:
    """dlt's local working folder, kept beside the warehouse it belongs to."""
    return warehouse_path().parent / ".dlt_pipelines"


def serving_dir() -> Path:
    """What BI reads, published only after a night passes its checks: ``$RAPPORT_SERVING_DIR``
    or ``serving/`` beside the working warehouse."""
    configured = os.environ.get("RAPPORT_SERVING_DIR")
    return Path(configured) if configured else warehouse_path().parent / "serving"
