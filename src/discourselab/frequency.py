"""Term frequencies for any grouping, with dispersion.

Every function takes the tidy token table (see
:meth:`discourselab.text.TextPipeline.token_table`) and the pieces table (for
the manifest column to group by), and returns a long table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FREQUENCY_COLUMNS = ["by", "group", "term", "count", "per_1000", "pieces", "paragraphs", "dp", "dp_norm"]


def paragraph_counts(tokens: pd.DataFrame) -> pd.DataFrame:
    """Count of each term in each paragraph: ``doc_id``, ``paragraph_id``, ``term``, ``count``."""
    kept = tokens.loc[tokens["term"].notna(), ["doc_id", "paragraph_id", "term"]]
    counts = kept.groupby(["doc_id", "paragraph_id", "term"], observed=True, sort=True).size()
    return counts.rename("count").reset_index()


def paragraph_sizes(tokens: pd.DataFrame) -> pd.DataFrame:
    """Running words of each paragraph: ``doc_id``, ``paragraph_id``, ``words``."""
    sizes = tokens.groupby(["doc_id", "paragraph_id"], observed=True, sort=True)["words"].sum()
    return sizes.reset_index()


def plain(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with categorical columns (as in the token table) turned back into plain values."""
    categorical = [c for c in table.columns if isinstance(table[c].dtype, pd.CategoricalDtype)]
    if not categorical:
        return table
    return table.assign(**{c: table[c].astype(table[c].cat.categories.dtype) for c in categorical})


def in_groups(doc_ids: pd.Series, groups: pd.Series) -> pd.Series:
    """The group of each row's piece, as plain values (``groups`` as from :func:`group_of`)."""
    values = doc_ids.map(groups)
    if isinstance(values.dtype, pd.CategoricalDtype):  # a one-to-one mapping keeps the categories
        values = values.astype(values.cat.categories.dtype)
    return values


def group_of(pieces: pd.DataFrame, by: str) -> pd.Series:
    """The group of each piece (index ``doc_id``); an empty value becomes "(missing)"."""
    groups = pieces.set_index("doc_id")[by] if by != "doc_id" else pieces.set_index("doc_id", drop=False)["doc_id"]
    return groups.astype(str).replace("", "(missing)")


