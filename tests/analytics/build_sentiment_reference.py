"""Write tests/analytics/fixtures/sentiment_reference.jsonl.gz: what the sentiment scorer gives
a few thousand varied texts, kept so tests/analytics/test_sentiment_reference.py can prove that
a faster featurisation or scoring path still gives exactly the same numbers.

    .venv/bin/python tests/analytics/build_sentiment_reference.py

Rebuild it only when the scores are meant to change (a retrained model file, a new feature
version), never to make that test pass after a refactoring. The texts are the project's own:
every text of the recorded API pages and exports in tests/fixtures, the hand-written MRM
conversations, the demo's templates, hand-picked edge cases and seeded random mixes of their
fragments with emojis, emoticons, negators, links, handles, letter runs and capitals. The
settings (overrides, courtesy words, markers) are stored in the first line, so the reference
does not move when the project's seeds or vars do.
"""

from __future__ import annotations

import gzip
import html
import json
import random
import re
import sys
import zlib
from pathlib import Path

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

OUTPUT = HERE / "fixtures" / "sentiment_reference.jsonl.gz"
# platform language fields the messages get in turn: given, regional, X's "none", missing
_TAG = re.compile(r"<[^>]+>")
PLATFORM_LANGS = ("en", "de", None, "und", "de-CH", "fr", None, "EN")

EDGE_CASES = [
    "", " ", "\n\t", "🙏❤️", "👍👍", "👌😊", ":-)", "<3", "<333", ":D", "xD", "XDD", "^^",
    ":(", ";-)", "😡😡", "🤬", "👎👎👎", "👍🏽", "👍🏿👍🏻", "❤︎", "❤️‍🔥", "👨‍👩‍👧", "🇩🇪",
    "!!!", "???", "?!", "...",
    "@brand", "@brand thanks", "https://example.com", "www.example.org :)", "#fail", "#toll",
    "#", "##", "100%", "3,50 €", "9.30", "1,000,000", "NOT GOOD", "not good", "not not good",
    "I don't like it", "I don’t like it", "Das ist nicht gut, aber ok", "kein Problem!",
    "ohne Worte", "never again!!!", "sooooo goooood", "neeeeein", "Soooo guuuut 😍😍😍",
    "LOL", "OMG WHAT", "Danke 👍", "Ok, thanks.", "Danke für die Info", "thx", "ty 🙏",
    "cancelling my pass", "ich kündige", "Ich kündige mein Abo!", "ok, staying then",
    "dann pausier ich lieber", "I won't cancel", "Kündigung nehme ich zurück",
    "Great, another delay. Thanks a lot", "Toll, schon wieder 30 Minuten Verspätung. Danke DB!",
    "Thanks for nothing", "Danke für nichts", "Bahn-Chaos", "Mega-Verspätung!!", "Unverschämtheit",
    "don't", "n't", "can't won't shouldn't", "isn’t it?", "o'clock", "rock'n'roll", "it’s",
    "ÄÖÜ äöü ß", "STRAẞE", "Ça va très bien, merci", "¿Qué tal?", "Привет, как дела?",
    "こんにちは世界", "你好", "مرحبا", "שלום", "नमस्ते", "ﬁne ﬂow", "e\u0301cole", "\u00a0nbsp\u00a0",
    "zero\u200bwidth", "tab\tand\nnewline", "a", "I", "ab", "abc", "   padded   ", "x" * 300,
    "word " * 200, "🙂" * 50, "the the the the", "Brewly is a joke.", "Wieder kaputt 😡",
    "Mixed: love it but hate the price 😍😡", "„Zitat“ «guillemets» ‘single’", "—dash–dash-",
    "_under_score_", "snake_case_word", "CamelCaseWord", "e-mail", "co-op", "3D", "B2B", "mp3",
    "\\o/", ":/", ":\\", ":|", ":*", ":3", "8-)", "=)", "(:", "):", "D:", ":P", ":p", ";p",
]

EMOJIS = ["😍", "😡", "🙏", "👍", "👍🏽", "👎", "❤️", "💯", "🤬", "🙄", "😂", "😭", "🎉", "🚆", "☕",
          "🤷‍♀️", "😊", "😒", "💩", "🙌", "👏", "🤩", "💪", "😤", "🥲", "😅", "🔥", "✨", "⭐",
          "✅", "❌"]
EMOTICONS = [":)", ":-)", ":(", ":-(", ":D", ";)", "<3", ":P", "xD", "^^", ":/", ":'(", "=)"]
FRAGMENTS_EXTRA = ["not", "never", "no", "nicht", "kein", "keine", "ohne", "nie", "don't",
                   "can't", "isn’t", "but", "aber", "doch", "sondern", "!!!", "?", "?!", "...",
                   "@flusstakt", "https://t.co/abc123", "www.brewly.example", "#Bahn",
                   "#fail", "sooooo", "goooood", "SUPER", "TERRIBLE", "WHY", "42", "9:30",
                   "3,50", "so so", "Danke", "thanks", "ok", "great", "awful", "toll", "mies"]


def _fixture_texts() -> list[str]:
    """Every string of the recorded pages and exports that reads like a message."""
    found: list[str] = []

    def walk(value):
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and " " in value.strip() and len(value) > 3:
            # Mastodon's HTML as staging reads it (text without tags); a few stay as they are
            text = html.unescape(_TAG.sub("", value))
            found.append(text if text != value and len(found) % 10 else value)

    for path in sorted((REPO / "tests" / "fixtures").rglob("*")):
        if path.suffix == ".json":
            documents = [path.read_text(encoding="utf-8", errors="replace")]
        elif path.suffix == ".jsonl":
            documents = path.read_text(encoding="utf-8", errors="replace").splitlines()
        elif path.suffix in (".yaml", ".yml"):
            try:
                walk(yaml.safe_load(path.read_text(encoding="utf-8")))
            except yaml.YAMLError:
                pass
            continue
        else:
            continue
        for document in documents:
            try:
                walk(json.loads(document))
            except json.JSONDecodeError:
                found.append(document)  # a broken export line is text too
    return found


