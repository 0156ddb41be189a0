"""Candidate multiword expressions, proposed by collocation statistics for a person to accept."""

from __future__ import annotations

import pandas as pd
from nltk.collocations import BigramCollocationFinder
from nltk.metrics import BigramAssocMeasures

MEASURES = {
    "likelihood_ratio": BigramAssocMeasures.likelihood_ratio,
    "pmi": BigramAssocMeasures.pmi,
    "dice": BigramAssocMeasures.dice,
}


def term_runs(tokens: pd.DataFrame) -> list[list[str]]:
    """Runs of consecutive counted terms; a stop word, number or paragraph end breaks a run."""
    runs: list[list[str]] = []
    current: list[str] = []
    last_paragraph = None
    for paragraph, term in tokens[["paragraph_id", "term"]].itertuples(index=False):
        if paragraph != last_paragraph or term is None or term != term:  # NaN check
            if len(current) > 1:
                runs.append(current)
            current = []
            last_paragraph = paragraph
        if term is not None and term == term:
            current.append(term)
    if len(current) > 1:
        runs.append(current)
    return runs


def propose_phrases(tokens: pd.DataFrame, *, measure: str = "likelihood_ratio", min_count: int = 3,
                    n: int = 25) -> pd.DataFrame:
    """Adjacent term pairs that occur together more than chance, as phrase candidates.

    Uses NLTK's ``BigramCollocationFinder`` over runs of counted terms (a stop
    word breaks a run, so no candidate spans one). Terms that are already
    phrases are single tokens here, so the candidates are new.

    Returns
    -------
    DataFrame
        ``candidate`` (the two terms, space-joined), ``count`` and ``score``
        (the association ``measure``: likelihood_ratio, pmi or dice), best first.
    """
    finder = BigramCollocationFinder.from_documents(term_runs(tokens))
    finder.apply_freq_filter(min_count)
    scored = finder.score_ngrams(MEASURES[measure])
    rows = [{"candidate": " ".join(pair), "count": finder.ngram_fd[pair], "score": score} for pair, score in scored]
    table = pd.DataFrame(rows, columns=["candidate", "count", "score"])
    return table.sort_values(["score", "candidate"], ascending=[False, True], kind="stable").head(n).reset_index(drop=True)
