"""Phrase candidates from NLTK's collocation finder."""

import pandas as pd
from nltk.collocations import BigramCollocationFinder
from nltk.metrics import BigramAssocMeasures

from conftest import SEED_MANIFEST
from discourselab.corpus import load_corpus
from discourselab.phrases import propose_phrases, run_pairs
from discourselab.text import TextPipeline


def _tokens(paragraphs):
    rows = []
    for para, terms in paragraphs.items():
        for i, term in enumerate(terms):
            rows.append({"doc_id": "d", "paragraph_id": para, "position": i, "token": term or "the", "term": term})
    return pd.DataFrame(rows)


def _pairs(table):
    return {(a, None if b != b else b): c for a, b, c in table.astype(object).itertuples(index=False)}


def test_runs_break_at_stop_words_and_paragraphs():
    tokens = _tokens({"d:1": ["a", "b", None, "c", "d", "b"], "d:2": ["e", "f"], "d:3": ["g", None, "a", "b"]})
    # runs: [a b], [c d b], [e f], [a b]; "g" alone is no run
    assert _pairs(run_pairs(tokens)) == {("a", "b"): 2, ("b", None): 3, ("c", "d"): 1, ("d", "b"): 1,
                                         ("e", "f"): 1, ("f", None): 1}


def test_same_candidates_as_nltk_over_the_runs():
    paragraphs = load_corpus(SEED_MANIFEST).paragraphs
    pipe = TextPipeline()
    tokens = pipe.token_table(paragraphs)
    runs, run, last = [], [], None  # runs of counted terms, built by hand
    for paragraph, term in tokens[["paragraph_id", "term"]].astype(object).itertuples(index=False):
        if paragraph != last or term != term:
            runs, run = runs + [run] * (len(run) > 1), []
            last = paragraph
        if term == term:
            run.append(term)
    runs += [run] * (len(run) > 1)
    finder = BigramCollocationFinder.from_documents(runs)
    finder.apply_freq_filter(3)
    expected = sorted(((s, " ".join(p)) for p, s in finder.score_ngrams(BigramAssocMeasures.likelihood_ratio)),
                      key=lambda x: (-x[0], x[1]))[:25]
    table = propose_phrases(tokens)
    assert len(expected) == 25
    assert list(zip(table["score"], table["candidate"])) == expected
    _, pairs = pipe.count_table(paragraphs, chunk=7)  # counted chunk by chunk, merged
    assert _pairs(pairs) == _pairs(run_pairs(tokens))
    assert propose_phrases(pairs).equals(table)


def test_candidates_ranked_with_counts():
    # "grid management" 3 times together; "grid" and "management" never apart -> top candidate
    paragraphs = {f"d:{i}": ["grid", "management", None, "city", f"w{i}"] for i in range(3)}
    table = propose_phrases(_tokens(paragraphs), min_count=2)
    assert table.iloc[0]["candidate"] == "grid management"
    assert table.iloc[0]["count"] == 3
    assert "city w0" not in set(table["candidate"])  # below min_count


def test_the_best_n_keep_ties_in_the_candidates_order():
    # four pairs, each three times and never apart: one score for all. As tuples ("a", "z") comes before
    # ("a b", "c"), as candidates "a b c" comes before "a z": the table is ranked by the candidates
    pairs = [("a", "z"), ("a b", "c"), ("m", "n"), ("b", "y")]
    paragraphs = {f"d:{i}:{k}": list(pair) for i in range(3) for k, pair in enumerate(pairs)}
    everything = propose_phrases(_tokens(paragraphs), min_count=2, n=10)
    assert everything["candidate"].tolist() == ["a b c", "a z", "b y", "m n"]
    assert everything["score"].nunique() == 1
    for n in (1, 2, 3):
        assert propose_phrases(_tokens(paragraphs), min_count=2, n=n).equals(everything.head(n))
    assert propose_phrases(_tokens(paragraphs), min_count=2, n=0).empty
