"""How robust key comparisons are: to leaving out any one piece, and to the translation-variant glossary.

A key term of a group (overused against the rest of the corpus, q below
``alpha``) *holds* in a rerun when the rerun finds it overused with q below
``alpha`` again. Reruns drop one piece at a time; a rerun in which the group
loses its last piece does not count for that group.
"""

from __future__ import annotations

import pandas as pd

from .keyness import compare_groups

ALPHA = 0.05


def _holds(table: pd.DataFrame, targets: pd.DataFrame, alpha: float) -> pd.DataFrame:
    rest = table[table["reference"] == "rest"][["group", "term", "g2", "q", "log_ratio"]]
    found = targets[["group", "term"]].merge(rest, on=["group", "term"], how="left")
    found["holds"] = (found["g2"] > 0) & (found["q"] < alpha)
    return found


def leave_one_out(tokens: pd.DataFrame, pieces: pd.DataFrame, by: str, targets: pd.DataFrame, *,
                  alpha: float = ALPHA, progress=None) -> pd.DataFrame:
    """Rerun the group-against-rest keyness of ``by`` without each piece in turn.

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
    groups = pieces.set_index("doc_id")[by] if by != "doc_id" else pieces.set_index("doc_id")["doc_id"]
    results = {(g, t): {"runs": 0, "held": 0, "breaking": [], "ratios": []}
               for g, t in zip(targets["group"], targets["term"])}
    doc_ids = list(pieces["doc_id"])
    for doc_id in (progress(doc_ids) if progress else doc_ids):
        kept = pieces[pieces["doc_id"] != doc_id]
        table = compare_groups(tokens[tokens["doc_id"] != doc_id], kept, by)
        remaining = set(groups.drop(doc_id))
        for row in _holds(table, targets, alpha).itertuples(index=False):
            if row.group not in remaining:
                continue
            entry = results[(row.group, row.term)]
            entry["runs"] += 1
            if row.holds:
                entry["held"] += 1
                entry["ratios"].append(row.log_ratio)
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