def gries_dp(counts: pd.DataFrame, sizes: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Gries' DP (deviation of proportions) of each term over parts.

    DP = 0.5 * sum_i |v_i - s_i|, where s_i is part i's share of all words and
    v_i its share of the term's occurrences (Gries 2008). 0 means the term is
    spread exactly as the parts' sizes predict; values near 1, that it is
    concentrated in a few small parts. ``dp_norm`` divides by 1 - min(s_i), the
    largest value DP can take (Lijffijt and Gries 2012).

    Parameters
    ----------
    counts : DataFrame
        ``keys``, ``part``, ``term``, ``count`` (one row per term present in a part).
    sizes : DataFrame
        ``keys``, ``part``, ``words`` (one row per part, including parts without the term).
    keys : list of str
        Columns identifying the set of parts (e.g. ``["group"]``); DP is computed within each.

    Returns
    -------
    DataFrame
        ``keys``, ``term``, ``dp``, ``dp_norm``.
    """
    total_words = sizes.groupby(keys)["words"].transform("sum")
    sizes = sizes.assign(share=sizes["words"] / total_words)
    min_share = sizes.groupby(keys)["share"].min().rename("min_share")
    merged = counts.merge(sizes[[*keys, "part", "share"]], on=[*keys, "part"], how="left")
    merged["v"] = merged["count"] / merged.groupby([*keys, "term"])["count"].transform("sum")
    merged["diff"] = (merged["v"] - merged["share"]).abs()
    summed = merged.groupby([*keys, "term"]).agg(diff=("diff", "sum"), share=("share", "sum"))
    # parts without the term contribute |0 - s_i| = s_i: 1 - (sum of present shares)
    dp = 0.5 * (summed["diff"] + 1.0 - summed["share"])
    table = dp.clip(lower=0.0).rename("dp").reset_index()
    table = table.merge(min_share.reset_index(), on=keys)
    table["dp_norm"] = np.where(table["min_share"] < 1, table["dp"] / (1 - table["min_share"]), 0.0)
    return table.drop(columns="min_share")


def count_terms(tokens: pd.DataFrame, pieces: pd.DataFrame, by: str = "author") -> pd.DataFrame:
    """Counts, rates and dispersion of every term in every group.

    Parameters
    ----------
    tokens : DataFrame
        The token table.
    pieces : DataFrame
        With ``doc_id`` and the column ``by``.
    by : str
        A manifest column, or ``doc_id`` for single pieces.

    Returns
    -------
    DataFrame
        ``by`` (the column's name), ``group``, ``term``, ``count``, ``per_1000``
        (count per 1,000 running words of the group, stop words included),
        ``pieces`` and ``paragraphs`` (how many of the group's pieces and
        paragraphs hold the term), ``dp`` (Gries' DP over the group's
        paragraphs) and ``dp_norm`` (DP / (1 - smallest paragraph share)).
        Sorted by group, then count (descending), then term.
    """
    groups = group_of(pieces, by)
    counts = paragraph_counts(tokens).assign(group=lambda t: in_groups(t["doc_id"], groups))
    sizes = paragraph_sizes(tokens).assign(group=lambda t: in_groups(t["doc_id"], groups))
    words = sizes.groupby("group")["words"].sum()
    table = counts.groupby(["group", "term"]).agg(
        count=("count", "sum"), pieces=("doc_id", "nunique"), paragraphs=("paragraph_id", "nunique")
    ).reset_index()
    table["per_1000"] = 1000 * table["count"] / table["group"].map(words)
    dp = gries_dp(counts.rename(columns={"paragraph_id": "part"}), sizes.rename(columns={"paragraph_id": "part"}),
                  ["group"])
    table = table.merge(dp, on=["group", "term"], how="left").assign(by=by)
    table = table.sort_values(["group", "count", "term"], ascending=[True, False, True], kind="stable")
    return plain(table[FREQUENCY_COLUMNS].reset_index(drop=True))


def group_words(tokens: pd.DataFrame, pieces: pd.DataFrame, by: str) -> pd.Series:
    """Running words per group (stop words included), indexed by group."""
    groups = group_of(pieces, by)
    return tokens.groupby(in_groups(tokens["doc_id"], groups))["words"].sum().rename("words")


def top_terms(frequencies: pd.DataFrame, n: int = 10, by: str | None = None) -> pd.DataFrame:
    """The ``n`` most frequent terms of each group (ties broken alphabetically)."""
    table = frequencies if by is None else frequencies[frequencies["by"] == by]
    ordered = table.sort_values(["group", "per_1000", "term"], ascending=[True, False, True], kind="stable")
    return ordered.groupby("group", sort=False).head(n).reset_index(drop=True)


def stream_frequencies(manifest_path, by: str = "author", *, settings=None, rules_path="auto", n_jobs: int = 1,
                       progress=None) -> pd.DataFrame:
    """Counts and rates of every term in every group, for a corpus too large to hold in memory.

    The texts are read one file at a time (:func:`discourselab.corpus.iter_paragraphs`)
    and counted in batches (:meth:`discourselab.text.TextPipeline.count_by`), so
    memory grows with the number of groups times the vocabulary, not with the
    corpus. The counts and rates are those of :func:`count_terms`; the
    dispersion columns, which need every paragraph's counts, are left out.

    Parameters
    ----------
    manifest_path : str or Path
    by : str
        A manifest column, or ``doc_id`` for single pieces.
    settings : discourselab.text.Settings, optional
        Text settings (default: the defaults).
    rules_path : str, Path, None or "auto"
        Exclusion rules, as for :func:`discourselab.corpus.load_corpus`.
    n_jobs : int
        Processes for the counting (-1: one per core).
    progress : callable, optional
        Wraps the stream of paragraphs (e.g. a tqdm bar).

    Returns
    -------
    DataFrame
        ``by``, ``group``, ``term``, ``count``, ``per_1000``, sorted by group,
        then count (descending), then term.

    Raises
    ------
    CorpusError
        On bad input (see :func:`discourselab.corpus.load_corpus`) or a ``by``
        that is not a manifest column.
    """
    from .corpus import LAYOUT_COLUMNS, iter_paragraphs, read_manifest
    from .errors import CorpusError
    from .text import Settings, TextPipeline, count_words

    manifest = read_manifest(manifest_path)
    allowed = [c for c in manifest.columns if c not in LAYOUT_COLUMNS and c != "csv_line"]
    if by not in allowed:
        raise CorpusError(f"manifest {manifest_path} has no column {by!r} to group by "
                          f"(choose from: {', '.join(allowed)})")
    group = dict(zip(manifest["doc_id"], manifest[by].replace("", "(missing)")))
    words: dict[str, int] = {}

    def labelled():
        for doc_id, text in iter_paragraphs(manifest_path, rules_path):
            label = group[doc_id]
            words[label] = words.get(label, 0) + count_words(text)
            yield label, text

    pipeline = TextPipeline(settings or Settings())
    counts, labels, vocabulary = pipeline.count_by(labelled(), n_jobs=n_jobs, progress=progress)
    counts = counts.tocoo()
    labels = np.asarray(labels, dtype=object)
    table = pd.DataFrame({"by": by, "group": labels[counts.row], "term": vocabulary[counts.col],
                          "count": counts.data})
    table["per_1000"] = 1000 * table["count"] / table["group"].map(words)
    table = table.sort_values(["group", "count", "term"], ascending=[True, False, True], kind="stable")
    return table.reset_index(drop=True)
