"""Distinctive vocabulary (TF-IDF), similarity between pieces, and stylometric distance.

TF-IDF uses scikit-learn's ``TfidfVectorizer`` fed by the project's own
analyzer (:class:`~discourselab.text.TextPipeline`), so its terms are the terms
of every other analysis. Burrows' Delta uses the most frequent *word forms*
(function words included, no lemmas): a view of style rather than topic.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import linkage
from scipy.spatial.distance import cdist, pdist
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from .frequency import group_of
from .text import word_tokens

#: Defaults for TF-IDF (stated, and passed to scikit-learn as given).
TFIDF_DEFAULTS = {"sublinear_tf": True, "smooth_idf": True, "norm": "l2"}


def group_texts(pieces: pd.DataFrame, by: str) -> pd.Series:
    """One document per group: the texts of its pieces joined, in manifest order."""
    groups = group_of(pieces, by)
    texts = pieces.set_index("doc_id")["text"]
    return texts.groupby(groups, sort=True).agg("\n\n".join)


def fit_tfidf(texts: pd.Series, analyzer: Callable[[str], list[str]], **options):
    """Fit ``TfidfVectorizer(analyzer=analyzer, **options)`` on ``texts``.

    Parameters
    ----------
    texts : Series
        Documents, indexed by their names.
    analyzer : callable
        Text -> list of terms (a :class:`~discourselab.text.TextPipeline`).
    **options
        ``sublinear_tf`` (default True: 1 + log(tf), so a term repeated in one
        passage does not dominate), ``smooth_idf`` (default True: idf = ln((1 +
        n) / (1 + df)) + 1), ``norm`` (default "l2"), or any other option of
        ``TfidfVectorizer``.

    Returns
    -------
    vectorizer, matrix
        The fitted vectorizer and the sparse document-term matrix (rows in the order of ``texts``).
    """
    vectorizer = TfidfVectorizer(analyzer=analyzer, **{**TFIDF_DEFAULTS, **options})
    matrix = vectorizer.fit_transform(texts.tolist())
    return vectorizer, matrix


def distinctive_terms(pieces: pd.DataFrame, by: str, analyzer, frequencies: pd.DataFrame | None = None,
                      n: int = 30, **options) -> pd.DataFrame:
    """The ``n`` terms with the highest TF-IDF in each group's document.

    Parameters
    ----------
    pieces : DataFrame
        With ``doc_id``, ``text`` and the column ``by``.
    by : str
        ``doc_id`` (pieces) or a manifest column.
    analyzer : callable
        The text pipeline.
    frequencies : DataFrame, optional
        :func:`~discourselab.frequency.count_terms` for ``by``, to add raw counts.
    n : int
        Terms kept per group.
    **options
        TF-IDF options (see :func:`fit_tfidf`).

    Returns
    -------
    DataFrame
        ``by``, ``group``, ``rank``, ``term``, ``tfidf``, ``count`` (raw count
        in the group) and ``paragraphs`` (how many of its paragraphs hold the
        term: 1 means one passage). Groups number fewer than three documents
        give idf values that barely differ: read ``count`` beside ``tfidf``.
    """
    texts = group_texts(pieces, by)
    vectorizer, matrix = fit_tfidf(texts, analyzer, **options)
    terms = vectorizer.get_feature_names_out()
    rows = []
    for i, group in enumerate(texts.index):
        row = matrix.getrow(i).toarray().ravel()
        order = np.lexsort((terms, -row))[:n]
        rows += [{"by": by, "group": group, "rank": r + 1, "term": terms[j], "tfidf": row[j]}
                 for r, j in enumerate(order) if row[j] > 0]
    table = pd.DataFrame(rows)
    if frequencies is not None:
        freq = frequencies[frequencies["by"] == by][["group", "term", "count", "paragraphs"]]
        table = table.merge(freq, on=["group", "term"], how="left")
    return table


def cosine_table(matrix, names: list[str]) -> pd.DataFrame:
    """Cosine similarity of every pair of rows, as a square DataFrame."""
    return pd.DataFrame(cosine_similarity(matrix), index=names, columns=names)


def burrows_delta(pieces: pd.DataFrame, mfw: int = 100) -> pd.DataFrame:
    """Burrows' Delta between pieces on the ``mfw`` most frequent word forms of the corpus.

    Each word's relative frequency in each piece is turned into a z-score over
    the pieces (mean and standard deviation with ddof=1, as in stylo); Delta of
    two pieces is the mean absolute difference of their z-scores (Burrows 2002).

    Returns
    -------
    DataFrame
        Square, indexed by ``doc_id`` both ways; 0 on the diagonal.
    """
    counter = CountVectorizer(analyzer=word_tokens)
    counts = counter.fit_transform(pieces["text"].tolist())
    totals = np.asarray(counts.sum(axis=0)).ravel()
    words = counter.get_feature_names_out()
    top = np.lexsort((words, -totals))[:mfw]
    rel = counts[:, top].toarray() / np.asarray(counts.sum(axis=1))
    sd = rel.std(axis=0, ddof=1)
    z = (rel - rel.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    delta = cdist(z, z, metric="cityblock") / len(top)
    names = pieces["doc_id"].tolist()
    return pd.DataFrame(delta, index=names, columns=names)


def cluster(matrix, metric: str = "cosine", method: str = "average") -> np.ndarray:
    """Hierarchical clustering (SciPy ``linkage``) of the rows of a matrix or a square distance table."""
    if isinstance(matrix, pd.DataFrame) and (matrix.index == matrix.columns).all():
        condensed = matrix.to_numpy()[np.triu_indices(len(matrix), k=1)]
        return linkage(condensed, method=method)
    dense = matrix.toarray() if hasattr(matrix, "toarray") else np.asarray(matrix)
    return linkage(pdist(dense, metric=metric), method=method)


def similarity_pairs(cosine: pd.DataFrame, delta: pd.DataFrame, pieces: pd.DataFrame,
                     columns: tuple[str, ...] = ("author", "role", "file")) -> pd.DataFrame:
    """Long table of every pair of pieces.

    Returns
    -------
    DataFrame
        ``piece_a``, ``piece_b`` (manifest order), ``cosine`` (TF-IDF cosine
        similarity), ``delta`` (Burrows' Delta), and ``same_COLUMN`` (bool) for
        each of ``columns`` found in the pieces table.
    """
    meta = pieces.set_index("doc_id")
    present = [c for c in columns if c in meta]
    rows = []
    for a, b in combinations(pieces["doc_id"], 2):
        row = {"piece_a": a, "piece_b": b, "cosine": cosine.loc[a, b], "delta": delta.loc[a, b]}
        row.update({f"same_{c}": meta.loc[a, c] == meta.loc[b, c] for c in present})
        rows.append(row)
    return pd.DataFrame(rows)


def grouping_test(pairs: pd.DataFrame, pieces: pd.DataFrame, column: str, value: str, *,
                  permutations: int = 999, seed: int = 0) -> dict:
    """Do pieces of the same group score closer than pieces of different groups?

    The statistic is the mean of ``value`` over same-group pairs minus its mean
    over different-group pairs. Its p-value comes from permuting the group
    labels over the pieces (``permutations`` times, seeded), so it makes no
    distributional assumption (a Mantel-type test).

    Returns
    -------
    dict
        ``column``, ``value``, ``within``, ``between``, ``difference``,
        ``p_greater`` and ``p_less`` (one-sided permutation p-values),
        ``same_pairs`` (how many pairs share a group). With no same-group pair
        the statistic is undefined and the values are NaN.
    """
    same = pairs[f"same_{column}"].to_numpy()
    values = pairs[value].to_numpy()
    result = {"column": column, "value": value, "same_pairs": int(same.sum())}
    if same.all() or not same.any():
        return {**result, "within": np.nan, "between": np.nan, "difference": np.nan,
                "p_greater": np.nan, "p_less": np.nan}
    observed = values[same].mean() - values[~same].mean()
    ids = pd.Index(pieces["doc_id"])
    ia, ib = ids.get_indexer(pairs["piece_a"]), ids.get_indexer(pairs["piece_b"])
    rng = np.random.default_rng(seed)
    base = pieces[column].to_numpy()
    stats = np.empty(permutations)
    for k in range(permutations):
        shuffled = rng.permutation(base)
        s = shuffled[ia] == shuffled[ib]
        stats[k] = values[s].mean() - values[~s].mean() if s.any() and not s.all() else 0.0
    return {**result, "within": values[same].mean(), "between": values[~same].mean(), "difference": observed,
            "p_greater": (1 + (stats >= observed).sum()) / (permutations + 1),
            "p_less": (1 + (stats <= observed).sum()) / (permutations + 1)}
