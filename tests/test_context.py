"""Concordances and collocates."""

from __future__ import annotations

import pandas as pd
import pytest

from discourselab.context import collocates, concordance, query_term, render_concordance
from discourselab.text import TextPipeline


@pytest.fixture(scope="module")
def pipe():
    return TextPipeline()


def _corpus(texts: dict[str, str], pipe):
    paragraphs = pd.DataFrame({"doc_id": list(texts), "paragraph_id": [f"{d}:1" for d in texts],
                               "text": list(texts.values())})
    pieces = pd.DataFrame({"doc_id": list(texts), "author": [f"author {d}" for d in texts],
                           "role": ["r"] * len(texts)})
    return pipe.token_table(paragraphs), paragraphs, pieces


def test_concordance_typographic_quotes_and_piece_edges(pipe):
    texts = {"d1": "Masses lead “the masses’ own” order, for the masses",
             "d2": "Nothing here."}
    tokens, paragraphs, pieces = _corpus(texts, pipe)
    lines = concordance(tokens, paragraphs, pieces, "masses", pipe, words=3)
    # the plural possessive's apostrophe is not part of the word; the context keeps it as written
    assert lines["keyword"].tolist() == ["Masses", "masses", "masses"]
    first, middle, last = lines.to_dict("records")
    assert first["left"] == "" and first["right"] == "lead “the masses’"   # keyword opens the piece
    assert middle["left"] == "Masses lead “the" and middle["right"] == "’ own” order,"
    assert last["right"] == "" and last["left"] == "order, for the"       # keyword closes the piece
    assert set(lines["author"]) == {"author d1"}


def test_concordance_finds_glossary_variants(pipe):
    tokens, paragraphs, pieces = _corpus({"d1": "Primary-level work and grassroots work."}, pipe)
    assert query_term("grass-roots", pipe) == "grassroots"
    lines = concordance(tokens, paragraphs, pieces, "grass-roots", pipe, words=2)
    assert lines["keyword"].tolist() == ["Primary-level", "grassroots"]


def test_render_escapes_text():
    lines = pd.DataFrame([{"doc_id": "<i>d</i>", "author": "a", "paragraph_id": "p", "left": "<script>x</script>",
                           "keyword": "a & b", "right": "<b>bold</b>"}])
    html = render_concordance(lines)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>a &amp; b</b>" in html and "&lt;b&gt;bold&lt;/b&gt;" in html and "&lt;i&gt;d" in html


def test_collocates_log_dice_by_hand(pipe):
    # positions: 0 worker, 1 union, 2 worker, 3-6 city, 7 union, 8 worker, 9-10 city, 11 worker
    # window 1 around union (f_n = 2): positions 0, 2 and 6, 8 -> worker 3 times (f_nc = 3), city once.
    # worker occurs 4 times (f_c = 4): logDice = 14 + log2(2 * 3 / (2 + 4)) = 14 + log2(1) = 14.0
    # city: f_nc = 1, f_c = 6: logDice = 14 + log2(2 / 8) = 12.0
    text = "worker union worker city city city city union worker city city worker"
    tokens, _, pieces = _corpus({"d1": text}, pipe)
    table = collocates(tokens, pieces, "union", pipe, by="role", window=1, min_count=1).set_index("collocate")
    assert table.loc["worker", ["count", "node_count", "collocate_count"]].tolist() == [3, 2, 4]
    assert table.loc["worker", "log_dice"] == pytest.approx(14.0)
    assert table.loc["city", "log_dice"] == pytest.approx(12.0)
    assert table.index.tolist() == ["worker", "city"]  # ranked by logDice
