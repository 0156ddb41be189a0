"""Phrase candidates from NLTK's collocation finder."""

import pandas as pd

from discourselab.phrases import propose_phrases, term_runs


def _tokens(paragraphs):
    rows = []
    for para, terms in paragraphs.items():
        for i, term in enumerate(terms):
            rows.append({"doc_id": "d", "paragraph_id": para, "position": i, "token": term or "the", "term": term})
    return pd.DataFrame(rows)


def test_runs_break_at_stop_words_and_paragraphs():
    tokens = _tokens({"d:1": ["a", "b", None, "c", "d"], "d:2": ["e", "f"]})
    assert term_runs(tokens) == [["a", "b"], ["c", "d"], ["e", "f"]]


def test_candidates_ranked_with_counts():
    # "grid management" 3 times together; "grid" and "management" never apart -> top candidate
    paragraphs = {f"d:{i}": ["grid", "management", None, "city", f"w{i}"] for i in range(3)}
    table = propose_phrases(_tokens(paragraphs), min_count=2)
    assert table.iloc[0]["candidate"] == "grid management"
    assert table.iloc[0]["count"] == 3
    assert "city w0" not in set(table["candidate"])  # below min_count