def _demo_texts() -> list[str]:
    from ingestion.demo.brand import BRAND, COMPETITORS
    from ingestion.demo.texts import PRODUCTS, TEXTS

    return [template.format(brand=BRAND, product=product, competitor=COMPETITORS[i % 2])
            for intent in TEXTS.values() for templates in intent.values()
            for template in templates for i, product in enumerate(PRODUCTS[:2])]


def _mixes(base: list[str], count: int, rng: random.Random) -> list[str]:
    """Random mixes of words and pieces of the base texts with the signs scoring cares about."""
    pieces = [piece for text in base for piece in re.split(r"(?<=[.!?,;])\s+", text) if piece]
    words = [word for text in base for word in text.split()]
    mixes = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 6)):
            kind = rng.random()
            if kind < 0.3:
                parts.append(rng.choice(pieces))
            elif kind < 0.55:
                parts.append(" ".join(rng.choices(words, k=rng.randint(1, 5))))
            elif kind < 0.7:
                parts.append("".join(rng.choices(EMOJIS, k=rng.randint(1, 3))))
            elif kind < 0.8:
                parts.append(rng.choice(EMOTICONS))
            else:
                parts.append(rng.choice(FRAGMENTS_EXTRA))
        text = rng.choice([" ", "", "  ", ", ", "\n"]).join(parts)
        if rng.random() < 0.1:
            text = text.upper()
        elif rng.random() < 0.1:
            text = text.lower()
        mixes.append(text)
    return mixes


def _encodable(text: str) -> bool:
    # broken Unicode (lone surrogates, tests/fixtures/bad_inputs) is quarantined at ingestion
    # and never reaches the scorer
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def texts() -> list[str]:
    """The reference's texts: distinct, in a fixed order."""
    base = [text for text in dict.fromkeys(_fixture_texts() + _demo_texts()) if _encodable(text)]
    rng = random.Random(12)
    mixes = _mixes(base, 3000 - len(base) - len(EDGE_CASES), rng)
    return list(dict.fromkeys(EDGE_CASES + base + mixes))


def feature_digest(text: str, lexicon) -> dict:
    """The text's hashed buckets (count and CRC-32 of the sorted distinct ones) and its dense
    features: equal digests mean equal features."""
    from analytics.sentiment_model import HASH_BITS, featurise

    row = featurise([text], lexicon)
    hashed = np.sort(row.indices[row.indices < 2**HASH_BITS]).astype(np.int64)
    dense = row.toarray()[0, 2**HASH_BITS:]
    return {"n": int(hashed.size), "crc": zlib.crc32(hashed.tobytes()),
            "dense": _rounded(dense.tolist())}


def _rounded(values) -> list[float]:
    # 12 decimals: far below the 1e-9 the test allows, and the file stays small
    return [round(float(value), 12) for value in values]


def main() -> int:
    from analytics import sentiment
    from analytics.sentiment import SentimentSettings, project_settings

    dbt_vars = yaml.safe_load((REPO / "dbt_project" / "dbt_project.yml")
                              .read_text(encoding="utf-8"))["vars"]
    project = project_settings()
    settings = SentimentSettings(project.detect_languages, project.min_letters_to_detect,
                                 project.overrides)
    courtesy = sorted({str(word).lower() for word in dbt_vars["mrm_courtesy_words"]})
    churn = [str(marker) for marker in dbt_vars["mrm_churn_markers"]]
    retention = [str(marker) for marker in dbt_vars["mrm_retention_markers"]]
    all_texts = texts()
    platform_langs = [PLATFORM_LANGS[i % len(PLATFORM_LANGS)] for i in range(len(all_texts))]
    scored = sentiment.score_messages(all_texts, platform_langs, settings)
    per_model = {lang: sentiment.probabilities(all_texts, lang, settings.overrides).tolist()
                 for lang in ("en", "de")}
    lexicons = {lang: sentiment.model_for(lang, settings.overrides).lexicon
                for lang in ("en", "de")}
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(OUTPUT, "wt", encoding="utf-8") as out:
        out.write(json.dumps({
            "detect_languages": list(settings.detect_languages or ()),
            "min_letters_to_detect": settings.min_letters_to_detect,
            "overrides": [list(pair) for pair in settings.overrides],
            "courtesy_words": courtesy, "churn_markers": churn, "retention_markers": retention,
        }, ensure_ascii=False) + "\n")
        for index, (text, platform_lang, result) in enumerate(
                zip(all_texts, platform_langs, scored, strict=True)):
            out.write(json.dumps({
                "text": text, "platform_lang": platform_lang,
                "lang": result.lang, "label": result.label,
                "p_en": _rounded(per_model["en"][index]), "p_de": _rounded(per_model["de"][index]),
                "features_en": feature_digest(text, lexicons["en"]),
                "features_de": feature_digest(text, lexicons["de"]),
                "courtesy": sentiment.is_courtesy_only(text, frozenset(courtesy)),
                "churn": sentiment.matches_marker(text, tuple(churn)),
                "retention": sentiment.matches_marker(text, tuple(retention)),
            }, ensure_ascii=False) + "\n")
    print(f"{OUTPUT.relative_to(REPO)}: {len(all_texts):,} texts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
