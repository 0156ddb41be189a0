"""LDA's block E-step: by hand, against scikit-learn's loop, in blocks and processes; fit without its last pass."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from sklearn.decomposition import LatentDirichletAllocation, _lda

from discourselab import lda

SETTINGS = {"n_components": 3, "random_state": 5, "max_iter": 7, "learning_method": "batch"}


@pytest.fixture
def counts():
    """60 documents of 0 to 40 words over 25 terms, three of them empty, drawn from three skewed topics."""
    rng = np.random.default_rng(11)
    topics = rng.dirichlet(np.full(25, 0.2), size=3)
    rows = []
    for i in range(60):
        n = 0 if i in (0, 17, 59) else rng.integers(1, 41)
        rows.append(rng.multinomial(n, topics[rng.integers(3)]))
    return csr_matrix(np.array(rows, dtype=float))


def both(X, exp_topic_word, max_iter, cal_sstats, random_init):
    """(ours, scikit-learn's) E-step on the same input, each with its own equal random start."""
    args = (X, exp_topic_word, 0.25, max_iter, 1e-3, cal_sstats)
    return (lda.update_doc_distribution(*args, np.random.RandomState(3) if random_init else None),
            _lda._update_doc_distribution(*args, np.random.RandomState(3) if random_init else None))


def test_one_word_under_equal_topics_splits_evenly():
    # one document of 6 copies of one term, and an empty document; every topic gives the term the same weight.
    # With equal exp(E[log theta]) = e and exp(E[log beta]) = c for all 4 topics, norm_phi = 4ec and
    # gamma_k = e * 6 / (4ec) * c + prior = 1.5 + 0.25 = 1.75, the same again at the next step: converged.
    # The empty document gets the prior alone.
    X = csr_matrix(np.array([[0.0, 6.0, 0.0], [0.0, 0.0, 0.0]]))
    gamma, stats = lda.update_doc_distribution(X, np.full((4, 3), 0.3), 0.25, 100, 1e-3, True)
    np.testing.assert_allclose(gamma, [[1.75] * 4, [0.25] * 4])
    # statistics: e * 6 / (4ec) = 1.5 / c = 5 for the term, in every topic; nothing for the others
    np.testing.assert_allclose(stats, [[0.0, 5.0, 0.0]] * 4)


@pytest.mark.parametrize("max_iter", [0, 1, 3, 100])
@pytest.mark.parametrize("cal_sstats", [False, True])
@pytest.mark.parametrize("random_init", [False, True])
def test_block_e_step_is_scikit_learns(counts, max_iter, cal_sstats, random_init):
    exp_topic_word = np.random.default_rng(2).gamma(1.0, 1.0, (4, counts.shape[1]))
    (gamma, stats), (stock_gamma, stock_stats) = both(counts, exp_topic_word, max_iter, cal_sstats, random_init)
    np.testing.assert_allclose(gamma, stock_gamma, rtol=1e-10)
    assert gamma.dtype == stock_gamma.dtype
    if cal_sstats:
        np.testing.assert_allclose(stats, stock_stats, rtol=1e-10, atol=1e-12)
    else:
        assert stats is None and stock_stats is None


def test_blocks_do_not_change_the_result(counts, monkeypatch):
    exp_topic_word = np.random.default_rng(4).gamma(1.0, 1.0, (3, counts.shape[1]))
    whole = lda.update_doc_distribution(counts, exp_topic_word, 0.3, 100, 1e-3, True, np.random.RandomState(1))
    monkeypatch.setattr(lda, "BLOCK_DOCS", 7)
    blocks = lda.update_doc_distribution(counts, exp_topic_word, 0.3, 100, 1e-3, True, np.random.RandomState(1))
    np.testing.assert_array_equal(blocks[0], whole[0])
    np.testing.assert_array_equal(blocks[1], whole[1])


def test_lda_is_scikit_learns_model_without_the_training_perplexity(counts, monkeypatch):
    passes = []
    original = lda.update_doc_distribution

    def counted(X, *args, **kwargs):
        passes.append(X.shape[0])
        return original(X, *args, **kwargs)

    monkeypatch.setattr(lda, "update_doc_distribution", counted)
    stock = LatentDirichletAllocation(**SETTINGS).fit(counts)
    ours = lda.LDA(**SETTINGS).fit(counts)
    # seven iterations; scikit-learn's fit then infers the training set once more, for bound_
    assert passes == [60] * 7 and np.isnan(ours.bound_) and np.isfinite(stock.bound_)
    np.testing.assert_allclose(ours.components_, stock.components_, rtol=1e-9)
    np.testing.assert_allclose(ours.transform(counts), stock.transform(counts), rtol=1e-9)
    np.testing.assert_allclose(ours.perplexity(counts), stock.perplexity(counts), rtol=1e-9)
    # with evaluate_every, fit reads the perplexities: it is left whole
    evaluated = lda.LDA(**SETTINGS, evaluate_every=2).fit(counts)
    reference = LatentDirichletAllocation(**SETTINGS, evaluate_every=2).fit(counts)
    np.testing.assert_allclose(evaluated.bound_, reference.bound_, rtol=1e-9)
    np.testing.assert_allclose(evaluated.components_, reference.components_, rtol=1e-9)


def test_processes_give_the_same_shares(counts):
    model = lda.LDA(**SETTINGS).fit(counts)
    one = model.transform(counts)
    np.testing.assert_array_equal(model.set_params(n_jobs=2).transform(counts), one)


@pytest.mark.parametrize(("dtype", "method", "rtol"), [(np.float64, "online", 1e-9), (np.float32, "batch", 1e-4)])
def test_online_learning_and_single_precision_are_scikit_learns(counts, dtype, method, rtol):
    settings = {**SETTINGS, "learning_method": method, "batch_size": 16}
    X = counts.astype(dtype)
    stock, ours = LatentDirichletAllocation(**settings).fit(X), lda.LDA(**settings).fit(X)
    assert ours.components_.dtype == stock.components_.dtype == dtype
    np.testing.assert_allclose(ours.components_, stock.components_, rtol=rtol)
    np.testing.assert_allclose(ours.transform(X), stock.transform(X), rtol=rtol, atol=1e-6)
