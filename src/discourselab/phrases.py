"""Candidate multiword expressions, proposed by collocation statistics for a person to accept."""

from __future__ import annotations

import math
from itertools import takewhile

import pandas as pd
from nltk.collocations import BigramCollocationFinder
from nltk.metrics import BigramAssocMeasures
from nltk.probability import FreqDist

from .frequency import sum_by_key
from .text import run_pair_keys, split_pair_keys

MEASURES = {
    "likelihood_ratio": BigramAssocMeasures.likelihood_ratio,
    "pmi": BigramAssocMeasures.pmi,
    "dice": BigramAssocMeasures.dice,
}


def run_pairs(tokens: pd.DataFrame) -> pd.DataFrame:
    """What NLTK's bigram finder counts in the runs of consecutive counted terms, as a table.

    A run is broken by a stop word, a number or a paragraph's end. Each term of
    a run of two or more is one row's ``first``, with the term after it in the
    run as ``second`` (missing at the run's end, where NLTK pads the run).

    Parameters
    ----------
    tokens : DataFrame
        The token table, in corpus order.

    Returns
    -------
    DataFrame
        ``first``, ``second`` (categoricals with the token table's terms as
        categories), ``count``; sorted by ``first``, then ``second``. The
        same table as :meth:`~discourselab.text.TextPipeline.count_table` gives.
    """
    term = tokens["term"].astype("category")
    paragraph = tokens["paragraph_id"].astype("category").cat.codes.to_numpy()
    keys, count = sum_by_key(run_pair_keys(paragraph, term.cat.codes.to_numpy()))
    first, second = split_pair_keys(keys)
    return pd.DataFrame({"first": pd.Categorical.from_codes(first, categories=term.cat.categories),
                         "second": pd.Categorical.from_codes(second, categories=term.cat.categories),
                         "count": count})


def propose_phrases(tokens: pd.DataFrame, *, measure: str = "likelihood_ratio", min_count: int = 3,
                    n: int = 25) -> pd.DataFrame:
    """Adjacent term pairs that occur together more than chance, as phrase candidates.

    Uses NLTK's ``BigramCollocationFinder`` over runs of counted terms (a stop
    word breaks a run, so no candidate spans one). Terms that are already
    phrases are single tokens here, so the candidates are new.

    Parameters
    ----------
    tokens : DataFrame
        The token table, or its run pairs (:func:`run_pairs`, or the pairs of
        :meth:`~discourselab.text.TextPipeline.count_table`): the finder gets
        the same counts from either.

    Returns
    -------
    DataFrame
        ``candidate`` (the two terms, space-joined), ``count`` and ``score``
        (the association ``measure``: likelihood_ratio, pmi or dice), best first.
    """
    pairs = tokens if "first" in tokens else run_pairs(tokens)
    first, second = pairs["first"].astype(object), pairs["second"].astype(object)
    words = FreqDist({w: int(c) for w, c in pairs.groupby(first, observed=True)["count"].sum().items()})
    linked = second.notna()
    bigrams = FreqDist({pair: int(c) for pair, c in zip(zip(first[linked], second[linked]), pairs["count"][linked])})
    finder = BigramCollocationFinder(words, bigrams)
    finder.apply_freq_filter(min_count)
    scored = finder.score_ngrams(MEASURES[measure])  # best first
    if 0 < n < len(scored) and not math.isnan(scored[n - 1][1]):
        # only the best n and the pairs tied with the last of them become rows: on a large corpus every pair
        # passes the count filter (at 31M words 160,881 pairs, 70 MB of rows for 15 candidates)
        scored = list(takewhile(lambda scored_pair: scored_pair[1] >= scored[n - 1][1], scored))
    rows = [{"candidate": " ".join(pair), "count": finder.ngram_fd[pair], "score": score} for pair, score in scored]
    table = pd.DataFrame(rows, columns=["candidate", "count", "score"])
    return table.sort_values(["score", "candidate"], ascending=[False, True], kind="stable").head(n).reset_index(drop=True)
