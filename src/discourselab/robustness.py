"""How robust key comparisons are: to leaving out any one piece, and to the translation-variant glossary.

A key term of a group (overused against the rest of the corpus, q below
``alpha``) *holds* in a rerun when the rerun finds it overused with q below
``alpha`` again. Reruns drop one piece at a time; a rerun in which the group
loses its last piece does not count for that group.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .frequency import group_of
from .keyness import bh_limit, chi2_sf_1, compare_groups, log_likelihood, log_ratio
from .similarity import term_counts
from .text import rereadable, table_parts

ALPHA = 0.05


def _holds(table: pd.DataFrame, targets: pd.DataFrame, alpha: float) -> pd.DataFrame:
    rest = table[table["reference"] == "rest"][["group", "term", "g2", "q", "log_ratio"]]
    found = targets[["group", "term"]].merge(rest, on=["group", "term"], how="left")
    found["holds"] = (found["g2"] > 0) & (found["q"] < alpha)
    return found


def leave_one_out(tokens, pieces: pd.DataFrame, by: str, targets: pd.DataFrame, *,
                  alpha: float = ALPHA, min_count: int = 3, progress=None) -> pd.DataFrame:
    """Rerun the group-against-rest keyness of ``by`` without each piece in turn.

    Each rerun is what :func:`~discourselab.keyness.compare_groups` would give on
    the corpus without that piece (the same G2, the same Benjamini-Hochberg q
    over every term tested, with ``min_count`` as there), computed from the
    pieces' term counts by subtraction, so a corpus of thousands of pieces costs
    seconds.

    A rerun computes G2 for the targets alone as long as it can. A target whose
    p-value times the number of terms tested is below ``alpha`` is rejected by
    Benjamini-Hochberg whatever the other terms' p-values (its q is at most that
    product), and one with p at or above ``alpha`` never is. Only a group with a
    target between the two needs every term's p-value, and only in that rerun.

    Parameters
    ----------
    tokens : DataFrame or iterable of DataFrame
        The token table or the count table, or its parts (as for :func:`~discourselab.similarity.term_counts`).
    pieces : DataFrame
        The pieces.
    by : str
        The grouping column.
    targets : DataFrame
        ``group`` and ``term``: the key terms to check.
    alpha : float
        q-value threshold.
    progress : callable, optional
        Wraps the iterable of pieces (e.g. a tqdm bar).

    Returns
    -------
    DataFrame
        One row per target: ``group``, ``term``, ``runs`` (reruns in which the
        group still has a piece), ``held`` (of those, reruns where the term is
        still key), ``breaking`` (pieces whose removal loses it, ";"-joined),
        ``log_ratio_min`` and ``log_ratio_max`` over the reruns that found it.
    """
    targets = targets[["group", "term"]].drop_duplicates()
    ids = pieces["doc_id"]
    tokens = rereadable(tokens)  # read twice
    # pieces x terms, sparse: a corpus of thousands of pieces stays small
    # whole numbers, kept as counted (no float copy): each piece's row is made float when it is read
    counts, _, terms = term_counts(tokens, pd.Series(ids.to_numpy(), index=ids), order=ids.tolist())
    words = (pd.concat([part.groupby("doc_id", observed=True)["words"].sum() for part in table_parts(tokens)])
             .groupby(level=0, observed=True).sum().reindex(ids, fill_value=0).to_numpy(float))
    doc_groups = group_of(pieces, by).reindex(ids).to_numpy()
    checked = list(dict.fromkeys(g for g in targets["group"] if g in set(doc_groups)))  # groups with pieces
    row_of = {g: r for r, g in enumerate(checked)}
    column = {t: i for i, t in enumerate(terms)}
    target_row = np.array([row_of.get(g, -1) for g in targets["group"]], dtype=int)
    target_col = np.array([column.get(t, -1) for t in targets["term"]], dtype=int)
    owner = np.array([row_of.get(g, -1) for g in doc_groups], dtype=int)  # each piece's checked group, or -1
    member = np.zeros((len(checked), len(ids)))
    member[owner[owner >= 0], np.flatnonzero(owner >= 0)] = 1.0
    group_counts = np.asarray((counts.T @ member.T).T).reshape(len(checked), len(terms))
    group_words, group_pieces = member @ words, member.sum(axis=1)
    total, total_words = np.asarray(counts.sum(axis=0), dtype=float).ravel(), float(words.sum())
    aimed = np.flatnonzero((target_row >= 0) & (target_col >= 0))  # targets with a group and a count
    rows, cols = target_row[aimed], target_col[aimed]
    # per target, added up over the reruns: nothing per piece and target is kept but the breaking pieces
    runs, held = np.zeros(len(targets), int), np.zeros(len(targets), int)
    low, high = np.full(len(targets), np.nan), np.full(len(targets), np.nan)
    breaking: list[list[str]] = [[] for _ in range(len(targets))]
    doc_ids = ids.to_numpy()
    for i in progress(range(len(ids))) if progress else range(len(ids)):
        piece = counts[i].toarray().ravel().astype(float)
        o = owner[i]
        all_counts = total - piece
        n1 = group_words.copy()
        if o >= 0:
            n1[o] -= words[i]
        n2 = total_words - words[i] - n1
        tested = all_counts >= max(min_count, 1)
        m = int(tested.sum())
        left = ~((np.arange(len(checked)) == o) & (group_pieces == 1))  # groups that still have a piece
        ran = (target_row >= 0) & left[np.maximum(target_row, 0)]
        a = group_counts[rows, cols] - np.where(rows == o, piece[cols], 0)
        b = all_counts[cols] - a
        p = chi2_sf_1(log_likelihood(a, b, n1[rows], n2[rows]))
        # BH: q <= p * m, so p * m below alpha is rejected whatever the rest; p at or above alpha never is
        rejected = tested[cols] & (p * m < alpha)
        unsure = tested[cols] & ~rejected & (p < alpha) & left[rows]
        unsure_rows = np.unique(rows[unsure])
        if len(unsure_rows):  # every tested term's p-value, in these groups only
            row_a = group_counts[unsure_rows][:, tested] - np.outer(unsure_rows == o, piece[tested])
            row_p = chi2_sf_1(log_likelihood(row_a, all_counts[tested] - row_a, n1[unsure_rows, None],
                                             n2[unsure_rows, None]))
            limit = np.full(len(checked), -np.inf)
            limit[unsure_rows] = [bh_limit(np.sort(ps[ps < alpha]), m, alpha) for ps in row_p]
            rejected |= unsure & (p <= limit[rows])
        with np.errstate(divide="ignore", invalid="ignore"):  # a group without its only piece has no words
            found = rejected & left[rows] & (a / n1[rows] > b / n2[rows])
        kept = np.zeros(len(targets), bool)
        kept[aimed[found]] = True
        ratio = log_ratio(a[found], b[found], n1[rows][found], n2[rows][found])
        low[aimed[found]] = np.fmin(low[aimed[found]], ratio)  # fmin, fmax: NaN (none yet) gives way
        high[aimed[found]] = np.fmax(high[aimed[found]], ratio)
        runs += ran
        held += kept
        for j in np.flatnonzero(ran & ~kept):
            breaking[j].append(doc_ids[i])
    return pd.DataFrame({
        "group": targets["group"].to_numpy(), "term": targets["term"].to_numpy(), "runs": runs, "held": held,
        "breaking": [";".join(b) for b in breaking], "log_ratio_min": low, "log_ratio_max": high,
    }, columns=["group", "term", "runs", "held", "breaking", "log_ratio_min", "log_ratio_max"])


def glossary_check(plain: pd.DataFrame, pieces: pd.DataFrame, by: str, targets: pd.DataFrame, *,
                   alpha: float = ALPHA) -> pd.DataFrame:
    """Whether each key term is still key when the glossary is off.

    Parameters
    ----------
    plain : DataFrame
        The token or count table made without the glossary, or its keyness
        table for ``by`` (from :func:`~discourselab.keyness.compare_groups`,
        e.g. a cached ``Study.keyness``), which gives the same answer without
        the counts.

    Returns
    -------
    DataFrame
        ``group``, ``term``, ``holds_without_glossary``, ``log_ratio_without_glossary``.
    """
    keyness = plain if "reference" in plain else compare_groups(plain, pieces, by)
    found = _holds(keyness[keyness["by"] == by], targets, alpha)
    return found.rename(columns={"holds": "holds_without_glossary", "log_ratio": "log_ratio_without_glossary"})[
        ["group", "term", "holds_without_glossary", "log_ratio_without_glossary"]]
