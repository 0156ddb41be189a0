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
from .keyness import bh_rejects, chi2_sf_1, compare_groups, log_likelihood, log_ratio
from .similarity import term_counts

ALPHA = 0.05


def _holds(table: pd.DataFrame, targets: pd.DataFrame, alpha: float) -> pd.DataFrame:
    rest = table[table["reference"] == "rest"][["group", "term", "g2", "q", "log_ratio"]]
    found = targets[["group", "term"]].merge(rest, on=["group", "term"], how="left")
    found["holds"] = (found["g2"] > 0) & (found["q"] < alpha)
    return found


def leave_one_out(tokens: pd.DataFrame, pieces: pd.DataFrame, by: str, targets: pd.DataFrame, *,
                  alpha: float = ALPHA, min_count: int = 3, progress=None) -> pd.DataFrame:
    """Rerun the group-against-rest keyness of ``by`` without each piece in turn.

    Each rerun is what :func:`~discourselab.keyness.compare_groups` would give on
    the corpus without that piece (the same G2, the same Benjamini-Hochberg q
    over every term tested, with ``min_count`` as there), computed from the
    pieces' term counts by subtraction, so a corpus of hundreds of pieces costs
    seconds.

    Parameters
    ----------
    tokens, pieces : DataFrame
        The token table (or the count table) and the pieces.
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
    groups = group_of(pieces, by)
    ids = pieces["doc_id"]
    # pieces x terms, sparse: a corpus of thousands of pieces stays small
    per_piece, _, terms = term_counts(tokens, pd.Series(ids.to_numpy(), index=ids), order=ids.tolist())
    counts = per_piece.astype(float).tocsr()
    words = tokens.groupby("doc_id", observed=True)["words"].sum().reindex(ids, fill_value=0)
    doc_groups = groups.reindex(pieces["doc_id"]).to_numpy()
    wanted: dict[str, list[str]] = {}
    for g, t in zip(targets["group"], targets["term"]):
        wanted.setdefault(g, []).append(t)
    results = {(g, t): {"runs": 0, "held": 0, "breaking": [], "ratios": []}
               for g, t in zip(targets["group"], targets["term"])}
    checked = [g for g in wanted if g in set(doc_groups)]  # groups with pieces and key terms to check
    member = np.array([doc_groups == g for g in checked], dtype=bool).reshape(len(checked), len(doc_groups))
    group_counts = np.asarray((counts.T @ member.T.astype(float)).T)  # checked groups x terms
    group_words = member.astype(float) @ words.to_numpy(dtype=float)
    group_pieces = member.sum(axis=1)
    total, total_words = np.asarray(counts.sum(axis=0)).ravel(), float(words.sum())
    column = {t: i for i, t in enumerate(terms)}
    rows = list(enumerate(ids))
    for row, doc_id in (progress(rows) if progress else rows):
        # every checked group at once: only the group that loses this piece changes
        left = ~(member[:, row] & (group_pieces == 1))  # groups that still have a piece in this rerun
        piece = counts[row].toarray().ravel()
        all_counts = total - piece
        tested = all_counts >= max(min_count, 1)
        a = group_counts[left][:, tested] - np.outer(member[left, row], piece[tested])
        n1 = (group_words[left] - member[left, row] * float(words.iloc[row]))[:, None]
        b, n2 = all_counts[tested] - a, total_words - float(words.iloc[row]) - n1
        # only what a rerun needs: the BH decision within each group's terms, and the targets' sign and ratio
        rejected = bh_rejects(chi2_sf_1(log_likelihood(a, b, n1, n2)), alpha)
        index = np.full(len(terms), -1)
        index[tested] = np.arange(int(tested.sum()))
        for r, g in enumerate(g for g, kept in zip(checked, left) if kept):
            for t in wanted[g]:
                entry = results[(g, t)]
                entry["runs"] += 1
                i = index[column[t]] if t in column else -1
                if i >= 0 and rejected[r, i] and a[r, i] / n1[r, 0] > b[r, i] / n2[r, 0]:
                    entry["held"] += 1
                    entry["ratios"].append(float(log_ratio(a[r, i], b[r, i], n1[r, 0], n2[r, 0])))
                else:
                    entry["breaking"].append(doc_id)
    return pd.DataFrame([
        {"group": g, "term": t, "runs": e["runs"], "held": e["held"], "breaking": ";".join(e["breaking"]),
         "log_ratio_min": min(e["ratios"], default=float("nan")),
         "log_ratio_max": max(e["ratios"], default=float("nan"))}
        for (g, t), e in results.items()
    ], columns=["group", "term", "runs", "held", "breaking", "log_ratio_min", "log_ratio_max"])


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
