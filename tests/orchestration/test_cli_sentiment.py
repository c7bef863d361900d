"""`rapport sentiment` as a subprocess: JSON lines in, the warehouse's scores out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from analytics.sentiment import project_settings, score_message

RAPPORT = Path(sys.executable).parent / "rapport"


def _rapport_sentiment(stdin: bytes, *args: str, cwd: Path) -> list[dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAPPORT_")}
    done = subprocess.run([str(RAPPORT), "sentiment", *args], input=stdin, cwd=cwd, env=env,
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr == b""
    return [json.loads(line) for line in done.stdout.decode("utf-8").splitlines()]


def test_each_line_comes_back_with_the_warehouses_label_score_and_language(tmp_path: Path):
    lines = [
        {"id": "a", "text": "Brewly is a joke. Overpriced junk 🤬"},
        {"id": 2, "text": "Danke, hat wunderbar funktioniert!", "lang": "de-DE"},
        {"text": "die Maschine"},
        {"id": "d", "text": "Wo bekomme ich Ersatzteile für die Mühle?", "lang": "und"},
        {"id": "e", "text": ""},
    ]
    stdin = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()
    out = _rapport_sentiment(stdin, cwd=tmp_path)

    settings = project_settings()
    assert len(out) == len(lines)
    for given, got in zip(lines, out, strict=True):
        result = score_message(given["text"], given.get("lang"), settings)
        assert got == {**given, "lang": result.lang, "score": result.score,
                       "label": result.label, "p_negative": result.p_negative,
                       "p_neutral": result.p_neutral, "p_positive": result.p_positive}
    assert out[0]["label"] == "negative"  # the seeded overrides (joke, 🤬) are applied
    assert [o["lang"] for o in out[:4]] == ["en", "de", "de", "de"]
    assert out[4]["score"] is None and out[4]["label"] is None


def test_lang_option_stands_in_for_a_missing_language_field(tmp_path: Path):
    text = "Kein guter Tag, aber danke"
    stdin = (json.dumps({"text": text}) + "\n"
             + json.dumps({"text": text, "lang": "en"}) + "\n").encode()
    out = _rapport_sentiment(stdin, "--lang", "de", cwd=tmp_path)
    assert [o["lang"] for o in out] == ["de", "en"]
    settings = project_settings()
    assert [o["score"] for o in out] == [score_message(text, "de", settings).score,
                                         score_message(text, "en", settings).score]
    assert out[0]["score"] != out[1]["score"]  # the German and the English model differ


def test_bad_lines_get_an_error_and_the_others_are_still_scored(tmp_path: Path):
    stdin = b"\n".join([
        b'{"id": 1, "text": "Great, thanks!"}',
        b"not json at all",
        b'{"id": 3}',
        b'{"id": 4, "text": 42}',
        b'["a", "list"]',
        b'{"id": 6, "text": "ok", "lang": 7}',
        b'\xff\xfe{"id": 7, "text": "bytes that are not UTF-8"}',
        b"",
        b'{"id": 9, "text": "Terrible, I hate it"}',
    ]) + b"\n"
    out = _rapport_sentiment(stdin, cwd=tmp_path)
    assert [o.get("id", o.get("line")) for o in out] == [1, 2, 3, 4, 5, 6, 7, 9]
    errors = [o for o in out if "error" in o]
    assert [o.get("id", o.get("line")) for o in errors] == [2, 3, 4, 5, 6, 7]
    assert all("label" not in o for o in errors)
    assert (out[0]["label"], out[-1]["label"]) == ("positive", "negative")


def test_sarcastic_praise_is_not_read_as_praise(tmp_path: Path):
    # the dbt var sentiment_sarcasm_markers reaches `rapport sentiment` as it reaches the
    # warehouse; plain praise and plain thanks stay positive
    lines = [
        {"id": "nothing", "text": "Thanks a lot for nothing, great service", "lang": "en"},
        {"id": "another", "text": "Great, another delay. Wonderful.", "lang": "en"},
        {"id": "roll", "text": "Perfect timing as always 🙄", "lang": "en"},
        {"id": "toll", "text": "Toll, schon wieder eine Stunde Verspätung. Super!", "lang": "de"},
        {"id": "nix", "text": "Danke für nix, echt super", "lang": "de"},
        {"id": "praise", "text": "Great, it works again! Thank you so much", "lang": "en"},
        {"id": "danke", "text": "Super, vielen Dank für die schnelle Hilfe!", "lang": "de"},
    ]
    stdin = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()
    out = {o["id"]: o for o in _rapport_sentiment(stdin, cwd=tmp_path)}
    for key in ("nothing", "another", "roll", "toll", "nix"):
        assert out[key]["p_negative"] > out[key]["p_positive"], out[key]
        assert out[key]["label"] != "positive", out[key]
    for key in ("praise", "danke"):
        assert out[key]["label"] == "positive", out[key]
