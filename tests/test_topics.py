"""Topic models: separation, diagnostics by hand, stability, choice, prevalence, size checks."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import csr_matrix

from discourselab import topics as tm
from discourselab.errors import CorpusError

FRUIT = ["apple", "banana", "cherry", "damson", "elder", "fig", "grape", "hazel"]
TOOLS = ["hammer", "chisel", "saw", "drill", "plane", "lathe", "vice", "rasp"]


def token_table(paragraphs: dict[str, tuple[str, list[str]]]) -> pd.DataFrame:
    """A token table (doc_id, paragraph_id, term, words) from {paragraph_id: (doc_id, terms)}."""
    rows = [{"doc_id": doc, "paragraph_id": pid, "term": term, "words": 1}
            for pid, (doc, terms) in paragraphs.items() for term in terms]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def separated():
    """Twenty paragraphs: ten drawn from fruit words (piece f), ten from tool words (piece t)."""
    rng = np.random.default_rng(7)
    paragraphs = {}
    for i in range(10):
        paragraphs[f"f{i}"] = ("f", list(rng.choice(FRUIT, size=30)))
        paragraphs[f"t{i}"] = ("t", list(rng.choice(TOOLS, size=30)))
    return tm.build_documents(token_table(paragraphs))


@pytest.mark.parametrize("model", tm.MODELS)
def test_two_vocabularies_give_two_topics(separated, model):
    fit = tm.fit(separated, 2, model, seed=0, n_top=5)
    tops = [{separated.vocabulary[i] for i in row} for row in fit.top]
    assert sorted(tuple(sorted(t <= set(FRUIT) for t in tops))) == [False, True]
    assert all(t <= set(FRUIT) or t <= set(TOOLS) for t in tops)
    fruit_topic = 0 if tops[0] <= set(FRUIT) else 1
    is_fruit = separated.docs["doc_id"].eq("f").to_numpy()
    assert (fit.doc_topic.argmax(axis=1) == fruit_topic).tolist() == is_fruit.tolist()
    np.testing.assert_allclose(fit.doc_topic.sum(axis=1), 1)


def test_stability_is_one_for_identical_runs(separated):
    fit = tm.fit(separated, 2, "lda", seed=3)
    pairs, overlaps = tm.match_topics(fit.top, fit.top)
    assert overlaps.tolist() == [1.0, 1.0] and pairs.tolist() == [[0, 0], [1, 1]]
    # swapped topic order is matched back
    pairs, overlaps = tm.match_topics(fit.top, fit.top[::-1])
    assert pairs.tolist() == [[0, 1], [1, 0]] and overlaps.tolist() == [1.0, 1.0]
    # NMF's start does not depend on the seed: on all documents, every run is the same
    table = tm.diagnose(separated, [2], models=["nmf"], seeds=[0, 1, 2], sample=1.0)
    assert table["stability"].tolist() == [1.0, 1.0, 1.0]


def test_match_topics_partial_overlap():
    # a = {0,1,2}, {3,4,5}; b = {3,4,9}, {0,1,2}: Jaccard 2/4 = 0.5 and 3/3 = 1
    pairs, overlaps = tm.match_topics(np.array([[0, 1, 2], [3, 4, 5]]), np.array([[3, 4, 9], [0, 1, 2]]))
    assert pairs.tolist() == [[0, 1], [1, 0]]
    assert overlaps.tolist() == [1.0, 0.5]


def test_npmi_by_hand():
    # Four documents. x in 0,1; y in 0,1; z in 1,2; w in 3.
    # p(x) = p(y) = p(z) = 1/2; p(x,y) = 1/2 -> NPMI = ln(0.5 / 0.25) / -ln(0.5) = 1
    # p(x,z) = p(y,z) = 1/4 = p(x)p(z) -> NPMI 0; x and w never together -> -1
    dense = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 1]])  # columns x, y, z, w
    counts = csr_matrix(dense)
    scores = tm.npmi_coherence(counts, np.array([[0, 1, 2], [0, 3, 1]]))
    # topic 1: (1 + 0 + 0) / 3; topic 2: pairs (x,w) -1, (x,y) 1, (w,y) -1 -> -1/3
    np.testing.assert_allclose(scores, [1 / 3, -1 / 3])


def test_exclusivity_by_hand():
    # column sums 0.8, 0.6, 0.6; topic 0 top terms 0, 1: (0.6/0.8 + 0.4/0.6) / 2 = 0.708333
    # topic 1 top terms 2, 0: (0.6/0.6 + 0.2/0.8) / 2 = 0.625
    topic_term = np.array([[0.6, 0.4, 0.0], [0.2, 0.2, 0.6]])
    np.testing.assert_allclose(tm.exclusivity(topic_term, np.array([[0, 1], [2, 0]])), [0.7083333333, 0.625])


def test_size_checks(separated):
    with pytest.raises(CorpusError, match="20 documents cannot support 20 topics"):
        tm.fit(separated, 20, "nmf", seed=0)
    with pytest.raises(CorpusError, match="k >= 2"):
        tm.check_size(50, 1)
    with pytest.warns(tm.SmallCorpusWarning, match="only 20 documents for 5 topics"):
        tm.fit(separated, 5, "nmf", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tm.fit(separated, 4, "nmf", seed=0)  # 5 per topic: no warning
    assert tm.candidate_ks(20, range(2, 9)) == ([2, 3, 4], False)
    assert tm.candidate_ks(7, range(2, 9)) == ([2, 3], True)
    with pytest.raises(CorpusError, match="2 documents are too few"):
        tm.candidate_ks(2, [2, 3])


def test_choose_by_hand():
    # Means over seeds: a/2 (0.1, 0.9, 0.8), a/3 (0.3, 0.5, 0.6), b/2 (0.2, 0.7, 0.4).
    # Scaled: a/2 (0, 1, 1) -> 2/3; a/3 (1, 0, 0.5) -> 0.5; b/2 (0.5, 0.5, 0) -> 1/3.
    diag = pd.DataFrame({
        "model": ["a", "a", "a", "a", "b", "b"], "k": [2, 2, 3, 3, 2, 2], "seed": [0, 1] * 3,
        "coherence": [0.0, 0.2, 0.3, 0.3, 0.2, 0.2], "exclusivity": [0.9, 0.9, 0.4, 0.6, 0.7, 0.7],
        "stability": [0.8, 0.8, 0.6, 0.6, 0.4, 0.4]})
    summary, chosen = tm.choose(diag)
    np.testing.assert_allclose(summary["score"], [2 / 3, 0.5, 1 / 3])
    assert (chosen["model"], chosen["k"]) == ("a", 2)
    # a tie goes to the smaller k
    tie = diag.assign(coherence=0.1, exclusivity=0.5, stability=0.5)
    assert tm.choose(tie)[1]["k"] == 2


def test_prevalence_weighted_and_bootstrapped(monkeypatch):
    fit = tm.TopicFit("nmf", 2, 0, np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.2, 0.8]]),
                      np.eye(2), np.array([[0], [1]]))
    docs = pd.DataFrame({"doc_id": ["p", "p", "q", "r"], "unit_id": ["1", "2", "3", "4"], "words": [30, 10, 5, 7]})
    pieces = pd.DataFrame({"doc_id": ["p", "q", "r"], "role": ["x", "y", "y"]})
    table = tm.prevalence(fit, docs, pieces, "role", n_boot=500, seed=1)
    x = table[table["group"] == "x"].set_index("topic")
    # words-weighted: topic 1 share of x = 30 / 40
    assert x.loc[1, "share"] == pytest.approx(0.75) and x.loc[1, "documents"] == 2
    assert 0 <= x.loc[1, "ci_low"] <= 0.75 <= x.loc[1, "ci_high"] <= 1
    y = table[table["group"] == "y"].set_index("topic")
    assert y.loc[1, "share"] == pytest.approx((5 * 0.5 + 7 * 0.2) / 12)
    pieces_table = tm.prevalence(fit, docs, pieces, "doc_id", n_boot=100, seed=1)
    single = pieces_table[pieces_table["group"] == "q"]
    assert single["ci_low"].isna().all() and single["share"].tolist() == [0.5, 0.5]
    again = tm.prevalence(fit, docs, pieces, "role", n_boot=500, seed=1)
    pd.testing.assert_frame_equal(table, again)
    # the pieces' ids as categories (as build_documents gives them): the same table
    categorical = docs.assign(doc_id=docs["doc_id"].astype("category"))
    for level in ("role", "doc_id"):
        pd.testing.assert_frame_equal(tm.prevalence(fit, categorical, pieces, level, n_boot=100, seed=1),
                                      tm.prevalence(fit, docs, pieces, level, n_boot=100, seed=1))
    # two fits at once: each gets what it gets alone
    other = tm.TopicFit("lda", 2, 0, np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4], [0.1, 0.9]]),
                        np.eye(2), np.array([[0], [1]]))
    both = tm.prevalence_of([fit, other], docs, pieces, "role", n_boot=500, seed=1)
    alone = pd.concat([table, tm.prevalence(other, docs, pieces, "role", n_boot=500, seed=1)], ignore_index=True)
    pd.testing.assert_frame_equal(both, alone)
    # a group too large for 200 resamples at a time is resampled a few at a time: the same intervals
    monkeypatch.setattr(tm, "BOOT_CELLS", 5)
    pd.testing.assert_frame_equal(tm.prevalence(fit, docs, pieces, "role", n_boot=500, seed=1), table,
                                  check_exact=False, rtol=1e-12)


def test_chunks_and_representative():
    tokens = token_table({"a1": ("a", ["u", "v", "w", "u", "v"]), "b1": ("b", ["w", "w"])})
    docs = tm.build_documents(tokens, unit="chunk", chunk_words=2, min_df=1)
    assert docs.docs["unit_id"].tolist() == ["a#0", "a#1", "a#2", "b#0"]
    assert docs.docs["words"].tolist() == [2, 2, 1, 2]
    fit = tm.TopicFit("nmf", 2, 0, np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5], [0.1, 0.9]]),
                      np.eye(2), np.array([[0], [1]]))
    best = tm.representative(fit, docs.docs, n=1, min_words=2)
    assert best["unit_id"].tolist() == ["a#0", "b#0"]


def test_render_passages_escapes():
    rows = pd.DataFrame({"topic": [1], "rank": [1], "unit_id": ["u"], "doc_id": ["<b>d</b>"], "share": [0.5],
                         "words": [3]})
    html = tm.render_passages(rows, pd.Series({"u": "<script>alert(1)</script> & more"}), {1: "T1 <x>"})
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;d" in html and "T1 &lt;x&gt;" in html


def test_topic_terms_and_agreement(separated):
    nmf, lda = tm.fit(separated, 2, "nmf", 0, n_top=4), tm.fit(separated, 2, "lda", 0, n_top=4)
    terms = tm.topic_terms(nmf, separated.vocabulary)
    assert list(terms.columns) == ["model", "k", "topic", "rank", "term", "weight"]
    assert terms.groupby("topic")["weight"].apply(lambda w: w.is_monotonic_decreasing).all()
    labels = tm.topic_labels(terms, n=2)
    assert set(labels) == {1, 2} and all(label.startswith(f"T{t} ") for t, label in labels.items())
    match = tm.agreement(nmf, lda)
    assert list(match.columns) == ["topic_nmf", "topic_lda", "jaccard", "shared"]
    assert (match["jaccard"] > 0).all()


def test_leading_groups_and_interval_text():
    rows = pd.DataFrame({
        "group": ["a", "b", "c", "a", "b", "c"], "topic": [1, 1, 1, 2, 2, 2],
        "share": [0.6, 0.3, 0.1, 0.2, 0.45, 0.35],
        "ci_low": [0.5, 0.2, np.nan, 0.1, 0.3, 0.25], "ci_high": [0.7, 0.4, np.nan, 0.3, 0.6, 0.5],
        "documents": [10, 8, 1, 10, 8, 1]})
    lead = tm.leading_groups(rows)
    assert lead["group"].tolist() == ["a", "b"]
    # topic 1: a's interval (0.5-0.7) lies above b's (up to 0.4) and c's share (0.1); topic 2: b overlaps c
    assert lead["clear"].tolist() == [True, False]
    first = next(lead.itertuples())
    assert tm.interval_text(first) == "95% CI 50%–70%"
    assert tm.interval_text(first, "chunk", documents=True) == "95% CI 50%–70%, 10 chunks"
    assert tm.interval_text(next(rows.iloc[[2]].itertuples())) == "one paragraph, no interval"


@pytest.mark.parametrize("unit", ["paragraph", "chunk"])
def test_documents_match_count_vectorizer(unit, monkeypatch):
    """The matrix built from the token table's codes is CountVectorizer's on each document's terms."""
    from sklearn.feature_extraction.text import CountVectorizer

    rng = np.random.default_rng(3)
    vocabulary = FRUIT + TOOLS
    paragraphs = {f"{doc}{i}": (doc, list(rng.choice(vocabulary, size=rng.integers(1, 12))))
                  for doc in "abc" for i in range(6)}
    tokens = token_table(paragraphs)
    tokens.loc[rng.random(len(tokens)) < 0.2, "term"] = None  # stop words: running words without a term
    tokens.loc[::7, "words"] = 2  # a multiword expression counts its words
    docs = tm.build_documents(tokens, unit=unit, chunk_words=5, min_df=2, max_terms=None)
    # the same documents the slow way: each document's term list, through CountVectorizer
    running = tokens.groupby("doc_id", sort=False)["words"].cumsum() - tokens["words"]
    ids = tokens["paragraph_id"] if unit == "paragraph" else tokens["doc_id"] + "#" + (running // 5).astype(str)
    expected_ids = list(dict.fromkeys(ids))
    lists = [tokens.loc[ids.eq(u) & tokens["term"].notna(), "term"].tolist() for u in expected_ids]
    vectorizer = CountVectorizer(analyzer=lambda terms: terms, min_df=2)
    expected = vectorizer.fit_transform(lists)
    assert docs.docs["unit_id"].tolist() == expected_ids
    assert docs.docs["words"].tolist() == [int(tokens.loc[ids.eq(u), "words"].sum()) for u in expected_ids]
    assert docs.docs["doc_id"].tolist() == [u[0] for u in expected_ids]
    assert isinstance(docs.docs["doc_id"].dtype, pd.CategoricalDtype)  # a piece's id held once
    assert docs.vocabulary.tolist() == vectorizer.get_feature_names_out().tolist()
    assert (docs.counts != expected).nnz == 0
    # the counts, document frequencies and words summed a few rows at a time: the same documents
    monkeypatch.setattr(tm, "BINCOUNT_ROWS", 4)
    sliced = tm.build_documents(tokens, unit=unit, chunk_words=5, min_df=2, max_terms=None)
    assert (sliced.counts != docs.counts).nnz == 0 and sliced.vocabulary.tolist() == docs.vocabulary.tolist()
    pd.testing.assert_frame_equal(sliced.docs, docs.docs)


@pytest.mark.parametrize("rows", [None, 3])
def test_documents_keep_the_most_frequent_terms_ties_alphabetically(rows, monkeypatch):
    if rows:  # the term totals summed a few rows at a time
        monkeypatch.setattr(tm, "BINCOUNT_ROWS", rows)
    tokens = token_table({"p1": ("a", ["x", "x", "x", "b", "c", "a"]), "p2": ("a", ["x", "b", "c", "a", "d"])})
    docs = tm.build_documents(tokens, min_df=1, max_terms=2)
    # x occurs 4 times; a, b and c twice each: the tie goes to a
    assert docs.vocabulary.tolist() == ["a", "x"]
    assert docs.counts.toarray().tolist() == [[1, 3], [1, 1]]


def test_diagnostic_fits_skip_the_shares_but_find_the_same_topics(separated):
    for model in tm.MODELS:
        full = tm.fit(separated, 2, model, seed=1)
        quick = tm.fit(separated, 2, model, seed=1, shares=False)
        assert quick.doc_topic is None and full.doc_topic.shape == (20, 2)
        np.testing.assert_array_equal(quick.topic_term, full.topic_term)
        np.testing.assert_array_equal(quick.top, full.top)


def test_bootstrap_resamples_are_multinomial_counts():
    rng = np.random.default_rng(0)
    n, size = 50, 4000
    counts = tm._resample_counts(rng, n, size)
    assert counts.shape == (size, n) and (counts.sum(axis=1) == n).all()
    # each document's count is Binomial(n, 1/n): mean 1, variance 1 - 1/n; P(not drawn) = (1 - 1/n)^n
    assert abs(counts.mean() - 1) < 1e-12  # exactly: every row sums to n
    assert abs(counts.var() - (1 - 1 / n)) < 0.02
    assert abs((counts == 0).mean() - (1 - 1 / n) ** n) < 0.01
    # and documents are drawn alike (no position favoured)
    assert np.abs(counts.mean(axis=0) - 1).max() < 0.06


def test_shares_inferred_on_several_cores_are_those_of_one(monkeypatch):
    # above FIT_DOCS documents the model is fitted on a sample and LDA infers every document's shares
    # INFER_DOCS at a time in INFER_JOBS processes: each document's inference is its own, so the shares
    # depend on neither
    rng = np.random.default_rng(4)
    counts = csr_matrix(rng.poisson(0.4, size=(90, 40)))
    documents = tm.TopicDocuments(counts, np.array([f"t{i}" for i in range(40)]),
                                  pd.DataFrame({"doc_id": "d", "unit_id": range(90), "words": 10}))
    monkeypatch.setattr(tm, "FIT_DOCS", 60)
    shares = {}
    for jobs, slices in ((1, 90), (1, 25), (2, 25)):  # one pass in one process, then slices, then 2 processes
        monkeypatch.setattr(tm, "INFER_JOBS", jobs)
        monkeypatch.setattr(tm, "INFER_DOCS", slices)
        estimator, shares[(jobs, slices)], _ = tm.fit_topics(documents, 3, model="lda", seed=1)
        assert estimator.n_jobs == jobs
    np.testing.assert_array_equal(shares[(1, 90)], shares[(1, 25)])
    np.testing.assert_array_equal(shares[(1, 90)], shares[(2, 25)])
    assert shares[(1, 90)].shape == (90, 3)


@pytest.mark.parametrize("block", [1, 4, 200])
def test_sublinear_tfidf_is_scikit_learns_to_the_bit(block, monkeypatch):
    # weighted TFIDF_ROWS rows at a time into a float copy of the values; the counts' indices are shared
    from sklearn.feature_extraction.text import TfidfTransformer

    rng = np.random.default_rng(11)
    dense = rng.poisson(0.7, size=(30, 25)) * (rng.random((30, 25)) < 0.5)
    dense[[3, 17]] = 0  # documents without a term: a row of zeros stays zeros
    counts = csr_matrix(dense.astype(np.int32))
    before = counts.data.copy()
    monkeypatch.setattr(tm, "TFIDF_ROWS", block)
    expected = TfidfTransformer(sublinear_tf=True).fit_transform(counts)
    got = tm.sublinear_tfidf(counts)
    np.testing.assert_array_equal(got.toarray(), expected.toarray())
    assert got.dtype == np.float64 and got.nnz == counts.nnz
    assert np.shares_memory(got.indices, counts.indices)
    np.testing.assert_array_equal(counts.data, before)  # the counts are left as they were
    assert counts.data.dtype == np.int32


@pytest.mark.parametrize("order", ["C", "F"])
def test_normalize_gives_rows_as_shares_to_the_bit(order):
    # as NMF's components, in column order: their rows summed from a row-order copy differ in the last bit
    rng = np.random.default_rng(13)
    matrix = np.asfortranarray(rng.random((6, 100))) if order == "F" else rng.random((6, 100))
    matrix[2] = 0.0  # no weight: equal shares
    matrix[4, 3] = np.nan  # a row that sums to NaN: equal shares too
    sums = matrix.sum(axis=1, keepdims=True)
    expected = np.where(sums > 0, matrix / np.where(sums > 0, sums, 1.0), 1.0 / 100)
    given = matrix.copy(order="K")
    got = tm._normalize(given)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(given, matrix)  # left as it was
    np.testing.assert_array_equal(got[[2, 4]], np.full((2, 100), 1.0 / 100))
    np.testing.assert_allclose(got.sum(axis=1), 1.0)
    same = tm._normalize(given, in_place=True)
    assert same is given
    np.testing.assert_array_equal(same, expected)


def test_stacked_columns_are_those_of_the_stacked_parts():
    from scipy.sparse import vstack

    rng = np.random.default_rng(14)
    shapes = [(5, 12), (0, 12), (1, 12), (9, 12)]  # a part without rows too
    for keep in (np.array([0, 3, 4, 11]), np.arange(12), np.array([], dtype=np.int64)):
        parts = [csr_matrix((rng.poisson(0.6, size=s) * (rng.random(s) < 0.6)).astype(np.int32)) for s in shapes]
        expected = vstack(parts, format="csr")[:, keep]
        got = tm._stacked_columns(parts, keep, expected.nnz)
        assert parts == []  # each part is let go once copied
        assert got.shape == (15, len(keep)) and got.dtype == np.int32
        np.testing.assert_array_equal(got.indptr, expected.indptr)
        np.testing.assert_array_equal(got.indices, expected.indices)
        np.testing.assert_array_equal(got.data, expected.data)


def _two_pieces(seed: int):
    """Tokens of two pieces of 12 paragraphs (fruit, tools), the pieces, and quick run_topics options."""
    rng = np.random.default_rng(seed)
    paragraphs = {f"{doc}{i}": (doc, list(rng.choice(FRUIT if doc == "f" else TOOLS, size=20)))
                  for doc in "ft" for i in range(12)}
    pieces = pd.DataFrame({"doc_id": ["f", "t"], "role": ["x", "y"]})
    return token_table(paragraphs), pieces, {"k_range": [2, 3], "seeds": [0, 1], "n_boot": 20}


def test_run_topics_lets_go_of_the_counts_unless_asked(monkeypatch):
    monkeypatch.setenv("DISCOURSELAB_CACHE", "off")
    tokens, pieces, options = _two_pieces(5)
    lean = tm.run_topics(tokens, pieces, ["doc_id", "role"], **options)
    kept = tm.run_topics(tokens, pieces, ["doc_id", "role"], keep_counts=True, **options)
    built = tm.build_documents(tokens)
    assert lean.documents.counts is None
    assert lean.documents.shape == kept.documents.shape == built.counts.shape == (24, 16)
    assert (kept.documents.counts != built.counts).nnz == 0
    # the results do not depend on it
    pd.testing.assert_frame_equal(lean.prevalence, kept.prevalence)
    pd.testing.assert_frame_equal(lean.terms, kept.terms)
    np.testing.assert_array_equal(lean.fit.doc_topic, kept.fit.doc_topic)
    pd.testing.assert_frame_equal(lean.documents.docs, built.docs)


def test_a_topic_study_lets_go_of_what_it_holds_per_document(monkeypatch):
    monkeypatch.setenv("DISCOURSELAB_CACHE", "off")
    tokens, pieces, options = _two_pieces(5)
    result = tm.run_topics(tokens, pieces, ["doc_id", "role"], keep_counts=True, **options)
    again = tm.run_topics(tokens, pieces, ["doc_id", "role"], keep_counts=True, **options)
    held = result.documents.docs
    result.release_documents()
    assert all(f.doc_topic is None for f in result.fits.values()) and result.documents.counts is None
    assert result.documents.docs.empty and list(result.documents.docs.columns) == list(held.columns)
    assert result.documents.shape == (0, len(again.documents.vocabulary))
    # what the notebook reads afterwards stays
    np.testing.assert_array_equal(result.documents.vocabulary, again.documents.vocabulary)
    pd.testing.assert_frame_equal(result.prevalence, again.prevalence)
    pd.testing.assert_frame_equal(result.terms, again.terms)
    assert result.labels == again.labels and (result.model, result.k) == (again.model, again.k)
    for key, fitted in result.fits.items():
        np.testing.assert_array_equal(fitted.top, again.fits[key].top)
    pd.testing.assert_frame_equal(tm.agreement(result.fit, result.fits[(result.other, result.k)]),
                                  tm.agreement(again.fit, again.fits[(again.other, again.k)]))


def test_run_topics_builds_the_documents_only_for_what_the_cache_lacks(monkeypatch, tmp_path):
    from discourselab.corpus import Parts

    monkeypatch.setenv("DISCOURSELAB_CACHE", str(tmp_path))
    tokens, pieces, options = _two_pieces(6)
    builds = []  # the documents made, whole (build_documents) or to be read again from the parts (stream_documents)
    for name in ("build_documents", "stream_documents"):
        monkeypatch.setattr(tm, name, lambda *a, made=getattr(tm, name), name=name, **k:
                            builds.append(name) or made(*a, **k))
    keyed = Parts(lambda: iter([tokens]), key="the same tokens")
    first = tm.run_topics(keyed, pieces, ["doc_id", "role"], **options)
    assert builds == ["stream_documents"]  # once for the outline, the diagnostics and the fits
    again = tm.run_topics(keyed, pieces, ["doc_id", "role"], **options)
    assert len(builds) == 1  # all from the cache
    pd.testing.assert_frame_equal(again.prevalence, first.prevalence)
    pd.testing.assert_frame_equal(again.documents.docs, first.documents.docs)
    np.testing.assert_array_equal(again.documents.vocabulary, first.documents.vocabulary)
    assert again.documents.counts is None and again.documents.shape == first.documents.shape == (24, 16)
    other_ks = tm.run_topics(keyed, pieces, ["role"], **{**options, "k_range": [2]})
    assert len(builds) == 2  # new diagnostics need the matrix
    pd.testing.assert_frame_equal(other_ks.documents.docs, first.documents.docs)
    kept = tm.run_topics(keyed, pieces, ["role"], keep_counts=True, **options)
    assert len(builds) == 3 and builds[-1] == "build_documents"  # the matrix held whole, as asked
    assert (kept.documents.counts != tm.build_documents(tokens).counts).nnz == 0  # a fourth build
    # without a key the documents are built each time; with another key the cache does not answer
    for _ in range(2):
        tm.run_topics(Parts(lambda: iter([tokens])), pieces, ["role"], **options)
    assert len(builds) == 6
    tm.run_topics(Parts(lambda: iter([tokens.iloc[:-40]]), key="other tokens"), pieces, ["role"], **options)
    assert len(builds) == 7
    # a table's column named "key" is not a key: two tables with the same such column are two tables
    tm.run_topics(tokens.assign(key="k"), pieces, ["role"], **options)
    upper = tm.run_topics(tokens.assign(term=tokens["term"].str.upper(), key="k"), pieces, ["role"], **options)
    assert len(builds) == 9 and upper.documents.vocabulary[0] == "APPLE"


def _parts_of_pieces(seed: int, pieces: int = 6, per_piece: int = 15):
    """Tokens of ``pieces`` pieces of ``per_piece`` paragraphs (fruit and tool words mixed), in three parts of whole pieces."""
    rng = np.random.default_rng(seed)
    words = np.array(FRUIT + TOOLS + ["oak", "ash", "elm", "yew"])
    paragraphs = {f"p{d}-{i}": (f"p{d}", list(rng.choice(words, size=int(rng.integers(3, 25)),
                                                          p=np.roll(np.linspace(1, 3, len(words)), d) / np.linspace(1, 3, len(words)).sum())))
                  for d in range(pieces) for i in range(per_piece)}
    tokens = token_table(paragraphs)
    tokens["term"] = tokens["term"].astype("category")  # the parts share the table's term categories
    tokens.loc[rng.random(len(tokens)) < 0.1, "term"] = None  # stop words: running words without a term
    doc = tokens["doc_id"]
    parts = [tokens[doc.isin(ids)] for ids in ({"p0"}, {"p1", "p2", "p3"}, {f"p{d}" for d in range(4, pieces)})]
    return tokens, parts


@pytest.mark.parametrize("max_terms", [None, 9])
def test_streamed_documents_give_the_rows_build_documents_holds(max_terms):
    from discourselab.corpus import Parts

    _, parts = _parts_of_pieces(3)
    built = tm.build_documents(parts, max_terms=max_terms)
    passes = []
    streamed = tm.stream_documents(Parts(lambda: passes.append(1) or iter(parts)), max_terms=max_terms)
    assert streamed.counts is None and len(passes) == 1
    assert streamed.shape == built.counts.shape and streamed.shape[0] == 90
    pd.testing.assert_frame_equal(streamed.docs, built.docs)
    np.testing.assert_array_equal(streamed.vocabulary, built.vocabulary)
    np.testing.assert_array_equal(streamed.document_frequency(), built.document_frequency())

    def same(got, expected):
        assert got.shape == expected.shape and got.dtype == expected.dtype == np.int32
        for name in ("data", "indices", "indptr"):
            np.testing.assert_array_equal(getattr(got, name), getattr(expected, name))

    rows = [np.array([0, 1, 14, 15, 16, 40, 89]), np.array([], dtype=int), np.arange(90), np.array([44])]
    for got, wanted in zip(streamed.take(*rows), rows):  # several row sets in one pass
        same(got, built.counts[wanted])
    assert len(passes) == 2
    for size in (1, 7, 15, 16, 90, 1000):  # blocks across the parts' ends, exactly `size` rows each
        got, expected = list(streamed.blocks(size)), list(built.blocks(size))
        assert len(got) == len(expected) == -(-90 // size)
        for g, e in zip(got, expected):
            same(g, e)
    # the same content key, read a block at a time from either
    assert tm._documents_key(streamed) == tm._documents_key(built)


def test_fits_and_diagnostics_of_streamed_documents_are_those_of_held_ones(monkeypatch):
    from discourselab.corpus import Parts

    _, parts = _parts_of_pieces(8)
    built, streamed = tm.build_documents(parts), tm.stream_documents(Parts(lambda: iter(parts)))
    # the idf from the document frequencies is scikit-learn's, to the bit
    np.testing.assert_array_equal(tm._tfidf_of(built)(built.counts).toarray(), tm.sublinear_tfidf(built.counts).toarray())
    monkeypatch.setattr(tm, "INFER_DOCS", 20)
    for fit_docs in (200, 50):  # all documents at once; a sample, then shares 20 documents at a time
        monkeypatch.setattr(tm, "FIT_DOCS", fit_docs)
        for model in tm.MODELS:
            _, held_shares, held_terms = tm.fit_topics(built, 3, model=model, seed=2)
            _, shares, terms = tm.fit_topics(streamed, 3, model=model, seed=2)
            np.testing.assert_array_equal(shares, held_shares)
            np.testing.assert_array_equal(terms, held_terms)
    table = tm.diagnose(built, [2, 3], seeds=[0, 1], max_docs=40)
    pd.testing.assert_frame_equal(tm.diagnose(streamed, [2, 3], seeds=[0, 1], max_docs=40), table)


def test_fit_models_reads_the_documents_once_for_all_models(monkeypatch):
    from discourselab.corpus import Parts

    _, parts = _parts_of_pieces(8)
    passes = []
    streamed = tm.stream_documents(Parts(lambda: passes.append(1) or iter(parts)))
    monkeypatch.setattr(tm, "INFER_DOCS", 20)
    for fit_docs, reads in ((200, 1), (50, 2)):  # all documents in one reading; a sample, then the blocks
        monkeypatch.setattr(tm, "FIT_DOCS", fit_docs)
        alone = {m: tm.fit_topics(streamed, 3, model=m, seed=4) for m in tm.MODELS}
        passes.clear()
        together = tm.fit_models(streamed, 3, tm.MODELS, seed=4)
        assert len(passes) == reads  # for both models (each alone reads as often)
        assert list(together) == list(tm.MODELS)
        for m, (estimator, shares, terms) in together.items():
            assert type(estimator) is type(alone[m][0])
            np.testing.assert_array_equal(shares, alone[m][1])
            np.testing.assert_array_equal(terms, alone[m][2])
        passes.clear()
        topics_only = tm.fit_models(streamed, 3, ["lda"], seed=4, shares=False)["lda"]
        assert topics_only[1] is None and len(passes) == 1
        np.testing.assert_array_equal(topics_only[2], alone["lda"][2])
    with pytest.raises(ValueError, match="model must be one of"):
        tm.fit_models(streamed, 3, ["nmf", "pca"])


def test_nmf_shares_of_many_documents_are_inferred_a_block_at_a_time(monkeypatch):
    _, parts = _parts_of_pieces(9)
    documents = tm.build_documents(parts)
    monkeypatch.setattr(tm, "FIT_DOCS", 50)
    monkeypatch.setattr(tm, "INFER_DOCS", 20)
    estimator, shares, _ = tm.fit_topics(documents, 3, model="nmf", seed=0)
    weigh = tm._tfidf_of(documents)
    rows = np.sort(np.random.default_rng(0).choice(90, size=50, replace=False))
    # fitted on the seeded sample's TF-IDF (idf of every document), then each block of 20 inferred on its own
    refit = tm.NMF(n_components=3, init="nndsvda", random_state=0, max_iter=400, tol=1e-4).fit(
        tm.sublinear_tfidf(documents.counts)[rows])
    np.testing.assert_array_equal(refit.components_, estimator.components_)
    expected = np.vstack([refit.transform(weigh(documents.counts[i:i + 20])) for i in range(0, 90, 20)])
    np.testing.assert_array_equal(shares, tm._normalize(expected))


def test_run_topics_on_parts_never_holds_the_whole_matrix(monkeypatch):
    from discourselab.corpus import Parts

    monkeypatch.setenv("DISCOURSELAB_CACHE", "off")
    tokens, parts = _parts_of_pieces(10)
    pieces = pd.DataFrame({"doc_id": [f"p{d}" for d in range(6)], "role": list("xxxyyy")})
    options = {"k_range": [2, 3], "seeds": [0, 1], "n_boot": 20, "max_docs": 30}
    monkeypatch.setattr(tm, "FIT_DOCS", 40)
    monkeypatch.setattr(tm, "INFER_DOCS", 25)
    held = tm.run_topics(tokens, pieces, ["doc_id", "role"], **options)
    stacked = []
    monkeypatch.setattr(tm, "_stacked", lambda blocks, rows, width, made=tm._stacked:
                        stacked.append(rows) or made(blocks, rows, width))
    monkeypatch.setattr(tm, "build_documents", lambda *a, **k: pytest.fail("the whole matrix was built"))
    passes = []
    streamed = tm.run_topics(Parts(lambda: passes.append(1) or iter(parts)), pieces, ["doc_id", "role"], **options)
    assert stacked and max(stacked) <= 40  # at most a sample of FIT_DOCS documents at once (90 in all)
    # readings of the parts: the documents and terms, the content key, the diagnostics' samples, and for
    # both final models together their sample and their shares
    assert len(passes) == 5
    pd.testing.assert_frame_equal(streamed.diagnostics, held.diagnostics)
    pd.testing.assert_frame_equal(streamed.terms, held.terms)
    pd.testing.assert_frame_equal(streamed.prevalence, held.prevalence)
    for key, f in held.fits.items():
        np.testing.assert_array_equal(streamed.fits[key].doc_topic, f.doc_topic)
