"""dagster-dbt writes a target folder per dbt invocation; a nightly installation keeps few."""

from __future__ import annotations

import os
from pathlib import Path

from orchestration.assets.dbt import KEEP_TARGET_DIRS, prune_target_dirs


def test_only_the_newest_invocation_folders_and_the_current_one_are_kept(tmp_path: Path) -> None:
    folders = []
    for night in range(6):
        folder = tmp_path / f"rapport_dbt_assets-{night:03d}abc-{night}"
        folder.mkdir()
        os.utime(folder, (1_000 + night, 1_000 + night))
        folders.append(folder)
    (tmp_path / "manifest.json").write_text("{}")  # dbt's own files stay
    (tmp_path / "compiled").mkdir()
    current = folders[1]  # however old its mtime, the running invocation's folder stays
    deleted = prune_target_dirs(current)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert current.exists()
    assert len([p for p in left if p.startswith("rapport_dbt_assets-")]) == KEEP_TARGET_DIRS
    assert {p.name for p in deleted} == {f.name for f in (folders[0], folders[2], folders[3])}
    assert "manifest.json" in left and "compiled" in left
