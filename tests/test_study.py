"""Study-level tables: the columns the issue names, for every grouping."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from discourselab.frequency import FREQUENCY_COLUMNS
from discourselab.keyness import KEYNESS_COLUMNS
from discourselab.study import open_study, variant_usage

REQUIRED_KEYNESS = ["by", "group", "reference", "term", "count_group", "count_reference", "words_group",
                    "words_reference", "g2", "p", "q", "log_ratio", "pct_diff", "log_odds_z"]
REQUIRED_FREQUENCIES = ["by", "group", "term", "count", "per_1000", "pieces", "paragraphs", "dp"]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    from conftest import MINI
    return open_study(MINI / "corpus.csv", tmp_path_factory.mktemp("out"))


def test_frequency_table(study):
    table = study.frequencies()
    assert set(REQUIRED_FREQUENCIES) <= set(table.columns) and list(table.columns) == FREQUENCY_COLUMNS
    assert set(table["by"]) == {"doc_id", "author", "role"}
    # counts per group add up to the counted terms of the token table
    for column in ("doc_id", "role"):
        assert table.loc[table["by"] == column, "count"].sum() == study.tokens["term"].notna().sum()


def test_frequency_tables_are_the_count_terms_of_each_level_a_few_groups_at_a_time(study):
    from discourselab.frequency import count_terms

    levels = ["doc_id", *study.by]
    whole = pd.concat([count_terms(study.counts, study.pieces, b) for b in levels], ignore_index=True)
    parts = list(study.frequency_tables(groups_per_table=2))
    assert len(parts) == sum(-(-study.pieces[b].nunique() // 2) for b in levels)
    assert all(part["group"].nunique() <= 2 for part in parts)
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)
    pd.testing.assert_frame_equal(study.frequencies(), whole)
    # and at most so many running words in a table's groups, unless a group alone has more
    words = study.pieces.set_index("doc_id")["words"]
    budget = int(words.max()) + 1
    parts = list(study.frequency_tables(words_per_table=budget))
    held = [words[part["group"].unique()].sum() for part in parts if part["by"].iat[0] == "doc_id"]
    assert len(held) > 1 and max(held) <= budget
    assert all(a + b > budget for a, b in zip(held, held[1:]))  # each table ends only before a group that would not fit
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)


def test_keyness_table(study):
    table = study.keyness()
    assert set(REQUIRED_KEYNESS) <= set(table.columns) and list(table.columns) == KEYNESS_COLUMNS
    roles = table[table["by"] == "role"]
    assert set(roles["reference"]) == {"rest", "office"}  # two roles: group vs rest, and the pair
    # words_group + words_reference is the corpus size in every group-vs-rest row
    rest = table[table["reference"] == "rest"]
    assert (rest["words_group"] + rest["words_reference"]).nunique() == 1


@pytest.mark.parametrize("cache", ["on", "off"])
def test_keyness_tables_are_compare_groups_in_parts_stored_in_the_cache(study, tmp_path, monkeypatch, cache):
    from discourselab import keyness, study as study_module
    from discourselab.study import Study

    monkeypatch.setenv("DISCOURSELAB_CACHE", str(tmp_path) if cache == "on" else "off")
    monkeypatch.setattr(study_module, "comparison_tables", lambda *a, **k: keyness.comparison_tables(*a, **k, rows=10))
    fresh = Study(study.corpus, study.out_dir, study.by)
    for column, pairs in (("author", "all"), ("role", "all")):
        expected = keyness.compare_groups(study.counts, study.pieces, column, pairs=pairs)
        tables = list(fresh.keyness_tables(column))
        assert len(tables) > 1 and all(len(t) >= 10 for t in tables[:-1])
        pd.testing.assert_frame_equal(pd.concat(tables, ignore_index=True), expected, check_exact=True)
    pd.testing.assert_frame_equal(fresh.keyness(), study.keyness(), check_exact=True)
    if cache == "on":  # read back, not made again
        assert len(list(tmp_path.glob("keyness-*.pkl"))) == 2
        monkeypatch.setattr(study_module, "comparison_tables", lambda *a, **k: pytest.fail("keyness made again"))
        again = Study(study.corpus, study.out_dir, study.by)
        pd.testing.assert_frame_equal(again.keyness(by=["author"]), fresh.keyness(by=["author"]))


def test_glossary_switch_changes_terms(study):
    plain = study.with_settings(use_glossary=False)
    assert "primary-level" in set(plain.tokens["term"]) and "primary-level" not in set(study.tokens["term"])
    # the same settings give the same study, so that its counts are loaded once; other settings, another
    assert study.with_settings(use_glossary=False) is plain and study.with_settings(use_glossary=True) is study
    assert plain.settings.use_glossary is False and study.with_settings(lemmatize=False) is not plain


def test_variant_usage(study):
    usage = variant_usage(study, by="file")
    grassroots = usage[usage["concept"] == "grassroots"]
    assert set(grassroots["variant"]) == {"grassroots", "primary-level"}
    assert grassroots.set_index("variant").loc["primary-level", "group"] == "texts/a.txt"


def test_variant_usage_keeps_only_the_categories_its_rows_use(study, monkeypatch):
    import discourselab.study as study_module

    given = []
    monkeypatch.setattr(study_module, "count_terms", lambda table, *a, made=study_module.count_terms, **k:
                        given.append(table) or made(table, *a, **k))
    expected = variant_usage(study, by="file")
    (found,) = given
    assert 0 < len(found) < sum(len(p) for p in study.with_settings(use_glossary=False).count_parts())
    # each part's categories (all its paragraphs, every term) are not carried with its few rows
    for column in found.select_dtypes("category"):
        assert set(found[column].cat.categories) == set(found[column])
    assert expected.equals(variant_usage(study, by="file"))


def test_similarity_tests_are_grouping_tests_of_the_pairs_and_come_from_the_cache(study, tmp_path, monkeypatch):
    from discourselab.similarity import (burrows_delta, burrows_delta_pairs, cluster, cosine_table, grouping_tests,
                                         similarity_pairs, tfidf_from_tokens)
    from discourselab.study import Study

    monkeypatch.setenv("DISCOURSELAB_CACHE", str(tmp_path))
    names = study.pieces["doc_id"].tolist()
    matrix, _, _ = tfidf_from_tokens(study.tokens, pd.Series(names, index=names), order=names)
    pairs = similarity_pairs(cosine_table(matrix, names), burrows_delta(study.corpus.piece_texts(), mfw=20),
                             study.pieces)
    # the study's pairs (made without square tables) are those of the square tables, to the bit
    pd.testing.assert_frame_equal(study.similarity_pairs(mfw=20), pairs)
    # its trees are those of the pairs' columns, and come from the cache, as do the cosine pairs
    trees = study.similarity_trees(mfw=20)
    for tree, expected_tree in zip(trees, (cluster(pairs["cosine"], similarities=True), cluster(pairs["delta"]))):
        np.testing.assert_array_equal(tree, expected_tree)
    with monkeypatch.context() as patch:
        patch.setattr("discourselab.study.cluster", lambda *a, **k: pytest.fail("tree made again"))
        patch.setattr("discourselab.study.cosine_pairs", lambda *a, **k: pytest.fail("cosine made again"))
        again = Study(study.corpus, study.out_dir, study.by).similarity_trees(mfw=20)
        np.testing.assert_array_equal(again[0], trees[0])
        np.testing.assert_array_equal(again[1], trees[1])
        np.testing.assert_array_equal(study.cosine_pairs(), pairs["cosine"].to_numpy())
    pd.testing.assert_frame_equal(study.delta(mfw=20), burrows_delta(study.corpus.piece_texts(), mfw=20))
    monkeypatch.setattr("discourselab.study.burrows_delta_pairs", lambda *a, **k: pytest.fail("Delta made again"))
    np.testing.assert_array_equal(Study(study.corpus, study.out_dir, study.by).delta_pairs(mfw=20),
                                  pairs["delta"].to_numpy())  # from the cache
    texts = list(study.corpus.piece_texts())[::-1]  # pieces in another order than the manifest's are put in order
    monkeypatch.setattr("discourselab.study.burrows_delta_pairs", burrows_delta_pairs)
    monkeypatch.setattr(type(study.corpus), "piece_texts", lambda self: iter(texts))
    square = burrows_delta(study.corpus.piece_texts(), mfw=19).loc[names, names].to_numpy()
    np.testing.assert_array_equal(study.delta_pairs(mfw=19), square[np.triu_indices(len(names), k=1)])
    expected = pd.DataFrame([t for c in ("role", "author") for t in grouping_tests(pairs, study.pieces, c)])
    tests = study.similarity_tests(["role", "author"], mfw=20)
    pd.testing.assert_frame_equal(tests, expected)
    assert tests["same_pairs"].tolist() == [2, 2, 0, 0]  # every author wrote one piece: not testable
    assert tests["p_greater"].notna().tolist() == [True, True, False, False]

    def no_pairs(self, mfw=100):
        raise AssertionError("the pairs were built again")

    monkeypatch.setattr(Study, "similarity_pairs", no_pairs)
    pd.testing.assert_frame_equal(study.similarity_tests(["role", "author"], mfw=20), expected)
    authors = study.similarity_tests(["author"], mfw=20, pairs=pairs)
    pd.testing.assert_frame_equal(authors, expected.iloc[2:].reset_index(drop=True))


def test_similarity_tables_read_each_tables_values_from_the_cache(study, tmp_path, monkeypatch):
    from discourselab import cache, study as study_module
    from discourselab.similarity import similarity_pair_tables
    from discourselab.study import Study

    monkeypatch.setenv("DISCOURSELAB_CACHE", str(tmp_path))
    monkeypatch.setattr(cache, "ARRAY_PART", 2)
    monkeypatch.setattr(study_module, "similarity_pair_tables",
                        lambda *a, **k: similarity_pair_tables(*a, **k, pairs_per_table=2))
    with monkeypatch.context() as patch:
        patch.setenv("DISCOURSELAB_CACHE", "off")
        expected = Study(study.corpus, study.out_dir, study.by).similarity_pairs(mfw=20)
    with monkeypatch.context() as patch:  # with a cache, the cosine values are stored as they are made
        patch.setattr(study_module, "cosine_pairs", lambda *a, **k: pytest.fail("cosine values made whole"))
        pd.testing.assert_frame_equal(Study(study.corpus, study.out_dir, study.by).similarity_pairs(mfw=20),
                                      expected)  # made, and stored
    assert len(expected) == 6 and cache.stored_parts("cosine-pairs", study._key({})) == 1 + 3
    read = []
    real = cache.StoredArray.__getitem__
    monkeypatch.setattr(cache.StoredArray, "__getitem__", lambda self, rows: read.append(rows) or real(self, rows))
    fresh = Study(study.corpus, study.out_dir, study.by)
    for name in ("cosine_pairs", "delta_pairs"):  # never read whole
        monkeypatch.setattr(Study, name, lambda *a, name=name, **k: pytest.fail(f"{name} read whole"))
    tables = list(fresh.similarity_tables(mfw=20))
    assert [len(t) for t in tables] == [3, 2, 1]  # a run of first pieces each, across the stored parts of 2 values
    pd.testing.assert_frame_equal(pd.concat(tables), expected)
    assert sorted((r.start, r.stop) for r in read) == sorted((t.index[0], t.index[-1] + 1) for t in tables for _ in "cd")
    # with the cache off, the values are made whole, and the same tables come
    monkeypatch.undo()
    monkeypatch.setenv("DISCOURSELAB_CACHE", "off")
    pd.testing.assert_frame_equal(pd.concat(Study(study.corpus, study.out_dir, study.by).similarity_tables(mfw=20)),
                                  expected)


@pytest.mark.parametrize("cache", ["on", "off"])
def test_keywords_in_context_gives_the_lines_in_parts_from_the_cache(study, tmp_path, monkeypatch, cache):
    from discourselab import context, study as study_module
    from discourselab.io import write_csv
    from discourselab.study import Study

    monkeypatch.setenv("DISCOURSELAB_CACHE", str(tmp_path) if cache == "on" else "off")
    monkeypatch.setattr(study_module, "keyword_parts", lambda *a, **k: context.keyword_parts(*a, **k, chunk=2))
    queries = ["grassroots", "community", "party", "not in the corpus"]
    options = {"by": "role", "window": 3, "words": 6, "min_count": 1}
    lines, near = context.keywords_in_context(study.corpus.paragraphs, study.pieces, queries, study.pipeline,
                                              study.counts, chunk=2, **options)
    assert lines["query"].nunique() >= 2 and len(near) > 0
    mine, my_near = Study(study.corpus, study.out_dir, study.by).keywords_in_context(queries, **options)
    tables = list(mine)
    assert len(tables) > lines["query"].nunique()  # a chunk of two paragraphs at a time
    pd.testing.assert_frame_equal(pd.concat(tables, ignore_index=True), lines)
    pd.testing.assert_frame_equal(my_near, near)
    for query in queries:
        pd.testing.assert_frame_equal(mine.of(query), lines[lines["query"] == query].reset_index(drop=True),
                                      check_dtype=len(mine.of(query)) > 0)
    for table in mine:  # a column added to a table given is not kept
        table.insert(1, "added", 0)
    assert [list(t.columns) for t in mine] == [list(lines.columns)] * len(tables)
    write_csv(mine, tmp_path / "parts.csv")
    write_csv(lines, tmp_path / "whole.csv")
    assert (tmp_path / "parts.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    if cache == "on":  # lost meanwhile: made again
        (entry,) = tmp_path.glob("concordance-*.pkl")
        saved = entry.read_bytes()
        entry.unlink()
        made = []
        monkeypatch.setattr(study_module, "keyword_parts",
                            lambda *a, **k: made.append(1) or context.keyword_parts(*a, **k, chunk=2))
        pd.testing.assert_frame_equal(pd.concat(list(mine), ignore_index=True), lines)
        assert made == [1]  # once for every query
        entry.write_bytes(saved)
    none, _ = Study(study.corpus, study.out_dir, study.by).keywords_in_context(["not in the corpus"], **options)
    assert [list(t.columns) for t in none] == [list(lines.columns)]  # one empty table, with the columns
    if cache == "on":  # read back, not made again
        monkeypatch.setattr(study_module, "keyword_parts", lambda *a, **k: pytest.fail("lines made again"))
        again, again_near = Study(study.corpus, study.out_dir, study.by).keywords_in_context(queries, **options)
        pd.testing.assert_frame_equal(pd.concat(list(again), ignore_index=True), lines)
        pd.testing.assert_frame_equal(again_near, near)
