"""How the labelled training data reads each sarcasm marker (dbt var sentiment_sarcasm_markers).

    .venv/bin/python scripts/sarcasm_marker_labels.py [--licence commercial|any]
        [--shared ../shared/data/sentiment] [--extra warehouse/sentiment_data/extra]

For every marker it prints how many texts of the sentiment training and dev sets
(scripts/train_sentiment_model.py's DATA_SETS, those whose files are there) match it, by gold
label, and a few positive ones. A marker belongs in the list when the texts matching it are
mostly negative: the scorer swaps p_positive and p_negative only where the model reads praise
(analytics.sentiment.apply_sarcasm), so a marker on sincere praise would turn it into a
complaint. Never run on the public test splits.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from train_sentiment_model import DATA_SETS  # noqa: E402

from analytics.labelled_data import LABELS, read_data_sets  # noqa: E402
from analytics.sentiment import matches_marker, project_settings  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--licence", choices=["commercial", "any"], default="any")
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data"
                        / "sentiment")
    parser.add_argument("--extra", type=Path,
                        default=REPO / "warehouse" / "sentiment_data" / "extra")
    args = parser.parse_args(argv)
    rows: list[tuple[str, str]] = []
    for source in DATA_SETS:
        path = (args.shared if source.folder == "shared" else args.extra) / source.path
        if (source.commercial or args.licence == "any") and path.exists():
            data_set = read_data_sets(f"{source.lang}={path}")[0]
            rows.extend(zip(data_set.texts, data_set.gold, strict=True))
    if not rows:
        raise SystemExit("no training data found; see --shared and --extra")
    print(f"{len(rows):,} labelled texts")
    for marker in project_settings().sarcasm_markers:
        hits = [(text, label) for text, label in rows if matches_marker(text, (marker,))]
        counts = Counter(label for _, label in hits)
        print(f"{len(hits):>5} texts: " + ", ".join(f"{counts[label]} {label}" for label in LABELS)
              + f"  {marker}")
        for text, _ in [hit for hit in hits if hit[1] == "positive"][:2]:
            print(f"        positive: {text[:100]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
