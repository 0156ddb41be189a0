"""The count table gives every count-based analysis the numbers of the token table, at a fraction of its size."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import SEED_MANIFEST
from discourselab import context, text
from discourselab.context import collocates, concordance, keywords_in_context, query_paragraphs
from discourselab.corpus import load_corpus, part_sizes
from discourselab.frequency import count_terms, group_of
from discourselab.keyness import compare_groups
from discourselab.robustness import leave_one_out
from discourselab.similarity import distinctive_terms, term_counts
from discourselab.text import TextPipeline, join_count_parts
from discourselab.topics import build_documents


@pytest.fixture(scope="module")
def seed():
    corpus = load_corpus(SEED_MANIFEST)
    pipe = TextPipeline()
    counts, _ = pipe.count_table(corpus.paragraphs)
    return corpus, pipe, pipe.token_table(corpus.paragraphs), counts


def _plain(table):
    return table.astype({c: object for c in ("doc_id", "paragraph_id", "term")})


def test_count_table_sums_the_token_table_by_paragraph_and_term(seed):
    corpus, pipe, tokens, counts = seed
    expected = (_plain(tokens).groupby(["paragraph_id", "term"], dropna=False, sort=False)
                .agg(doc_id=("doc_id", "first"), count=("words", "size"), words=("words", "sum")).reset_index())
    key = ["paragraph_id", "term"]
    got = _plain(counts).sort_values(key, na_position="first").reset_index(drop=True)
    expected = expected.sort_values(key, na_position="first").reset_index(drop=True)[got.columns]
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert counts["count"].sum() == len(tokens) and len(counts) < len(tokens) / 2
    # in corpus order, stop words and numbers (term missing) first in each paragraph
    order = {p: i for i, p in enumerate(corpus.paragraphs["paragraph_id"])}
    assert (np.diff(counts["paragraph_id"].astype(object).map(order).to_numpy()) >= 0).all()
    # counted in chunks of a few paragraphs: the same table
    pd.testing.assert_frame_equal(pipe.count_table(corpus.paragraphs, chunk=7)[0], counts)


def test_count_parts_are_the_count_table_a_part_of_whole_pieces_at_a_time(seed, monkeypatch):
    corpus, pipe, _, counts = seed
    added, read = [], []
    spilled, add, reader = text._SpilledColumns, text._SpilledColumns.add, text._SpilledColumns.read
    monkeypatch.setattr(spilled, "add", lambda self, columns: added.append(len(columns["term"])) or add(self, columns))
    monkeypatch.setattr(spilled, "read", lambda self, start, stop: read.append((start, stop)) or reader(self, start, stop))
    monkeypatch.setattr(text, "PAIR_ROWS", 50)  # the pairs summed along the way: the same totals
    made, pairs = TextPipeline().count_parts(corpus.paragraphs, 400, chunk=7)
    assert sum(added) == len(counts) and len(added) == -(-len(corpus.paragraphs) // 7) and not read  # counted, waiting
    parts = list(made)
    sizes = part_sizes(counts["doc_id"], 400)
    assert [len(p) for p in parts] == list(sizes) and len(sizes) > 3 and min(sizes[:-1]) >= 400
    assert read == list(zip(np.cumsum([0, *sizes[:-1]]).tolist(), np.cumsum(sizes).tolist()))  # each part's rows, once
    pd.testing.assert_frame_equal(join_count_parts(parts), counts)  # index and categories too
    pd.testing.assert_frame_equal(pairs, pipe.count_table(corpus.paragraphs)[1])
    paragraphs = corpus.paragraphs.set_index("paragraph_id")["doc_id"]
    for part in parts:  # whole pieces, each part naming its own paragraphs, every piece and term
        own = paragraphs[paragraphs.isin(set(part["doc_id"]))].index
        assert sorted(part["paragraph_id"].cat.categories) == sorted(own) == sorted(part["paragraph_id"].unique())
        assert all(part[c].cat.categories.equals(counts[c].cat.categories) for c in ("doc_id", "term"))
    assert len(list(made)) == 0  # read once
    parts, _ = TextPipeline().count_parts(corpus.paragraphs)  # one part: the table
    pd.testing.assert_frame_equal(next(parts), counts)
    twice = pd.concat([corpus.paragraphs.iloc[:3], corpus.paragraphs.iloc[2:3]])
    with pytest.raises(ValueError, match="paragraph ids must be unique"):
        TextPipeline().count_parts(twice)


def test_spilled_columns_are_read_back_by_rows(tmp_path, monkeypatch):
    import tempfile

    from discourselab import cache

    folders, temporary = [], tempfile.TemporaryFile
    monkeypatch.setattr(tempfile, "TemporaryFile", lambda dir=None: folders.append(dir) or temporary(dir=dir))
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    with text._SpilledColumns(["a", "b"]) as spill:
        for size in (3, 0, 4, 2):
            start = spill.rows
            spill.add({"a": np.arange(start, start + size), "b": -np.arange(start, start + size)})
        assert spill.rows == 9
        for start, stop in ((0, 9), (1, 8), (3, 7), (2, 3), (8, 9), (4, 4)):
            table = spill.read(start, stop)
            assert table["a"].tolist() == list(range(start, stop)) and table["b"].tolist() == [-i for i in range(start, stop)]
            assert table["a"].dtype == np.int32
    assert spill.file.closed and folders == [tmp_path / "cache"]  # on disk, in the cache folder
    monkeypatch.setenv(cache.ENV, "off")
    with text._SpilledColumns(["a"]):
        assert folders[-1] is None  # the system's


def test_parts_end_after_whole_pieces():
    assert text.part_ends([3, 5, 6, 11, 12], 3) == [0, 2, 3, 4]
    assert text.part_ends([3, 5, 6, 11, 12], None) == [4]
    assert text.part_ends([3, 5, 6, 11, 11], 3) == [0, 2, 4]  # a last piece without rows joins the part before
    assert text.part_ends([4, 4, 9], 4) == [0, 2] and text.part_ends([0, 0], 1) == [1]
    assert text.part_ends([], 3) == []


def test_count_table_renumbers_its_codes_in_place_a_slice_at_a_time(seed, monkeypatch):
    corpus, pipe, _, counts = seed
    monkeypatch.setattr(text, "REMAP_ROWS", 5)
    pd.testing.assert_frame_equal(pipe.count_table(corpus.paragraphs, chunk=7)[0], counts)
    codes = np.array([2, 0, -1, 1, 2, 0, 1], dtype=np.int32)
    renumbered = text._sorted_categorical(codes.copy(), ["pear", "apple", "fig"], in_place=True)
    assert renumbered.categories.tolist() == ["apple", "fig", "pear"]
    assert renumbered.astype(object).tolist() == ["fig", "pear", np.nan, "apple", "fig", "pear", "apple"]
    pd.testing.assert_extension_array_equal(renumbered, text._sorted_categorical(codes, ["pear", "apple", "fig"]))


@pytest.mark.parametrize("by", ["author", "role", "doc_id"])
def test_frequencies_and_keyness_are_the_same(seed, by):
    corpus, _, tokens, counts = seed
    pd.testing.assert_frame_equal(count_terms(counts, corpus.pieces, by), count_terms(tokens, corpus.pieces, by))
    pairs = "all" if by == "role" else None
    pd.testing.assert_frame_equal(compare_groups(counts, corpus.pieces, by, pairs=pairs),
                                  compare_groups(tokens, corpus.pieces, by, pairs=pairs))


def test_term_counts_a_few_rows_at_a_time(seed, monkeypatch):
    import discourselab.similarity as sim

    corpus, _, tokens, counts = seed
    labels = group_of(corpus.pieces, "role")
    partial = labels.drop(labels.index[0])  # a piece without a label: its rows are left out
    whole = [term_counts(table, by) for table in (counts, tokens) for by in (labels, partial)]
    monkeypatch.setattr(sim, "TERM_ROWS", 7)
    small = [term_counts(table, by) for table in (counts, tokens) for by in (labels, partial)]
    for (a, rows_a, terms_a), (b, rows_b, terms_b) in zip(small, whole):
        assert (a != b).nnz == 0 and a.dtype == b.dtype
        assert list(rows_a) == list(rows_b) and list(terms_a) == list(terms_b)
    assert 0 < whole[1][0].sum() < whole[0][0].sum()


@pytest.mark.parametrize("by", ["author", "role", "doc_id"])
def test_frequencies_and_keyness_of_count_parts_are_those_of_the_whole_table(seed, by):
    corpus, _, tokens, counts = seed
    # as the cache stores them: whole pieces, each part naming only its own paragraphs
    parts = [p.assign(paragraph_id=p["paragraph_id"].cat.remove_unused_categories()) for p in parts_of(counts, 40)]
    assert len(parts) > 3
    pd.testing.assert_frame_equal(count_terms(parts, corpus.pieces, by), count_terms(tokens, corpus.pieces, by))
    pairs = "all" if by == "role" else None
    pd.testing.assert_frame_equal(compare_groups(iter(parts), corpus.pieces, by, pairs=pairs),  # read once: held
                                  compare_groups(tokens, corpus.pieces, by, pairs=pairs))


def test_parts_of_other_tables_are_refused(seed):
    corpus, _, _, counts = seed
    parts = parts_of(counts, 40)
    parts[1] = parts[1].assign(term=parts[1]["term"].cat.remove_unused_categories())
    with pytest.raises(ValueError, match="share its doc_id and term categories"):
        count_terms(parts, corpus.pieces, "role")
    with pytest.raises(ValueError, match="no parts"):
        compare_groups([], corpus.pieces, "role")


def test_tfidf_of_count_parts_is_that_of_the_whole_table(seed):
    corpus, _, tokens, counts = seed
    parts = parts_of(counts, 60)
    assert len(parts) > 3
    labels = group_of(corpus.pieces, "role")
    partial = labels.drop(labels.index[0])
    names = corpus.pieces["doc_id"].tolist()[::-1]
    for by in (labels, partial, group_of(corpus.pieces, "doc_id")):
        (a, rows_a, terms_a), (b, rows_b, terms_b) = term_counts(parts, by), term_counts(counts, by)
        assert (a != b).nnz == 0 and a.dtype == b.dtype and a.shape == b.shape
        assert list(rows_a) == list(rows_b) and list(terms_a) == list(terms_b)
    ordered, whole = term_counts(parts, labels.index.to_series(), order=names), term_counts(tokens, labels.index.to_series(), order=names)
    assert (ordered[0] != whole[0]).nnz == 0 and list(ordered[1]) == names
    # parts whose terms come in other orders, and a part without a term of another
    shuffled = [p.assign(term=p["term"].astype(object).astype("category"),
                         paragraph_id=p["paragraph_id"].cat.remove_unused_categories()) for p in parts]
    assert len({tuple(p["term"].cat.categories[:5]) for p in shuffled}) > 1
    same = term_counts(shuffled[::-1], labels)
    assert (same[0] != term_counts(counts, labels)[0]).nnz == 0
    for by in ("doc_id", "role"):
        expected = distinctive_terms(tokens, corpus.pieces, by, n=5)
        pd.testing.assert_frame_equal(distinctive_terms(parts, corpus.pieces, by, n=5), expected)
        pd.testing.assert_frame_equal(distinctive_terms(iter(shuffled), corpus.pieces, by, n=5), expected)


def test_piece_counts_leave_one_out_and_topic_documents_are_the_same(seed):
    corpus, _, tokens, counts = seed
    labels = group_of(corpus.pieces, "doc_id")
    (a, rows_a, terms_a), (b, rows_b, terms_b) = term_counts(counts, labels), term_counts(tokens, labels)
    assert (a != b).nnz == 0 and list(rows_a) == list(rows_b) and list(terms_a) == list(terms_b)
    targets = compare_groups(tokens, corpus.pieces, "role").query("g2 > 0 and q < 0.05").groupby("group").head(5)
    assert len(targets) > 3
    pd.testing.assert_frame_equal(leave_one_out(counts, corpus.pieces, "role", targets),
                                  leave_one_out(tokens, corpus.pieces, "role", targets))
    ours, theirs = build_documents(counts), build_documents(tokens)
    assert (ours.counts != theirs.counts).nnz == 0 and list(ours.vocabulary) == list(theirs.vocabulary)
    pd.testing.assert_frame_equal(ours.docs, theirs.docs)
    # in parts of whole pieces, each naming only its own paragraphs (as the cache stores them)
    parts = [p.assign(paragraph_id=p["paragraph_id"].cat.remove_unused_categories()) for p in parts_of(counts, 40)]
    assert len(parts) > 3
    pd.testing.assert_frame_equal(leave_one_out(iter(parts), corpus.pieces, "role", targets),
                                  leave_one_out(tokens, corpus.pieces, "role", targets))
    for options in ({}, {"min_df": 3, "max_terms": 50}):
        ours, theirs = build_documents(parts, **options), build_documents(tokens, **options)
        assert (ours.counts != theirs.counts).nnz == 0 and ours.counts.dtype == theirs.counts.dtype
        assert list(ours.vocabulary) == list(theirs.vocabulary) and ours.counts.shape[1] <= 50 + 1000 * (not options)
        pd.testing.assert_frame_equal(ours.docs, theirs.docs)
    with pytest.raises(ValueError, match="share its term categories"):
        build_documents([parts[0], parts[1].assign(term=parts[1]["term"].cat.remove_unused_categories())])
    with pytest.raises(ValueError, match="need the token table"):
        build_documents(counts, unit="chunk")


def test_concordance_and_collocates_from_the_paragraphs_with_the_query(seed):
    corpus, pipe, tokens, counts = seed
    queries = ["grass-roots", "party building", "masses", "aspects"]  # "aspects": a stop word, found as written
    wanted = query_paragraphs(counts, corpus.paragraphs, queries, pipe)
    assert 0 < len(wanted) < len(corpus.paragraphs)
    paragraphs = corpus.paragraphs
    some = pipe.token_table(paragraphs[paragraphs["paragraph_id"].isin(wanted)])
    for query in queries:
        lines = concordance(some, paragraphs, corpus.pieces, query, pipe)
        assert len(lines) > 0
        pd.testing.assert_frame_equal(lines, concordance(tokens, paragraphs, corpus.pieces, query, pipe))
        if query != "aspects":
            near = collocates(some, corpus.pieces, query, pipe, counts=counts)
            assert len(near) > 0
            pd.testing.assert_frame_equal(near, collocates(tokens, corpus.pieces, query, pipe))


@pytest.mark.parametrize("by, parts", [("role", None), ("author", None), ("role", 10)])
def test_keywords_in_context_a_chunk_at_a_time(seed, by, parts, monkeypatch):
    # one pass over the paragraphs with a query, 5 at a time (and the totals 500 rows at a time), whole or a
    # part at a time: the tables of the per-query functions on every token
    corpus, pipe, tokens, counts = seed
    monkeypatch.setattr(context, "TOTALS_ROWS", 500)
    queries = ["grass-roots", "masses", "aspects", "community", "not in the corpus"]
    paragraphs = corpus.paragraphs if parts is None else iter(parts_of(corpus.paragraphs, parts))
    if parts is not None:  # the counts in parts too, each naming only its own paragraphs (as the cache stores them)
        counts = (p.assign(paragraph_id=p["paragraph_id"].cat.remove_unused_categories())
                  for p in parts_of(counts, 3 * parts))  # a generator: read twice, so held
    lines, near = keywords_in_context(paragraphs, corpus.pieces, queries, pipe, counts, by=by, window=3,
                                      words=4, chunk=5)
    for query in queries:
        expected = concordance(tokens, corpus.paragraphs, corpus.pieces, query, pipe, words=4)
        mine = lines[lines["query"] == query].drop(columns="query").reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, expected, check_dtype=False)
        expected = collocates(tokens, corpus.pieces, query, pipe, by=by, window=3)
        mine = near[near["node"] == expected["node"].iloc[0]] if len(expected) else near.iloc[:0]
        pd.testing.assert_frame_equal(mine.reset_index(drop=True), expected, check_dtype=False)
    assert lines["query"].value_counts().to_dict().keys() == {"grass-roots", "masses", "aspects", "community"}
    assert near["node"].nunique() == 3  # no collocates for a stop word or an absent query
    assert len(near) > 20


def test_keywords_in_context_reads_the_paragraphs_as_it_goes(seed, monkeypatch):
    # each chunk is analysed as soon as its paragraphs are found: the paragraphs with a query are never all held
    corpus, pipe, _, counts = seed
    read, analysed = [], []

    def parts():
        for part in parts_of(corpus.paragraphs, 10):
            read.append(len(part))
            yield part

    token_table = TextPipeline.token_table
    monkeypatch.setattr(TextPipeline, "token_table",
                        lambda self, rows, **kw: analysed.append((len(read), len(rows))) or token_table(self, rows, **kw))
    lines, _ = keywords_in_context(parts(), corpus.pieces, ["community"], pipe, counts, window=3, chunk=5)
    chosen = query_paragraphs(counts, corpus.paragraphs, ["community"], pipe)
    assert len(analysed) == -(-len(chosen) // 5) > 2 and set(lines["paragraph_id"]) <= set(chosen)
    assert analysed[0][0] < len(read) / 2  # the first chunk before half the parts were read
    assert all(n == 5 for _, n in analysed[:-1]) and 0 < analysed[-1][1] <= 5


def test_paragraph_chunks_give_the_slices_of_the_joined_parts():
    whole = pd.DataFrame({"x": range(9), "text": list("abcdefghi")}, index=range(100, 109))
    parts = [whole.iloc[:3], whole.iloc[3:3], whole.iloc[3:7], whole.iloc[7:]]
    for size in (1, 2, 3, 4, 9, 20):
        chunks = list(text.paragraph_chunks(iter(parts), size))
        assert [len(c) for c in chunks] == [len(whole.iloc[i:i + size]) for i in range(0, len(whole), size)]
        for i, chunk in enumerate(chunks):
            pd.testing.assert_frame_equal(chunk, whole.iloc[i * size:(i + 1) * size])
    assert list(text.paragraph_chunks(iter([]), 3)) == []
    assert list(text.paragraph_chunks(iter([whole.iloc[:0]]), 3)) == []


def test_paragraph_chunks_end_before_the_text_that_takes_them_past_the_characters(monkeypatch):
    monkeypatch.setattr(text, "CHUNK_CHARACTERS", 10)
    lengths = [4, 4, 4, 12, 1, 5, 5, 10, 3]
    whole = pd.DataFrame({"text": ["x" * n for n in lengths]})
    expected = [[4, 4], [4], [12], [1, 5], [5], [10], [3]]  # a text longer than the budget: a chunk alone
    for cuts in ([9], [1, 8], [3, 1, 5], [2, 0, 2, 2, 3], [1] * 9):
        starts = np.cumsum([0, *cuts])
        parts = [whole.iloc[a:b] for a, b in zip(starts[:-1], starts[1:])]
        chunks = list(text.paragraph_chunks(iter(parts), 20))
        assert [c["text"].str.len().tolist() for c in chunks] == expected, cuts
        pd.testing.assert_frame_equal(pd.concat(chunks), whole)
    # the number of rows still bounds them
    assert [len(c) for c in text.paragraph_chunks([whole], 1)] == [1] * 9
    assert [c["text"].str.len().tolist() for c in text.paragraph_chunks([whole], 2)] == [
        [4, 4], [4], [12], [1, 5], [5], [10], [3]]


def test_batched_bounds_the_items_and_their_weight():
    from discourselab.chunks import batched

    items = ["aaaa", "bb", "cccccccc", "d", "", "eeeeeeeeeeee", "ff"]
    assert list(batched(items, 3, 100)) == [items[:3], items[3:6], items[6:]]
    assert list(batched(items, 10, 8)) == [["aaaa", "bb"], ["cccccccc"], ["d", ""], ["eeeeeeeeeeee"], ["ff"]]
    assert list(batched(iter(items), 10, 8, weight=lambda item: 1)) == [items]  # weighed by the function given
    assert list(batched([], 3, 8)) == []


def test_counts_tokens_and_concordances_do_not_depend_on_the_characters_per_chunk(seed, monkeypatch):
    corpus, pipe, tokens, counts = seed
    pairs = pipe.count_table(corpus.paragraphs)[1]
    lines, near = keywords_in_context(corpus.paragraphs, corpus.pieces, ["community", "masses"], pipe, counts,
                                      window=3)
    matrix, vocabulary = pipe.count_texts(corpus.paragraphs["text"].tolist())
    by_label = pipe.count_by(zip(corpus.paragraphs["doc_id"], corpus.paragraphs["text"]))
    sizes = []
    chunk_table = TextPipeline._count_chunk
    monkeypatch.setattr(TextPipeline, "_count_chunk",
                        lambda self, rows, *a: sizes.append(rows["text"].str.len().sum()) or chunk_table(self, rows, *a))
    monkeypatch.setattr(text, "CHUNK_CHARACTERS", 500)  # seed paragraphs are up to about 2,000 characters
    fresh = TextPipeline()
    made, made_pairs = fresh.count_table(corpus.paragraphs)
    assert len(sizes) > 20 and max(sizes) > 500  # many chunks, some of one long paragraph alone
    pd.testing.assert_frame_equal(made, counts)
    pd.testing.assert_frame_equal(made_pairs, pairs)
    pd.testing.assert_frame_equal(TextPipeline().token_table(corpus.paragraphs), tokens)
    again, again_near = keywords_in_context(corpus.paragraphs, corpus.pieces, ["community", "masses"], pipe, counts,
                                            window=3)
    pd.testing.assert_frame_equal(again, lines)
    pd.testing.assert_frame_equal(again_near, near)
    encoded = []
    encode = TextPipeline._encode
    monkeypatch.setattr(TextPipeline, "_encode", lambda self, texts: encoded.append(len(texts)) or encode(self, texts))
    again_matrix, again_vocabulary = TextPipeline().count_texts(corpus.paragraphs["text"].tolist())
    assert len(encoded) > 20 and sum(encoded) == len(corpus.paragraphs)  # in batches of at most 500 characters
    assert (again_matrix != matrix).nnz == 0 and list(again_vocabulary) == list(vocabulary)
    again_by = TextPipeline().count_by(zip(corpus.paragraphs["doc_id"], corpus.paragraphs["text"]))
    assert (again_by[0] != by_label[0]).nnz == 0 and list(again_by[1]) == list(by_label[1])
    assert list(again_by[2]) == list(by_label[2])


def test_count_table_pauses_the_garbage_collector_while_it_learns_tokens(seed):
    import gc

    from discourselab.memory import gc_paused

    corpus, pipe, _, counts = seed
    seen = []
    learn = TextPipeline._learn

    def watched(self, raw):
        seen.append(gc.isenabled())
        learn(self, raw)

    fresh = TextPipeline()
    fresh._vocabulary.index.learn = lambda raw: watched(fresh, raw)
    pd.testing.assert_frame_equal(fresh.count_table(corpus.paragraphs)[0], counts)
    assert seen and not any(seen) and gc.isenabled()
    # restored as it was, also when the collector was off, or on an error
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(ValueError), gc_paused():
        raise ValueError
    assert gc.isenabled()


def parts_of(paragraphs: pd.DataFrame, rows: int) -> list[pd.DataFrame]:
    """The paragraph table in parts of whole pieces (as a cached corpus gives them), copied."""
    sizes = part_sizes(paragraphs["doc_id"], rows)
    starts = np.cumsum([0, *sizes])
    return [paragraphs.iloc[a:b].copy() for a, b in zip(starts[:-1], starts[1:])]


def test_count_table_of_parts_is_that_of_the_whole_table(seed):
    corpus, pipe, tokens, counts = seed
    parts = parts_of(corpus.paragraphs, 10)
    assert [len(p) for p in parts] == [12, 14, 12, 15, 5]  # whole pieces (of 7, 5, 5, 2, 1, 6, 5, 7, 7, 8, 5 paragraphs)
    totals = []

    done = []

    class Bar:
        def __init__(self, total):
            totals.append(total)

        def update(self, n):
            done.append(n)

        def close(self):
            done.append("closed")

    progress = Bar

    table, pairs = TextPipeline().count_table(iter(parts), chunk=7, progress=progress)  # parts one after another
    pd.testing.assert_frame_equal(table, counts)
    pd.testing.assert_frame_equal(pairs, pipe.count_table(corpus.paragraphs)[1])
    pd.testing.assert_frame_equal(TextPipeline().token_table(iter(parts), chunk=7), tokens)
    assert totals == [None]  # parts of unknown sizes: no total
    assert done[-1] == "closed" and sum(done[:-1]) == len(corpus.paragraphs) and max(done[:-1]) <= 7

    class Sized(list):
        sizes = [len(p) for p in parts]

    TextPipeline().count_table(Sized(parts), chunk=7, progress=progress)
    assert totals[-1] == len(corpus.paragraphs)  # the bar counts paragraphs


def test_parts_read_twice_are_held_only_when_they_can_be_read_once():
    from discourselab.text import rereadable

    table, parts = pd.DataFrame({"a": [1]}), [pd.DataFrame({"a": [1]}), pd.DataFrame({"a": [2]})]
    assert rereadable(table) is table and rereadable(parts) is parts
    once = rereadable(p for p in parts)
    assert isinstance(once, list) and [p["a"].tolist() for p in once] == [[1], [2]]
