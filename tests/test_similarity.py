"""TF-IDF, cosine, Burrows' Delta and the grouping test, against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import csr_matrix
from scipy.spatial.distance import pdist

from discourselab import load_corpus, similarity
from discourselab.io import write_csv
from discourselab.similarity import (burrows_delta, burrows_delta_pairs, cluster, cosine_table, distinctive_terms,
                                     fit_tfidf, grouping_test, grouping_tests, similarity_pairs, term_counts,
                                     tfidf_from_tokens)
from discourselab.text import TextPipeline


def test_cosine_by_hand():
    # (1, 0, 1) . (1, 1, 0) = 1; |each| = sqrt(2) -> cos = 1 / 2. (1, 0, 1) and (0, 1, 0) are orthogonal.
    table = cosine_table(np.array([[1, 0, 1], [1, 1, 0], [0, 1, 0]]), ["x", "y", "z"])
    assert table.loc["x", "y"] == pytest.approx(0.5)
    assert table.loc["x", "z"] == pytest.approx(0.0)
    assert table.loc["y", "z"] == pytest.approx(1 / np.sqrt(2))


@pytest.mark.parametrize("cells", [1, 7, 10**6])
def test_cosine_a_block_of_rows_at_a_time_is_scikit_learns(cells, monkeypatch):
    from sklearn.metrics.pairwise import cosine_similarity

    from discourselab import similarity

    monkeypatch.setattr(similarity, "COSINE_CELLS", cells)  # sparse: blocks of 1, 1 and all 9 rows
    dense = np.random.default_rng(3).poisson(0.7, size=(9, 12))
    dense[4] = 0  # a row of zeros: 0 with every row, itself included
    for matrix in (dense, csr_matrix(dense), dense.astype(np.float32)):
        np.testing.assert_array_equal(similarity.cosine_matrix(matrix), cosine_similarity(matrix))
    assert similarity.cosine_matrix(dense.astype(np.float32)).dtype == np.float32
    # as pairs: the values above the diagonal, to the bit, and for a sparse matrix without the square
    made = []
    square = similarity._cosine_square
    monkeypatch.setattr(similarity, "_cosine_square", lambda unit: made.append(unit) or square(unit))
    for matrix in (dense, csr_matrix(dense), dense.astype(np.float32)):
        pairs = similarity.cosine_pairs(matrix)
        np.testing.assert_array_equal(pairs, cosine_similarity(matrix)[np.triu_indices(9, k=1)])
        assert pairs.dtype == cosine_similarity(matrix).dtype
    assert len(made) == 2  # the dense ones


@pytest.mark.parametrize("cells", [40, 300, 10**6])
def test_cosine_pairs_of_real_valued_rows_in_blocks_are_scikit_learns_to_the_bit(cells, monkeypatch):
    from scipy.sparse import random as sparse_random
    from sklearn.metrics.pairwise import cosine_similarity

    from discourselab import similarity

    monkeypatch.setattr(similarity, "COSINE_CELLS", cells)  # 60 rows: blocks of 1, 5 and all 60
    rng = np.random.default_rng(8)
    matrix = sparse_random(60, 400, density=0.15, format="csr", random_state=8,
                           data_rvs=lambda k: rng.lognormal(0.0, 2.0, k))  # sums whose order shows in the last bits
    expected = cosine_similarity(matrix)
    np.testing.assert_array_equal(similarity.cosine_pairs(matrix), expected[np.triu_indices(60, k=1)])
    np.testing.assert_array_equal(similarity.cosine_matrix(matrix), expected)
    # a block of rows at a time: the same values joined, in runs of whole first pieces
    runs = list(similarity.cosine_pair_runs(matrix))
    assert len(runs) == -(-60 // max(1, cells // 60))
    np.testing.assert_array_equal(np.concatenate(runs), expected[np.triu_indices(60, k=1)])
    dense = matrix.toarray()  # one run: cosine_pairs' own values for dense rows
    np.testing.assert_array_equal(np.concatenate(list(similarity.cosine_pair_runs(dense))),
                                  similarity.cosine_pairs(dense))
    # copy=False: normalized in place, the same pairs
    before = matrix.copy()
    owned = matrix.copy()
    np.testing.assert_array_equal(similarity.cosine_pairs(owned, copy=False), expected[np.triu_indices(60, k=1)])
    assert (matrix != before).nnz == 0  # copy=True (the default) left the caller's matrix as it was
    np.testing.assert_allclose(np.sqrt(owned.multiply(owned).sum(axis=1)).A1, 1.0, rtol=1e-12)
    # rows whose columns are stored out of order: sorted first (a copy), so the values of the sorted rows
    shuffled = matrix.copy()
    for r in range(60):
        lo, hi = shuffled.indptr[r], shuffled.indptr[r + 1]
        order = rng.permutation(hi - lo) + lo
        shuffled.indices[lo:hi], shuffled.data[lo:hi] = shuffled.indices[order], shuffled.data[order]
    shuffled.has_sorted_indices = False
    np.testing.assert_array_equal(similarity.cosine_pairs(shuffled), expected[np.triu_indices(60, k=1)])
    assert not shuffled.has_sorted_indices


def test_csr_rows_share_the_matrix_values():
    from discourselab import similarity

    matrix = csr_matrix(np.random.default_rng(1).poisson(0.5, size=(7, 5)).astype(float))
    for start in range(8):
        for stop in range(start, 8):
            rows = similarity.csr_rows(matrix.data, matrix.indices, matrix.indptr, start, stop, 5)
            np.testing.assert_array_equal(rows.toarray(), matrix.toarray()[start:stop])
            assert rows.nnz == 0 or np.shares_memory(rows.data, matrix.data)


def test_burrows_delta_three_texts_by_hand():
    # Most frequent words: a (4), b (4); c (1) is left out with mfw=2.
    # Relative frequencies: a = (2/4, 1/3, 1/2), b = (1/4, 2/3, 1/2)
    # a: mean 0.44444, sd (ddof 1) 0.096225 -> z = (0.57735, -1.15470, 0.57735)
    # b: mean 0.47222, sd 0.209718          -> z = (-1.05963, 0.92717, 0.13245)
    # Delta(1,2) = (1.73205 + 1.98680) / 2 = 1.85943
    # Delta(1,3) = (0 + 1.19208) / 2 = 0.59604
    # Delta(2,3) = (1.73205 + 0.79472) / 2 = 1.26339
    pieces = pd.DataFrame({"doc_id": ["t1", "t2", "t3"], "text": ["a a b c", "a b b", "a b"]})
    delta = burrows_delta(pieces, mfw=2)
    assert delta.loc["t1", "t2"] == pytest.approx(1.85943, abs=1e-4)
    assert delta.loc["t1", "t3"] == pytest.approx(0.59604, abs=1e-4)
    assert delta.loc["t2", "t3"] == pytest.approx(1.26339, abs=1e-4)
    assert (np.diag(delta) == 0).all() and np.allclose(delta, delta.T)
    # the same from (doc_id, text) pairs, as Corpus.piece_texts gives them one at a time
    pd.testing.assert_frame_equal(burrows_delta(iter(zip(pieces["doc_id"], pieces["text"])), mfw=2), delta)
    # as pairs, without the square: the same numbers to the bit
    names, pairs = burrows_delta_pairs(pieces, mfw=2)
    assert names == ["t1", "t2", "t3"]
    np.testing.assert_array_equal(pairs, delta.to_numpy()[np.triu_indices(3, k=1)])


def test_burrows_delta_counts_each_text_alone_and_is_the_whole_count_tables_to_the_bit():
    from sklearn.feature_extraction.text import CountVectorizer

    from discourselab.text import word_tokens

    rng = np.random.default_rng(7)
    vocabulary = [f"w{i}" for i in range(60)] + ["Ünïcode", "the", "The", "a"]
    weights = rng.dirichlet(np.ones(len(vocabulary)) * 0.3)
    texts = [(f"p{i}", " ".join(rng.choice(vocabulary, size=rng.integers(5, 300), p=weights)))
             for i in range(40)]
    for mfw in (1, 7, 30, 500):
        # Delta from the whole piece x word count table, most frequent first, ties alphabetical
        counter = CountVectorizer(analyzer=word_tokens)
        counts = counter.fit_transform(t for _, t in texts)
        totals = np.asarray(counts.sum(axis=0)).ravel()
        top = np.lexsort((counter.get_feature_names_out(), -totals))[:mfw]
        rel = counts[:, top].toarray() / np.asarray(counts.sum(axis=1))
        sd = rel.std(axis=0, ddof=1)
        z = (rel - rel.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
        names, pairs = burrows_delta_pairs(iter(texts), mfw=mfw)
        assert names == [n for n, _ in texts]
        np.testing.assert_array_equal(pairs, pdist(z, metric="cityblock") / z.shape[1])
        np.testing.assert_array_equal(similarity._delta_scores(texts, mfw, block=5)[1], z)  # entries 5 at a time
    # a tie in frequency goes to the word first in alphabetical order
    tied = pd.DataFrame({"doc_id": ["a", "b", "c"], "text": ["zeta alpha alpha x", "zeta zeta zeta alpha", "alpha alpha zeta"]})
    assert (burrows_delta(tied, mfw=1).to_numpy() == burrows_delta(tied.assign(
        text=tied["text"].str.replace("zeta", "omega")), mfw=1).to_numpy()).all()  # alpha, before omega or zeta
    assert burrows_delta(tied, mfw=1).loc["a", "b"] != burrows_delta(tied.assign(
        text=tied["text"].str.replace("alpha", "zz")), mfw=1).loc["a", "b"]  # zeta now, before zz


def paragraphs_of(pieces: pd.DataFrame) -> pd.DataFrame:
    return pieces.assign(paragraph_id=pieces["doc_id"] + "-p1")[["doc_id", "paragraph_id", "text"]]


def test_distinctive_terms_by_group():
    pieces = pd.DataFrame({"doc_id": ["a", "b", "c"], "role": ["x", "x", "y"],
                           "text": ["trade union trade union work", "trade union work", "big data work"]})
    tokens = TextPipeline().token_table(paragraphs_of(pieces))
    table = distinctive_terms(tokens, pieces, "role", n=3)
    top = table.groupby("group").first()["term"]
    # "work" is in both groups (lowest idf); each group's own term ranks first
    assert top["x"] == "trade union" and top["y"] == "big data"
    assert list(table.columns) == ["by", "group", "rank", "term", "tfidf", "count", "paragraphs"]
    counted = table.set_index(["group", "term"])
    assert counted.loc[("x", "trade union"), "count"] == 3 and counted.loc[("x", "trade union"), "paragraphs"] == 2
    assert counted.loc[("y", "work"), "count"] == 1


def test_distinctive_terms_count_what_count_terms_counts(mini_manifest):
    from discourselab.frequency import count_terms

    corpus = load_corpus(mini_manifest)
    counts, _ = TextPipeline().count_table(corpus.paragraphs)
    for by in ("doc_id", "role"):
        own = distinctive_terms(counts, corpus.pieces, by, n=5)
        given = distinctive_terms(counts, corpus.pieces, by, count_terms(counts, corpus.pieces, by), n=5)
        assert len(own) > 5 and own["count"].gt(0).all()
        pd.testing.assert_frame_equal(own, given)


def test_term_counts_by_hand():
    pieces = pd.DataFrame({"doc_id": ["a", "b", "c"], "role": ["x", "x", "y"],
                           "text": ["trade union trade union work", "trade union work", "big data work"]})
    tokens = TextPipeline().token_table(paragraphs_of(pieces))
    counts, rows, terms = term_counts(tokens, pieces.set_index("doc_id")["role"])
    assert rows.tolist() == ["x", "y"] and terms.tolist() == ["big data", "trade union", "work"]
    assert counts.toarray().tolist() == [[0, 3, 2], [1, 0, 1]]


def test_term_counts_are_int32_until_the_counts_could_pass_it():
    labels = pd.Series(["x", "y"], index=["a", "b"])
    small = pd.DataFrame({"doc_id": ["a", "a", "b"], "paragraph_id": ["a-1", "a-1", "b-1"],
                          "term": ["t", "u", "t"], "count": [3, 1, 2], "words": [3, 1, 2]})
    counts, _, _ = term_counts(small, labels)
    assert counts.dtype == np.int32 and counts.toarray().tolist() == [[3, 1], [2, 0]]
    most = np.iinfo(np.int32).max
    # one cell at int32's largest value, then more counts in the next part: int64 before any sum could wrap
    parts = [small.assign(count=[most, 1, 2]), small.assign(count=[5, 1, 7])]
    counts, _, _ = term_counts(iter(parts), labels)
    assert counts.dtype == np.int64
    assert counts.toarray().tolist() == [[most + 5, 2], [9, 0]]


def test_tfidf_from_tokens_equals_the_vectorizer_on_the_texts(mini_manifest):
    # the token table's counts give what TfidfVectorizer gives on the pieces' texts
    corpus = load_corpus(mini_manifest)
    pipeline = TextPipeline()
    tokens = pipeline.token_table(corpus.paragraphs)
    ids = corpus.pieces["doc_id"]
    matrix, rows, terms = tfidf_from_tokens(tokens, pd.Series(ids.to_numpy(), index=ids))
    vectorizer, expected = fit_tfidf(pd.Series(dict(corpus.piece_texts())).sort_index(), pipeline)
    assert terms.tolist() == vectorizer.get_feature_names_out().tolist()
    assert rows.tolist() == sorted(corpus.pieces["doc_id"])
    assert np.allclose(matrix.toarray(), expected.toarray())


@pytest.mark.parametrize("options", [{}, {"sublinear_tf": False}, {"norm": None, "use_idf": False},
                                     {"smooth_idf": False, "norm": "l1"}])
def test_tfidf_from_tokens_is_scikit_learns_fit_transform_of_the_counts(mini_manifest, options):
    # weighted in place on a float copy of the counts: the very values of TfidfTransformer's fit_transform
    from sklearn.feature_extraction.text import TfidfTransformer

    corpus = load_corpus(mini_manifest)
    tokens = TextPipeline().token_table(corpus.paragraphs)
    labels = corpus.pieces.set_index("doc_id")["role"]
    counts, rows, terms = term_counts(tokens, labels)
    expected = TfidfTransformer(**{**similarity.TFIDF_DEFAULTS, **options}).fit_transform(counts)
    matrix, rows_made, terms_made = tfidf_from_tokens(tokens, labels, **options)
    assert rows_made.tolist() == rows.tolist() and terms_made.tolist() == terms.tolist()
    assert matrix.dtype == np.float64 and matrix.has_canonical_format
    assert np.array_equal(matrix.indptr, expected.indptr) and np.array_equal(matrix.indices, expected.indices)
    assert np.array_equal(matrix.data, expected.data)


def test_clustering_orders_close_pieces_together():
    distances = pd.DataFrame([[0, 1, 9], [1, 0, 9], [9, 9, 0]], index=list("abc"), columns=list("abc"))
    merges = cluster(distances)
    assert sorted(merges[0][:2]) == [0, 1]  # a and b merge first
    assert merges[0][2] == pytest.approx(1)


def test_cosine_clustering_equals_scipy_on_the_dense_rows():
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import pdist, squareform

    rng = np.random.default_rng(3)
    dense = rng.poisson(0.4, size=(30, 50)).astype(float)
    dense[0] = dense[1]  # two identical rows: distance 0
    expected = linkage(pdist(dense, metric="cosine"), method="average")
    for matrix in (csr_matrix(dense), dense):
        merges = cluster(matrix, metric="cosine")
        assert (merges[:, [0, 1, 3]] == expected[:, [0, 1, 3]]).all()  # the same merges, in the same order
        np.testing.assert_allclose(merges[:, 2], expected[:, 2], atol=1e-12)
    # the cosine table's distances give the same tree as the matrix
    names = list(range(30))
    np.testing.assert_array_equal(cluster(1.0 - cosine_table(csr_matrix(dense), names)), cluster(csr_matrix(dense)))
    # a square distance table is clustered as given
    city = pdist(dense, metric="cityblock")
    square = pd.DataFrame(squareform(city), index=range(30), columns=range(30))
    np.testing.assert_allclose(cluster(square), linkage(city, method="average"))
    # so are condensed distances: the columns of the pairs table give the trees of the square tables
    cosine = cosine_table(csr_matrix(dense), names)
    pairs = similarity_pairs(cosine, square, pd.DataFrame({"doc_id": names}))
    np.testing.assert_array_equal(cluster(1.0 - pairs["cosine"].to_numpy()), cluster(1.0 - cosine))
    np.testing.assert_array_equal(cluster(pairs["delta"].to_numpy()), cluster(square))
    assert (pairs["delta"].to_numpy() == city).all()  # not clipped in place
    # similarities given: the trees of 1 - them, the values given unchanged
    given = pairs["cosine"].to_numpy().copy()
    np.testing.assert_array_equal(cluster(pairs["cosine"], similarities=True), cluster(1.0 - given))
    np.testing.assert_array_equal(cluster(cosine, similarities=True), cluster(1.0 - cosine))
    assert (pairs["cosine"].to_numpy() == given).all()
    # without a copy: the same tree, and the array given holds the distances
    own = given.copy()
    np.testing.assert_array_equal(cluster(own, similarities=True, copy=False), cluster(1.0 - given))
    np.testing.assert_array_equal(own, np.maximum(1.0 - given, 0.0))
    np.testing.assert_array_equal(cluster(cosine, similarities=True, copy=False), cluster(1.0 - cosine))
    np.testing.assert_array_equal(cluster(pairs["cosine"], similarities=True, copy=False), cluster(1.0 - given))
    assert (pairs["cosine"].to_numpy() == given).all()  # a column's read-only values: copied
    assert (cosine.to_numpy() == cosine_table(csr_matrix(dense), names).to_numpy()).all()  # a square is copied


def test_clustering_counts_distances_a_rounding_error_below_zero_as_zero():
    from scipy.cluster.hierarchy import linkage

    distances = np.array([-2e-16, 1.0, 3.0, 0.5, 2.0, 4.0])  # four items' pairs
    expected = linkage(np.clip(distances, 0.0, None), method="average")
    assert expected[0, 2] == 0.0
    given = distances.copy()
    np.testing.assert_array_equal(cluster(given), expected)
    np.testing.assert_array_equal(cluster(1.0 - given, similarities=True), expected)
    assert (given == distances).all()  # the given values are not clipped in place
    similarities = 1.0 - distances  # 1 + 2e-16: a distance below zero
    np.testing.assert_array_equal(cluster(similarities, similarities=True),
                                  linkage(np.clip(1.0 - similarities, 0.0, None), method="average"))
    assert (similarities == 1.0 - distances).all()


@pytest.fixture
def grouped_pairs():
    pieces = pd.DataFrame({"doc_id": list("abcdef"), "role": ["r1"] * 3 + ["r2"] * 3,
                           "author": list("abcdef")})
    near = {("a", "b"), ("a", "c"), ("b", "c"), ("d", "e"), ("d", "f"), ("e", "f")}
    ids = pieces["doc_id"].tolist()
    cos = pd.DataFrame([[1.0 if x == y else (0.9 if (x, y) in near or (y, x) in near else 0.1) for y in ids]
                        for x in ids], index=ids, columns=ids)
    pairs = similarity_pairs(cos, 1 - cos, pieces, columns=("role", "author"))
    return pairs, pieces


def test_grouping_test_finds_clear_grouping(grouped_pairs):
    pairs, pieces = grouped_pairs
    result = grouping_test(pairs, pieces, "role", "cosine", permutations=199, seed=1)
    assert result["within"] == pytest.approx(0.9) and result["between"] == pytest.approx(0.1)
    # only 10 distinct labellings of 6 pieces into 3 + 3 exist: 2 of them give the observed split
    assert result["p_greater"] < 0.3
    assert result["p_less"] > 0.9
    again = grouping_test(pairs, pieces, "role", "cosine", permutations=199, seed=1)
    assert again == result  # seeded: the same input gives the same result


def test_grouping_test_without_shared_groups(grouped_pairs):
    pairs, pieces = grouped_pairs
    result = grouping_test(pairs, pieces, "author", "cosine")
    assert result["same_pairs"] == 0 and np.isnan(result["difference"])


def random_pairs(n: int, seed: int):
    rng = np.random.default_rng(seed)
    ids = [f"p{i}" for i in range(n)]
    pieces = pd.DataFrame({"doc_id": ids, "role": rng.choice(["a", "b", "c"], n),
                           "author": rng.choice([f"x{i}" for i in range(20)], n)})
    cosine = pd.DataFrame(rng.random((n, n)), index=ids, columns=ids)
    cosine = (cosine + cosine.T) / 2
    return similarity_pairs(cosine, 1 - cosine, pieces, columns=("role", "author")), pieces


@pytest.mark.parametrize("n", [25, 240])  # masks below GEMM_PIECES, matrix products from it on
def test_grouping_tests_equal_the_definition_on_random_pairs(n):
    # every permuted labelling's statistic, by the definition: masks over the pairs
    pairs, pieces = random_pairs(n, 7)
    ia, ib = np.triu_indices(n, k=1)
    for column in ("role", "author"):
        base = pd.factorize(pieces[column])[0]
        draws = np.random.default_rng(5)
        stats = []
        for _ in range(150):
            labels = draws.permutation(base)
            s = labels[ia] == labels[ib]
            stats.append([pairs[v].to_numpy()[s].mean() - pairs[v].to_numpy()[~s].mean() for v in ("cosine", "delta")])
        stats = np.array(stats)
        results = grouping_tests(pairs, pieces, column, ("cosine", "delta"), permutations=150, seed=5)
        for i, result in enumerate(results):
            same = pairs[f"same_{column}"].to_numpy()
            value = pairs[result["value"]].to_numpy()
            observed = value[same].mean() - value[~same].mean()
            assert result["difference"] == pytest.approx(observed, abs=1e-12)
            assert result["within"] == value[same].mean()
            assert result["between"] == pytest.approx(value[~same].mean(), rel=1e-12)
            assert result["within"] - result["between"] == result["difference"]  # from the same sums
            assert result["p_greater"] == (1 + (stats[:, i] >= observed).sum()) / 151
            assert result["p_less"] == (1 + (stats[:, i] <= observed).sum()) / 151


def test_grouping_tests_by_products_equal_the_masks(monkeypatch):
    import discourselab.similarity as similarity

    pairs, pieces = random_pairs(240, 11)
    products = grouping_tests(pairs, pieces, "role", ("cosine", "delta"), permutations=200, seed=2)
    monkeypatch.setattr(similarity, "GEMM_PIECES", 10_000)
    assert grouping_tests(pairs, pieces, "role", ("cosine", "delta"), permutations=200, seed=2) == products
    # a pairs table without every pair once is tested with the masks
    for odd in (pairs.iloc[1:], pd.concat([pairs.iloc[1:], pairs.iloc[2:3]])):
        with_masks = grouping_tests(odd, pieces, "role", permutations=20, seed=2)
        monkeypatch.setattr(similarity, "GEMM_PIECES", 200)
        assert grouping_tests(odd, pieces, "role", permutations=20, seed=2) == with_masks
        monkeypatch.setattr(similarity, "GEMM_PIECES", 10_000)


def by_masks(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each labelling's within-group sum, by the definition: a mask of the same-group pairs (-1: in no group)."""
    ia, ib = np.triu_indices(labels.shape[1], k=1)
    return np.array([[v[(x[ia] == x[ib]) & (x[ia] >= 0)].sum() for v in values] for x in labels])


