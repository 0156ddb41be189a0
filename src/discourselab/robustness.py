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
from .keyness import compare_groups, g2_test, log_ratio

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
        The token table and the pieces.
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
    kept = tokens.loc[tokens["term"].notna(), ["doc_id", "term"]]
    per_piece = kept.groupby(["doc_id", "term"], observed=True).size().unstack(fill_value=0)
    per_piece = per_piece.reindex(pieces["doc_id"], fill_value=0)
    words = tokens.groupby("doc_id", observed=True)["words"].sum().reindex(pieces["doc_id"], fill_value=0)
    terms = per_piece.columns
    counts = per_piece.to_numpy(dtype=float)
    doc_groups = groups.reindex(pieces["doc_id"]).to_numpy()
    names = sorted(set(doc_groups))
    group_counts = {g: counts[doc_groups == g].sum(axis=0) for g in names}
    group_words = {g: float(words[doc_groups == g].sum()) for g in names}
    group_pieces = {g: int((doc_groups == g).sum()) for g in names}
    total, total_words = counts.sum(axis=0), float(words.sum())
    column = {t: i for i, t in enumerate(terms)}
    wanted = {}
    for g, t in zip(targets["group"], targets["term"]):
        wanted.setdefault(g, []).append(t)
    results = {(g, t): {"runs": 0, "held": 0, "breaking": [], "ratios": []}
               for g, t in zip(targets["group"], targets["term"])}
    rows = list(enumerate(pieces["doc_id"]))
    for row, doc_id in (progress(rows) if progress else rows):
        dropped_group = doc_groups[row]
        for g, target_terms in wanted.items():
            if g not in group_counts or (g == dropped_group and group_pieces[g] == 1):
                continue  # the group has no piece left in this rerun
            a = group_counts[g] - (counts[row] if g == dropped_group else 0)
            n1 = group_words[g] - (float(words.iloc[row]) if g == dropped_group else 0)
            all_counts = total - counts[row]
            b, n2 = all_counts - a, total_words - float(words.iloc[row]) - n1
            tested = (a + b) >= max(min_count, 1)
            g2, _, q = g2_test(a[tested], b[tested], n1, n2)  # only what a rerun needs
            stats = {"g2": g2, "q": q, "log_ratio": log_ratio(a[tested], b[tested], n1, n2)}
            index = np.full(len(terms), -1)
            index[tested] = np.arange(int(tested.sum()))
            for t in target_terms:
                entry = results[(g, t)]
                entry["runs"] += 1
                i = index[column[t]] if t in column else -1
                if i >= 0 and stats["g2"][i] > 0 and stats["q"][i] < alpha:
                    entry["held"] += 1
                    entry["ratios"].append(float(stats["log_ratio"][i]))
                else:
                    entry["breaking"].append(doc_id)
    return pd.DataFrame([
        {"group": g, "term": t, "runs": e["runs"], "held": e["held"], "breaking": ";".join(e["breaking"]),
         "log_ratio_min": min(e["ratios"], default=float("nan")),
         "log_ratio_max": max(e["ratios"], default=float("nan"))}
        for (g, t), e in results.items()
    ], columns=["group", "term", "runs", "held", "breaking", "log_ratio_min", "log_ratio_max"])


def glossary_check(plain_tokens: pd.DataFrame, pieces: pd.DataFrame, by: str, targets: pd.DataFrame, *,
                   alpha: float = ALPHA) -> pd.DataFrame:
    """Whether each key term is still key when the glossary is off (``plain_tokens``).

    Returns
    -------
    DataFrame
        ``group``, ``term``, ``holds_without_glossary``, ``log_ratio_without_glossary``.
    """
    found = _holds(compare_groups(plain_tokens, pieces, by), targets, alpha)
    return found.rename(columns={"holds": "holds_without_glossary", "log_ratio": "log_ratio_without_glossary"})[
        ["group", "term", "holds_without_glossary", "log_ratio_without_glossary"]]
