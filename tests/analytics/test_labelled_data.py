"""analytics.labelled_data.text_key: what the trainer compares to keep test texts out."""

from __future__ import annotations

from analytics.labelled_data import text_key


def test_copies_of_a_post_share_a_key_whatever_handles_links_and_case_they_carry():
    assert text_key("@a @Joerg_Meuthen Lächerlich") == text_key("Lächerlich")
    assert text_key("RT @x: Straße gesperrt https://t.co/a") == text_key("strasse GESPERRT!")
    assert text_key("Great day") != text_key("Great night")
