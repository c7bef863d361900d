"""benchmarks/sentiment_accuracy.py on tiny labelled files: it reads both file shapes and
prints the figures the warehouse's scorer earns on them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ingestion.settings import REPO_ROOT

SCRIPT = REPO_ROOT / "benchmarks" / "sentiment_accuracy.py"


def test_benchmark_prints_macro_f1_and_accuracy_per_data_set(tmp_path: Path):
    (tmp_path / "en_test_text.txt").write_text(
        "I love it, great!\nTerrible, I hate it\nThe shop opens at nine\nAwful service\n",
        encoding="utf-8")
    (tmp_path / "en_test_labels.txt").write_text("2\n0\n1\n2\n", encoding="utf-8")
    header = "id\ttext\trelevance\tsentiment\n"
    (tmp_path / "test_syn_df_opinion.tsv").write_text(
        header + "d1\tVielen Dank, das war super!\ttrue\tpositive\n"
        "d1\tVielen Dank, das war super!\ttrue\tpositive\n"  # a second aspect, same document
        "d2\tFurchtbar, alles kaputt.\ttrue\tnegative\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True,
                          text=True, check=True, timeout=120)
    rows = {line.split()[0]: line.split() for line in done.stdout.splitlines()[1:-1]}
    name = tmp_path.name
    # en: 3 of 4 right (the "Awful" one is labelled positive): accuracy 0.75
    assert rows[f"{name}/en_test"][1:3] == ["en", "4"]
    assert rows[f"{name}/en_test"][5] == "0.750"
    assert rows[f"{name}/en_test"][3] == "0.778"  # F1 1.0 neutral, 2/3 negative, 2/3 positive
    assert rows[f"{name}/test_syn_df_opinion"][1:3] == ["de", "2"]  # one row per document
    assert rows[f"{name}/test_syn_df_opinion"][5] == "1.000"
    assert done.stdout.splitlines()[-1].startswith("all: 6 messages")
