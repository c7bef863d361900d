"""Fixtures shared by the file-export tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

EXPORTS = Path(__file__).resolve().parent.parent / "fixtures" / "exports"


@pytest.fixture
def inbox(isolated_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A drop folder holding a copy of the recorded inbox exports, configured as the inbox
    source's bucket (a local folder as a file:// URL)."""
    folder = tmp_path / "inbox"
    shutil.copytree(EXPORTS / "inbox", folder)
    monkeypatch.setenv("SOURCES__INBOX__BUCKET_URL", folder.as_uri())
    return folder
