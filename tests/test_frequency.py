"""Frequencies and Gries' DP against hand-computed and published values."""

from __future__ import annotations

import pandas as pd
import pytest

from discourselab import CorpusError
from discourselab.frequency import count_terms, gries_dp, stream_frequencies, top_terms


def _parts(counts: list[int], sizes: list[int]):
    count_rows = [{"g": "x", "part": i, "term": "w", "count": c} for i, c in enumerate(counts) if c]
    size_rows = [{"g": "x", "part": i, "words": s} for i, s in enumerate(sizes)]
    return pd.DataFrame(count_rows), pd.DataFrame(size_rows)


def test_dp_three_equal_parts():
    # Lijffijt and Gries (2012), Table 1: three equal parts, 2/3 of the occurrences in one and 1/3 in
    # another. DP = (|2/3 - 1/3| + |1/3 - 1/3| + |0 - 1/3|) / 2 = 1/3; DP_norm = (1/3) / (1 - 1/3) = 1/2.
    dp = gries_dp(*_parts([2, 1, 0], [100, 100, 100]), keys=["g"]).iloc[0]
    assert dp["dp"] == pytest.approx(1 / 3)
    assert dp["dp_norm"] == pytest.approx(1 / 2)


def test_dp_unequal_parts_by_hand():
    # sizes 9, 10, 10, 11, 11 (51 words); counts 1..5 (15). s = size/51, v = count/15;
    # sum |v - s| = |1/15-9/51| + |2/15-10/51| + |3/15-10/51| + |4/15-11/51| + |5/15-11/51|
    #            = 0.10980 + 0.06275 + 0.00392 + 0.05098 + 0.11765 = 0.34510 -> DP = 0.17255
    dp = gries_dp(*_parts([1, 2, 3, 4, 5], [9, 10, 10, 11, 11]), keys=["g"]).iloc[0]
    assert dp["dp"] == pytest.approx(0.17255, abs=1e-5)


def test_dp_even_and_concentrated():
    assert gries_dp(*_parts([5, 5, 5, 5], [10, 10, 10, 10]), keys=["g"]).iloc[0]["dp"] == pytest.approx(0)
    # all in one of four equal parts: (0.75 + 0.25 * 3) / 2 = 0.75, the maximum; normalized 1
    dp = gries_dp(*_parts([4, 0, 0, 0], [10, 10, 10, 10]), keys=["g"]).iloc[0]
    assert dp["dp"] == pytest.approx(0.75) and dp["dp_norm"] == pytest.approx(1.0)


@pytest.fixture
def tiny():
    """Two groups: A (pieces a1, a2), B (piece b1). One token a row; words 1 each."""
    rows = []
    text = {"a1:1": "x x y", "a1:2": "z", "a2:1": "x q", "b1:1": "y y y q"}
    for para, words in text.items():
        for i, term in enumerate(words.split()):
            rows.append({"doc_id": para.split(":")[0], "paragraph_id": para, "position": i,
                         "token": term, "term": term, "words": 1})
    rows.append({"doc_id": "b1", "paragraph_id": "b1:1", "position": 9, "token": "the", "term": None, "words": 1})
    tokens = pd.DataFrame(rows)
    pieces = pd.DataFrame({"doc_id": ["a1", "a2", "b1"], "role": ["A", "A", "B"]})
    return tokens, pieces


def test_count_terms(tiny):
    tokens, pieces = tiny
    table = count_terms(tokens, pieces, by="role").set_index(["group", "term"])
    # group A: 6 words; x occurs 3 times in 2 pieces and 2 paragraphs
    assert table.loc[("A", "x"), ["count", "pieces", "paragraphs"]].tolist() == [3, 2, 2]
    assert table.loc[("A", "x"), "per_1000"] == pytest.approx(500)
    # group B: 5 running words (the stop word counts as a word, not as a term)
    assert table.loc[("B", "y"), "per_1000"] == pytest.approx(600)
    assert ("B", "the") not in table.index
    # x in A: paragraphs a1:1 (3 words, share 1/2; 2 of 3 x) and a2:1 (2 words, 1/3; 1 of 3), a1:2 (1/6; 0)
    # DP = (|2/3 - 1/2| + |1/3 - 1/3| + 1/6) / 2 = 1/6
    assert table.loc[("A", "x"), "dp"] == pytest.approx(1 / 6)
    assert set(table.reset_index()["by"]) == {"role"}


def test_top_terms(tiny):
    tokens, pieces = tiny
    top = top_terms(count_terms(tokens, pieces, by="role"), n=1)
    assert top[["group", "term"]].values.tolist() == [["A", "x"], ["B", "y"]]


@pytest.mark.parametrize("by", ["author", "role"])
def test_stream_frequencies_gives_the_counts_and_rates_of_count_terms(by, tmp_path):
    from conftest import SEED_MANIFEST
    from discourselab.study import open_study

    study = open_study(SEED_MANIFEST, tmp_path, by=[by])
    expected = count_terms(study.tokens, study.pieces, by)[["by", "group", "term", "count", "per_1000"]]
    streamed = stream_frequencies(SEED_MANIFEST, by, n_jobs=2)
    pd.testing.assert_frame_equal(streamed, expected, check_dtype=False)


def test_stream_frequencies_names_a_missing_column(mini_manifest):
    with pytest.raises(CorpusError, match="no column 'party' to group by"):
        stream_frequencies(mini_manifest, "party")
