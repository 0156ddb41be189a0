"""Frequencies and Gries' DP against hand-computed and published values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from discourselab import CorpusError
from discourselab.frequency import count_terms, gries_dp, stream_frequencies, term_summary, top_terms


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


@pytest.mark.parametrize("by", ["author", "doc_id"])
def test_count_terms_equals_a_groupby_over_paragraphs(by, tmp_path):
    # count_terms works on integer codes; here the same numbers the plain way, with pandas groupby per
    # paragraph and gries_dp (tested above against published values) over the paragraphs
    from conftest import SEED_MANIFEST
    from discourselab.frequency import group_of
    from discourselab.study import open_study

    study = open_study(SEED_MANIFEST, tmp_path, by=["author"])
    tokens = study.tokens.astype({c: object for c in ("doc_id", "paragraph_id", "term")})
    group = tokens["doc_id"].map(group_of(study.pieces, by))
    sizes = tokens.groupby([group.rename("group"), tokens["paragraph_id"].rename("part")])["words"].sum()
    terms = tokens[tokens["term"].notna()].assign(group=group)
    per_part = terms.groupby(["group", "paragraph_id", "term"]).agg(count=("words", "size"), doc_id=("doc_id", "first"))
    per_part = per_part.reset_index().rename(columns={"paragraph_id": "part"})
    expected = per_part.groupby(["group", "term"]).agg(
        count=("count", "sum"), pieces=("doc_id", "nunique"), paragraphs=("part", "nunique"))
    dp = gries_dp(per_part[["group", "part", "term", "count"]], sizes.reset_index(), ["group"])
    expected = expected.join(dp.set_index(["group", "term"]))
    table = count_terms(study.tokens, study.pieces, by).set_index(["group", "term"])
    assert len(table) == len(expected) > 1000
    pd.testing.assert_frame_equal(table[expected.columns], expected.loc[table.index], check_dtype=False,
                                  rtol=1e-12, atol=1e-14)
    # rates per 1,000 running words of the group, stop words included
    words = sizes.groupby("group").sum()
    rates = 1000 * table["count"] / words.loc[table.index.get_level_values("group")].to_numpy()
    assert np.allclose(table["per_1000"], rates, rtol=1e-12)


def test_count_terms_ignores_pieces_without_a_group_and_keeps_unsorted_categories(tiny):
    tokens, pieces = tiny
    expected = count_terms(tokens, pieces, by="role")
    # categories in another order than sorted, and a piece the pieces table does not know
    shuffled = tokens.assign(term=pd.Categorical(tokens["term"], categories=["z", "y", "x", "q"]))
    extra = pd.DataFrame([{"doc_id": "c9", "paragraph_id": "c9:1", "position": 0, "token": "x", "term": "x",
                           "words": 1}])
    table = count_terms(pd.concat([shuffled.astype({"term": object}), extra], ignore_index=True), pieces, "role")
    pd.testing.assert_frame_equal(count_terms(shuffled, pieces, "role"), expected)
    pd.testing.assert_frame_equal(table, expected)


@pytest.mark.parametrize("by", ["doc_id", "author", "role"])
def test_group_terms_in_batches_of_pieces_is_the_same_as_in_one(by, tmp_path, monkeypatch):
    # a large table is counted a batch of whole pieces at a time; here batches of about 300 rows of the seed corpus
    from conftest import SEED_MANIFEST
    from discourselab import frequency
    from discourselab.frequency import group_of, group_terms
    from discourselab.study import open_study

    study = open_study(SEED_MANIFEST, tmp_path)
    groups = group_of(study.pieces, by)
    groups = groups.drop(groups.index[3])  # a piece without a group is left out either way
    for table in (study.counts, study.tokens, study.tokens.astype({"doc_id": object, "term": object})):
        for dispersion in (False, True):
            whole = group_terms(table, groups, dispersion=dispersion)
            monkeypatch.setattr(frequency, "GROUP_ROWS", 300)
            codes, docs = frequency._sorted_codes(table["doc_id"])
            batches = frequency._piece_batches(codes, len(docs))
            parts = group_terms(table, groups, dispersion=dispersion)
            monkeypatch.setattr(frequency, "GROUP_ROWS", 2_000_000)
            assert len(batches) > 5
            # counts are added up exactly; DP's sums over paragraphs, batch by batch, to rounding
            pd.testing.assert_frame_equal(parts[0], whole[0], check_exact=False, rtol=1e-12, atol=1e-15)
            pd.testing.assert_series_equal(parts[1], whole[1])
            if dispersion:
                assert whole[0]["dp"].between(0, 1).all() and whole[0]["dp"].gt(0.5).any()
    if by == "role":  # a group spans several batches
        codes, docs = frequency._sorted_codes(study.counts["doc_id"])
        role = groups.reindex(docs).to_numpy()
        monkeypatch.setattr(frequency, "GROUP_ROWS", 300)
        spans = [set(role[first:last]) for first, last in frequency._piece_batches(codes, len(docs))]
        assert any(sum(g in span for span in spans) > 2 for g in set(groups))
    assert count_terms(study.counts, study.pieces, by)["count"].sum() == study.counts["term"].notna().mul(
        study.counts["count"]).sum()


def test_group_terms_of_some_terms_only_are_those_rows_of_the_whole_table(tmp_path, monkeypatch):
    from conftest import SEED_MANIFEST
    from discourselab import frequency
    from discourselab.frequency import group_of, group_terms
    from discourselab.study import open_study

    study = open_study(SEED_MANIFEST, tmp_path)
    groups = group_of(study.pieces, "role")
    whole, words = group_terms(study.counts, groups, dispersion=True)
    chosen = ["community", "party building", "grassroots", "not a term here"]
    for rows in (2_000_000, 300):  # in one batch and in batches of pieces
        monkeypatch.setattr(frequency, "GROUP_ROWS", rows)
        some, some_words = group_terms(study.counts, groups, dispersion=True, only=chosen)
        expected = whole[whole["term"].isin(chosen)].reset_index(drop=True)
        assert set(some["term"]) == set(chosen[:3]) and len(some) == len(expected) > 3
        pd.testing.assert_frame_equal(some, expected, check_exact=False, rtol=1e-12)
        pd.testing.assert_series_equal(some_words, words)  # running words count every token
        assert group_terms(study.counts, groups, only=[])[0].empty


def test_term_summary_by_hand_whole_or_in_parts():
    table = pd.DataFrame({"doc_id": ["a", "a", "a", "b", "b"], "paragraph_id": ["a1", "a1", "a2", "b1", "b1"],
                          "term": ["party", None, "party building", "party", "masses"],
                          "count": [2, 3, 1, 1, 4]})
    table["term"] = table["term"].astype("category")
    expected = {"tokens": 11, "terms": 8, "phrases": 1, "distinct": 3}
    assert term_summary(table) == expected
    assert term_summary([table.iloc[:3], table.iloc[3:]]) == expected
    assert term_summary([table.iloc[:0]]) == {"tokens": 0, "terms": 0, "phrases": 0, "distinct": 0}
