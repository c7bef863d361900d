"""int_message_sentiment, the warehouse's sentiment model: its incremental build through real
dbt on a temporary DuckDB file, scoring exactly as analytics.sentiment does."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from ingestion.settings import REPO_ROOT

MODEL_FILE = REPO_ROOT / "dbt_project" / "models" / "intermediate" / "int_message_sentiment.py"


def _load_model_module():
    spec = importlib.util.spec_from_file_location("int_message_sentiment", MODEL_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


model = _load_model_module()


def test_score_messages_keeps_one_row_per_message_in_the_output_schema():
    table = model.score_messages(
        ["x:1", "x:2", "x:3"],
        ["Great coffee 😍", None, "Furchtbar, total kaputt."],
        [None, "en", "de"],
    )
    assert table.schema == model.OUTPUT_SCHEMA
    rows = table.to_pylist()
    assert [r["message_key"] for r in rows] == ["x:1", "x:2", "x:3"]
    assert rows[0]["sentiment_label"] == "positive" and rows[0]["lang"] == "en"
    assert rows[1]["sentiment_score"] is None and rows[1]["sentiment_label"] is None
    assert rows[2]["sentiment_label"] == "negative"


def _dbt_run_sentiment(warehouse: Path, scratch: Path) -> None:
    dbt = Path(sys.executable).parent / "dbt"
    env = {**os.environ, "RAPPORT_WAREHOUSE": str(warehouse)}
    subprocess.run(
        [str(dbt), "run", "--profiles-dir", ".", "--select", "int_message_sentiment",
         "--target-path", str(scratch / "target"), "--log-path", str(scratch / "logs"),
         "--quiet"],
        cwd=REPO_ROOT / "dbt_project", env=env, check=True)


def test_messages_are_scored_once_and_new_ones_on_the_next_run(tmp_path: Path):
    warehouse = tmp_path / "rapport.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema intermediate")
    con.execute("create table intermediate.int_messages (message_key varchar, text varchar, "
                "lang varchar)")
    con.execute("insert into intermediate.int_messages values "
                "('x:1', 'Thanks, that worked! 👍', 'en'), "
                "('x:2', 'Furchtbar, total kaputt.', null)")
    con.execute("create schema config")
    con.execute("create table config.sentiment_lexicon_overrides "
                "(token varchar, valence double, reason varchar)")
    con.execute("insert into config.sentiment_lexicon_overrides values ('kaputt', -2.5, 't')")
    con.close()

    _dbt_run_sentiment(warehouse, tmp_path)
    # An edit to a scored message must not rescore it; a new message is scored.
    con = duckdb.connect(str(warehouse))
    con.execute("update intermediate.int_messages set text = 'Awful. I hate it.' "
                "where message_key = 'x:1'")
    con.execute("insert into intermediate.int_messages values ('x:3', 'Ganz toll 😍', null)")
    con.close()
    _dbt_run_sentiment(warehouse, tmp_path)

    con = duckdb.connect(str(warehouse), read_only=True)
    rows = con.execute("select message_key, lang, sentiment_label "
                       "from intermediate.int_message_sentiment order by message_key").fetchall()
    con.close()
    assert rows == [("x:1", "en", "positive"), ("x:2", "de", "negative"),
                    ("x:3", "de", "positive")]




def _demo_messages() -> list[tuple[str, str | None, str | None]]:
    """Every demo template with every product, under the platform language fields the sources
    deliver (a code, a regional code, X's 'und', none), plus texts with nothing to score."""
    from ingestion.demo.brand import BRAND, COMPETITORS
    from ingestion.demo.texts import PRODUCTS, TEXTS

    fields = [lambda lang: lang, lambda lang: None, lambda lang: "und",
              lambda lang: f"{lang.upper()}-CH"]
    rows = [(template.format(brand=BRAND, product=product, competitor=COMPETITORS[i % 2]),
             fields[i % len(fields)](lang))
            for intent in TEXTS.values() for lang, templates in intent.items()
            for template in templates for i, product in enumerate(PRODUCTS)]
    rows += [(None, "en"), ("", None), ("   ", "de"), ("🤬🤬", None), ("👍", "de"),
             ("Brewly is a joke.", "en"), ("Wieder kaputt 😡", None)]
    return [(f"x:{i:04d}", text, lang) for i, (text, lang) in enumerate(rows)]


def test_the_model_scores_demo_texts_exactly_as_the_module_does_with_the_project_settings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from analytics.sentiment import project_settings, score_message

    monkeypatch.delenv("RAPPORT_SEEDS_DIR", raising=False)  # the project's own seeds

    messages = _demo_messages()
    assert len(messages) > 300
    warehouse = tmp_path / "rapport.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema intermediate")
    con.execute("create table intermediate.int_messages (message_key varchar, text varchar, "
                "lang varchar)")
    con.executemany("insert into intermediate.int_messages values (?, ?, ?)", messages)
    con.close()
    # The seed as dbt loads it and the vars as dbt renders them into the model's config.
    dbt = Path(sys.executable).parent / "dbt"
    env = {**os.environ, "RAPPORT_WAREHOUSE": str(warehouse)}
    subprocess.run(
        [str(dbt), "seed", "--profiles-dir", ".", "--select", "sentiment_lexicon_overrides",
         "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
         "--quiet"], cwd=REPO_ROOT / "dbt_project", env=env, check=True)
    _dbt_run_sentiment(warehouse, tmp_path)

    con = duckdb.connect(str(warehouse), read_only=True)
    stored = con.execute("select message_key, lang, sentiment_score, sentiment_label, "
                         "p_negative, p_neutral, p_positive "
                         "from intermediate.int_message_sentiment order by message_key").fetchall()
    con.close()
    settings = project_settings()
    expected = [(key, *score_message(text, lang, settings)) for key, text, lang in messages]
    assert stored == expected
    assert {row[3] for row in stored} == {"negative", "neutral", "positive", None}