def test_within_sums_from_the_same_group_pairs_equal_the_masks_to_the_bit():
    from discourselab.similarity import _gathered_within

    rng = np.random.default_rng(3)
    n = 40
    values = [rng.random(n * (n - 1) // 2), rng.normal(size=n * (n - 1) // 2)]
    base = np.repeat([0, 1, 2, 3, -1], [12, 9, 9, 1, 9])  # a group of one, and pieces with a missing value
    labels = np.array([rng.permutation(base) for _ in range(30)])
    renamed = np.choose(labels[0] + 1, [-1, 0, 2, 1, 3])  # the first's groups 1 and 2 (as large) swapped
    labels = np.vstack([labels, renamed])
    within = _gathered_within(values, n, labels)
    assert (within == by_masks(values, labels)).all()  # exactly: the same values summed in the same order
    assert (within[-1] == within[0]).all()  # the same groups under other names tie


@pytest.mark.parametrize("cells", [1, 50, 10**6])
def test_within_sums_by_products_a_block_of_rows_at_a_time(cells, monkeypatch):
    import discourselab.similarity as similarity

    rng = np.random.default_rng(4)
    n = 30
    values = [rng.random(n * (n - 1) // 2) for _ in range(2)]
    labels = np.array([rng.permutation(np.arange(n) % 4) for _ in range(25)])
    made = []
    square_rows = similarity._square_rows
    monkeypatch.setattr(similarity, "_square_rows", lambda *a: made.append(len(a[2])) or square_rows(*a))
    within = similarity._products_within(values, n, 4, labels, width=12, cells=cells)
    np.testing.assert_allclose(within, by_masks(values, labels), rtol=1e-12)
    assert sum(made) == 2 * n and max(made) == max(1, min(n, cells // n))  # every row once per value, in blocks


def test_grouping_tests_of_pairs_in_another_order_and_with_missing_groups(monkeypatch):
    import discourselab.similarity as similarity

    pairs, pieces = random_pairs(240, 12)
    pieces.loc[pieces.index[::7], "role"] = None  # never the same role, also when shuffled
    pairs = similarity_pairs(pairs["cosine"].to_numpy(), pairs["delta"].to_numpy(), pieces, columns=("role",))
    results = grouping_tests(pairs, pieces, "role", permutations=60, seed=9)
    shuffled = pairs.sample(frac=1.0, random_state=1)  # summed in another order: equal but for the last bits

    def same_tests(other):
        for mine, theirs in zip(results, other):
            assert {k: theirs[k] for k in ("p_greater", "p_less", "same_pairs")} == \
                {k: mine[k] for k in ("p_greater", "p_less", "same_pairs")}
            assert theirs["difference"] == pytest.approx(mine["difference"], abs=1e-12)

    same_tests(grouping_tests(shuffled, pieces, "role", permutations=60, seed=9))
    for per_run in (1, 7, 5000, 10**6):  # the same-group mask, a run of first pieces at a time
        np.testing.assert_array_equal(similarity._same_group_pairs(pd.factorize(pieces["role"])[0], per_run),
                                      pairs["same_role"].to_numpy())
    values = {v: pairs[v].to_numpy() for v in ("cosine", "delta")}  # with pieces in no group: the same, to the bit
    assert similarity.condensed_grouping_tests(values, pieces, "role", permutations=60, seed=9) == results
    for roles in ([None] * 240, ["one"] * 240):  # no pair, or every pair, in one group: nothing to test
        alike = pieces.assign(role=roles)
        tests = similarity.condensed_grouping_tests(values, alike, "role", permutations=60, seed=9)
        assert tests[1]["same_pairs"] == (0 if roles[0] is None else len(pairs)) and np.isnan(tests[1]["p_less"])
        together = similarity_pairs(values["cosine"], values["delta"], alike, columns=("role",))
        assert str(tests) == str(grouping_tests(together, alike, "role", permutations=60, seed=9))  # NaN == NaN
    with pytest.raises(ValueError, match="28679 values for 28680 pairs of 240 pieces"):
        similarity.condensed_grouping_tests({"cosine": values["cosine"][1:]}, pieces, "role")
    ids = pd.Index(pieces["doc_id"])
    for table, copied in ((pairs, False), (shuffled, True)):  # the values in the order of every pair, copied if need be
        columns = [table[v].to_numpy() for v in ("cosine", "delta")]
        placed = similarity._condensed_columns(columns, table["piece_a"].cat.codes.to_numpy(),
                                               table["piece_b"].cat.codes.to_numpy(), len(ids), rows=1000)
        assert all(np.array_equal(x, pairs[v].to_numpy()) for x, v in zip(placed, ("cosine", "delta")))
        assert (placed is not columns) == copied
    codes = pairs["piece_a"].cat.codes.to_numpy().copy(), pairs["piece_b"].cat.codes.to_numpy().copy()
    codes[0][238] = codes[1][238] = 1  # the pair (0, 239) made piece 1 with itself, whose index would be the same
    assert similarity._condensed_columns([pairs["cosine"].to_numpy()], *codes, 240) is None
    monkeypatch.setattr(similarity, "_condensed_columns", lambda *a: None)  # the masks over the pairs
    same_tests(grouping_tests(shuffled, pieces, "role", permutations=60, seed=9))
    # by the definition
    ia, ib = np.triu_indices(240, k=1)
    base = pd.factorize(pieces["role"])[0]
    draws = np.random.default_rng(9)
    same = pairs["same_role"].to_numpy()
    v = pairs["cosine"].to_numpy()
    observed = v[same].mean() - v[~same].mean()
    stats = []
    for _ in range(60):
        x = draws.permutation(base)
        s = (x[ia] == x[ib]) & (x[ia] >= 0)
        assert s.sum() == same.sum()
        stats.append(v[s].mean() - v[~s].mean())
    assert results[0]["p_greater"] == (1 + (np.array(stats) >= observed).sum()) / 61


def test_grouping_tests_equal_one_test_per_value(grouped_pairs):
    pairs, pieces = grouped_pairs
    both = grouping_tests(pairs, pieces, "role", ("cosine", "delta"), permutations=99, seed=3)
    assert both == [grouping_test(pairs, pieces, "role", v, permutations=99, seed=3) for v in ("cosine", "delta")]


def test_top_pairs_are_pandas_nlargest():
    from discourselab.similarity import top_pairs

    table = pd.DataFrame({"piece_a": list("abcdefgh"),
                          "cosine": [0.2, 0.9, np.nan, 0.9, 0.5, 0.9, 0.1, np.nan]})
    for n in (0, 1, 2, 3, 4, 6, 7, 8, 10):  # ties at 0.9 go to the first rows, as in nlargest
        pd.testing.assert_frame_equal(top_pairs(table, "cosine", n), table.nlargest(n, "cosine"))
    missing = table.assign(cosine=np.nan)
    pd.testing.assert_frame_equal(top_pairs(missing, "cosine", 2), missing.nlargest(2, "cosine"))


@pytest.mark.parametrize("size", [0, 1, 2, 3, 9, 40])
def test_top_condensed_pairs_are_top_pairs_of_the_pair_table(size):
    from discourselab.similarity import pair_table, top_condensed_pairs, top_pairs

    pieces = pd.DataFrame({"doc_id": [f"p{i}" for i in range(size)]})
    rng = np.random.default_rng(size)
    pairs = size * (size - 1) // 2
    for values in (rng.integers(0, 4, pairs) / 4.0,  # many ties
                   np.where(rng.random(pairs) < 0.3, np.nan, rng.random(pairs)),  # missing values
                   np.full(pairs, np.nan)):
        table = pair_table({"cosine": values}, pieces)
        for n in (0, 1, 3, 10, pairs + 2):
            expected = top_pairs(table, "cosine", n)
            for block in (1, 7, 10**6):
                found = top_condensed_pairs(values, pieces, "cosine", n, block=block)
                pd.testing.assert_frame_equal(found, expected, check_index_type=False)
    with pytest.raises(ValueError, match="cosine: 2 values for 3 pairs of 3 pieces"):
        top_condensed_pairs(np.zeros(2), pd.DataFrame({"doc_id": ["a", "b", "c"]}), "cosine")


@pytest.mark.parametrize("n", [0, 1, 2, 7, 60])
def test_pair_positions_are_the_upper_triangle(n):
    from discourselab.similarity import pair_positions

    a, b = pair_positions(n)
    expected = np.triu_indices(n, k=1)
    np.testing.assert_array_equal(a, expected[0])
    np.testing.assert_array_equal(b, expected[1])
    assert a.dtype == np.int32


def test_similarity_pairs_name_the_pieces_in_any_order_of_the_square_tables(tmp_path):
    pairs, pieces = random_pairs(30, 4)
    ids = pieces["doc_id"].tolist()
    assert pairs["piece_a"].tolist() == [x for i, x in enumerate(ids) for _ in ids[i + 1:]]
    assert pairs["piece_b"].tolist() == [y for i in range(len(ids)) for y in ids[i + 1:]]
    # the square tables' rows and columns in another order give the same table
    square = pd.DataFrame(np.zeros((30, 30)), index=ids, columns=ids)
    square.iloc[:, :] = np.add.outer(np.arange(30), np.arange(30) * 100.0)
    shuffled = square.iloc[::-1, ::-1]
    made = similarity_pairs(square, square * 2, pieces)
    assert made["cosine"].tolist() == [square.loc[x, y] for x, y in zip(made["piece_a"], made["piece_b"])]  # a's row
    assert made["delta"].tolist() == [2 * square.loc[x, y] for x, y in zip(made["piece_a"], made["piece_b"])]
    assert similarity_pairs(shuffled, shuffled, pieces).equals(similarity_pairs(square, square, pieces))
    # the same group: by value, never where one is missing
    pieces = pieces.assign(role=["x", "y", None, np.nan, "x", "y"] * 5)
    role = pieces.set_index("doc_id")["role"]
    made = similarity_pairs(square, square, pieces)
    assert made["same_role"].tolist() == [pd.notna(role[x]) and role[x] == role[y]
                                          for x, y in zip(made["piece_a"], made["piece_b"])]
    assert 0 < made["same_role"].sum() < len(made)
    # written as text, the names are the pieces' names
    write_csv(pairs, tmp_path / "pairs.csv")
    text = pd.read_csv(tmp_path / "pairs.csv")
    assert text["piece_a"].tolist() == pairs["piece_a"].tolist()
    np.testing.assert_allclose(text["cosine"], pairs["cosine"], rtol=1e-9)


def test_pairs_from_condensed_values_and_a_pair_column_seen_as_the_square():
    from discourselab import plots
    from discourselab.similarity import PairSquare, condensed

    n = 9
    ids = [f"p{i}" for i in range(n)]
    pieces = pd.DataFrame({"doc_id": ids, "role": list("abcabcabc")})
    values = np.random.default_rng(5).random((n, n))
    square = pd.DataFrame((values + values.T) / 2, index=ids, columns=ids)
    upper = condensed(square.iloc[::-1, ::-1], ids)  # in the pieces' order, whatever the table's
    assert upper.tolist() == [square.iloc[i, j] for i in range(n) for j in range(i + 1, n)]
    pairs = similarity_pairs(upper, 2 * upper, pieces)
    pd.testing.assert_frame_equal(pairs, similarity_pairs(square, 2 * square, pieces))
    assert np.shares_memory(pairs["cosine"].to_numpy(), upper)  # used as given
    with pytest.raises(ValueError, match="delta: 35 values for 36 pairs of 9 pieces"):
        similarity_pairs(upper, upper[1:], pieces)
    seen = PairSquare(pairs, "delta")
    expected = 2 * square.to_numpy()
    np.fill_diagonal(expected, np.nan)
    np.testing.assert_array_equal(seen.to_numpy(), expected)
    np.testing.assert_array_equal(seen[[4, 0, 8]], expected[[4, 0, 8]])
    assert len(seen) == n and seen.index.tolist() == ids
    # the heatmap of the column is that of the square, labelled or in block means
    order = [ids[i] for i in np.random.default_rng(6).permutation(n)]
    for cells, labelled in ((1000, 60), (4, 3)):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(plots, "MAX_CELLS", cells)
            patch.setattr(plots, "MAX_LABELLED", labelled)
            images = [plots.plot_similarity(t, order=order).axes[0].get_images()[0].get_array()
                      for t in (2 * square, seen)]
        np.testing.assert_array_equal(np.ma.filled(images[0], -1), np.ma.filled(images[1], -1))
    with pytest.raises(ValueError, match="every pair of pieces once"):
        PairSquare(pairs.iloc[1:], "cosine")


@pytest.mark.parametrize("n", [2, 7, 60])
def test_pair_positions_of_a_run_of_first_pieces_are_their_rows_of_the_whole(n):
    from discourselab.similarity import _pair_index, pair_positions

    a, b = pair_positions(n)
    for start, stop in ((0, 1), (0, n - 1), (1, 3), (n - 2, n - 1), (2, n + 5), (3, 3)):
        part = pair_positions(n, start, stop)
        last = min(stop, n - 1)  # no pair starts at the last piece
        first = min(start, last)
        rows = slice(_pair_index(first, first + 1, n), _pair_index(last, last + 1, n))
        np.testing.assert_array_equal(part[0], a[rows])
        np.testing.assert_array_equal(part[1], b[rows])
        assert set(part[0].tolist()) <= set(range(start, stop))


@pytest.mark.parametrize("n", [0, 1, 2, 9, 60])
@pytest.mark.parametrize("per_table", [1, 7, 100, 10_000])
def test_similarity_pair_tables_are_the_rows_of_the_pairs(n, per_table, tmp_path):
    from discourselab.similarity import similarity_pair_tables

    rng = np.random.default_rng(n)
    ids = [f"p{i}" for i in range(n)]
    pieces = pd.DataFrame({"doc_id": ids, "role": rng.choice(["a", "b", None], n), "file": rng.choice(["f", "g"], n)})
    cosine, delta = rng.random(n * (n - 1) // 2), rng.random(n * (n - 1) // 2)
    whole = similarity_pairs(cosine, delta, pieces)
    tables = list(similarity_pair_tables(cosine, delta, pieces, pairs_per_table=per_table))
    pd.testing.assert_frame_equal(pd.concat(tables), whole)  # the same rows, columns and index
    for table in tables[:-1]:  # about per_table pairs each, in whole runs of first pieces
        assert len(table) <= max(per_table, n - 1)
        assert not set(table["piece_a"]) & set(tables[-1]["piece_a"])
    # written as one table: the same file
    write_csv(whole, tmp_path / "whole.csv")
    write_csv(iter(tables), tmp_path / "parts.csv")
    assert (tmp_path / "parts.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()


def test_grouping_tests_of_one_value_on_its_own_pair_table_are_those_of_the_values_together(monkeypatch):
    import discourselab.similarity as similarity
    from discourselab.similarity import PairSquare, condensed_grouping_tests, pair_table

    for n, gemm in ((30, 10_000), (240, 10_000), (240, 200)):  # masks, gathered pairs, matrix products
        monkeypatch.setattr(similarity, "GEMM_PIECES", gemm)
        pairs, pieces = random_pairs(n, 3)
        for column in ("role", "author"):
            together = grouping_tests(pairs, pieces, column, ("cosine", "delta"), permutations=200, seed=4)
            alone = [grouping_tests(pair_table({v: pairs[v].to_numpy()}, pieces, (column,)), pieces, column, (v,),
                                    permutations=200, seed=4)[0] for v in ("cosine", "delta")]
            assert alone == together
            # and on the condensed values alone, without a table of the pairs
            values = {v: pairs[v].to_numpy() for v in ("cosine", "delta")}
            assert condensed_grouping_tests(values, pieces, column, permutations=200, seed=4) == together
            assert [condensed_grouping_tests({v: values[v]}, pieces, column, permutations=200, seed=4)[0]
                    for v in values] == together
    # a square of condensed values is that of the pairs' column
    seen = PairSquare.of(pairs["delta"].to_numpy(), pieces["doc_id"], "delta")
    np.testing.assert_array_equal(seen.to_numpy(), PairSquare(pairs, "delta").to_numpy())
    assert seen.index.tolist() == pieces["doc_id"].tolist() and seen.name == "delta"
    with pytest.raises(ValueError, match="every pair of pieces once"):
        PairSquare.of(pairs["delta"].to_numpy()[1:], pieces["doc_id"])
