"""Term frequencies for any grouping, with dispersion.

Every function takes the tidy token table (see
:meth:`discourselab.text.TextPipeline.token_table`) or the smaller count table
made from it (:meth:`~discourselab.text.TextPipeline.count_table`), and the
pieces table (for the manifest column to group by), and returns a long table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .text import rereadable, table_parts

#: Rows of the token or count table above which :func:`group_terms` counts a batch of pieces at a time.
GROUP_ROWS = 2_000_000

FREQUENCY_COLUMNS = ["by", "group", "term", "count", "per_1000", "pieces", "paragraphs", "dp", "dp_norm"]


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


def row_counts(tokens: pd.DataFrame, dtype=np.int64) -> np.ndarray:
    """How many tokens each row stands for: its ``count`` in a count table, 1 in the token table."""
    return tokens["count"].to_numpy(dtype) if "count" in tokens else np.ones(len(tokens), dtype=dtype)


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


def _sorted_codes(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes (-1: missing; in the column's own dtype) of a column, and its distinct values in sorted order."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype("category")
    elif not column.cat.categories.is_monotonic_increasing:
        column = column.cat.reorder_categories(column.cat.categories.sort_values())
    return column.cat.codes.to_numpy(), column.cat.categories


def sum_by_key(keys: np.ndarray, *weights: np.ndarray) -> tuple[np.ndarray, ...]:
    """The distinct keys of an integer array (sorted), how often each occurs, and the sum of each of ``weights``.

    A sort and a comparison of neighbours: for the tens of millions of keys of a
    large corpus this is several times faster than ``np.unique``'s hash table.
    """
    if weights:
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
    else:
        keys = np.sort(keys)
    first = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.zeros(0, np.intp)
    sums = [np.add.reduceat(np.asarray(w)[order].astype(np.int64), first) if len(first) else np.zeros(0, np.int64)
            for w in weights]
    return (keys[first], np.diff(np.r_[first, len(keys)]), *sums)


def group_terms(tokens, groups: pd.Series, dispersion: bool = False,
                only=None) -> tuple[pd.DataFrame, pd.Series]:
    """Per group and term: occurrences, and how many paragraphs and pieces hold the term.

    Counted on the token table's integer codes (a sort of the paragraph-term
    pairs), so the cost grows with the number of tokens, not with the number
    of paragraphs times terms. A table of more than ``GROUP_ROWS`` rows is
    counted a batch of whole pieces at a time (about ``GROUP_ROWS`` rows each),
    and the batches' counts are added up: the same table, while the working
    arrays (about 100 bytes per row at once) are those of one batch, however
    large a group is. Dispersion then takes a second pass over the batches, as
    it needs each group's totals first.

    Parameters
    ----------
    tokens : DataFrame or iterable of DataFrame
        The token table (``doc_id``, ``paragraph_id``, ``term``, ``words``),
        or the count table (the same with ``count``; see
        :meth:`~discourselab.text.TextPipeline.count_table`): the result is the same.
        Or parts of one such table, one after another, each holding whole
        pieces and sharing the table's ``doc_id`` and ``term`` categories (e.g.
        :meth:`~discourselab.study.Study.count_parts`): each part is then a
        batch, read once (twice with ``dispersion``).
    groups : Series
        The group of each piece, indexed by ``doc_id`` (as from :func:`group_of`);
        tokens of pieces without a group are left out.
    dispersion : bool
        Add ``dp`` and ``dp_norm``: Gries' DP over the group's paragraphs, as
        :func:`gries_dp` computes it.
    only : collection of str, optional
        Rows for these terms only: the same rows as without it, the others left
        out, and no copy of the table's rows is made to choose them.

    Returns
    -------
    table : DataFrame
        One row per group and term that occurs in it, sorted by group, then
        term: ``group`` and ``term`` (categoricals with sorted categories),
        ``count``, ``pieces``, ``paragraphs`` (and ``dp``, ``dp_norm``).
    words : Series
        Running words per group (stop words included), for the groups with tokens.
    """
    if isinstance(tokens, pd.DataFrame):
        columns, docs, terms = _code_columns(tokens)
        bounds = _piece_batches(columns["doc"], len(docs))

        def batches():  # each batch's columns: a batch of whole pieces of the table
            for b in bounds:
                rows = None if b is None else (columns["doc"] >= b[0]) & (columns["doc"] < b[1])
                yield {k: v if rows is None or v is None else v[rows] for k, v in columns.items()}
    else:
        tokens = rereadable(tokens)
        first = next(iter(tokens), None)
        if first is None:
            raise ValueError("group_terms was given no parts of a table")
        _, docs, terms = _code_columns(first)
        del first
        bounds = None

        def batches():  # each part is a batch
            for part in tokens:
                found, part_docs, part_terms = _code_columns(part)
                if not (part_docs.equals(docs) and part_terms.equals(terms)):
                    raise ValueError("the parts of a table must share its doc_id and term categories")
                yield found
    named = groups.reindex(docs)
    names = pd.Index(sorted(set(named.dropna())), dtype=groups.dtype)
    doc_group = names.get_indexer(named).astype(np.int64)
    # whether each term code is counted; code -1 (stop words, numbers) picks the last: never
    wanted = np.append(np.ones(len(terms), bool) if only is None else terms.isin(list(only)), False)

    def pairs_of(batch) -> _Pairs:
        return _Pairs(*batch.values(), doc_group=doc_group, wanted=wanted)

    whole = pairs_of(next(batches())) if bounds == [None] else None  # one batch: its pairs serve the dispersion pass too
    if whole is not None:
        keys, count, paragraphs, pieces, group_words, with_tokens = whole.totals(len(names))
    else:
        # each batch's totals added to those before as it comes: what is held is about the table's size,
        # not every batch's totals (by author at 16x, 26 parts' 2.2M keys: 68 MB, and as much to add them up)
        totals = None
        for batch in batches():
            tally = pairs_of(batch).totals(len(names))
            if totals is None:
                totals = list(tally)
            else:
                totals[:4] = _added([totals, tally])
                totals[4] = totals[4] + tally[4]
                totals[5] = totals[5] | tally[5]
            del tally
        keys, count, paragraphs, pieces, group_words, with_tokens = totals
    words = pd.Series(group_words[with_tokens].round().astype(np.int64), index=names[with_tokens], name="words")
    words.index.name = "group"
    group_code, term_code = np.divmod(keys, len(terms))
    table = pd.DataFrame({
        "group": pd.Categorical.from_codes(group_code, categories=names),
        "term": pd.Categorical.from_codes(term_code, categories=terms),
        "count": count, "pieces": pieces, "paragraphs": paragraphs,
    })
    if dispersion:
        diff, held = np.zeros(len(keys)), np.zeros(len(keys))
        smallest = np.full(len(names), np.inf)
        for pairs in [whole] if whole is not None else map(pairs_of, batches()):
            pairs.spread(keys, count, group_words, diff, held, smallest)
        # parts without the term contribute |0 - s_i| = s_i: 1 - (sum of present shares)
        table["dp"] = np.clip(0.5 * (diff + 1.0 - held), 0.0, None)
        least = smallest[group_code]
        table["dp_norm"] = np.where(least < 1, table["dp"] / (1 - least), 0.0)
    return table, words


def _code_columns(table: pd.DataFrame) -> tuple[dict, pd.Index, pd.Index]:
    """A token or count table's columns as arrays (integer codes for the names), with its pieces and terms (sorted)."""
    doc, docs = _sorted_codes(table["doc_id"])
    term, terms = _sorted_codes(table["term"])
    para, _ = _sorted_codes(table["paragraph_id"])
    return ({"para": para, "doc": doc, "term": term, "words": table["words"].to_numpy(),
             "count": table["count"].to_numpy() if "count" in table else None}, docs, terms)


def _piece_batches(doc: np.ndarray, n_docs: int) -> list:
    """(first, last + 1) piece codes of batches of about ``GROUP_ROWS`` rows each; [None]: one batch."""
    if len(doc) <= GROUP_ROWS:
        return [None]
    rows = np.bincount(doc[doc >= 0], minlength=n_docs)
    bounds, start, size = [], 0, 0
    for code, n in enumerate(rows):
        if size and size + n > GROUP_ROWS:
            bounds.append((start, code))
            start, size = code, 0
        size += n
    if not bounds:
        return [None]
    bounds.append((start, n_docs))
    return bounds


def _added(tallies: list) -> tuple[np.ndarray, ...]:
    """The keys, counts, paragraphs and pieces of several batches' totals, added up by key."""
    keys, _, *sums = sum_by_key(*(np.concatenate([t[i] for t in tallies]) for i in range(4)))
    return (keys, *sums)


class _Pairs:
    """One batch of whole pieces' paragraph-term pairs, with each pair's count and its paragraph's group and words."""

    def __init__(self, para, doc, term, words, count, *, doc_group: np.ndarray, wanted: np.ndarray):
        n_terms = len(wanted) - 1
        para, doc, term = para.astype(np.int64), doc.astype(np.int64), term.astype(np.int64)
        n_para = int(para.max(initial=-1)) + 1
        self.para_words = np.bincount(para, weights=words, minlength=n_para)
        para_doc = np.full(n_para, -1, dtype=np.int64)
        para_doc[para] = doc
        self.para_group = np.where(para_doc >= 0, doc_group[para_doc], -1)
        self.present = (np.bincount(para, minlength=n_para) > 0) & (self.para_group >= 0)
        kept = wanted[term]
        weight = np.ones(int(kept.sum()), np.int64) if count is None else count[kept]
        pairs, _, in_para = sum_by_key(para[kept] * n_terms + term[kept], weight)
        part, pair_term = np.divmod(pairs, n_terms)
        grouped = self.para_group[part] >= 0
        self.part, self.in_para = part[grouped], in_para[grouped]
        pair_term = pair_term[grouped]
        self.keys = self.para_group[self.part] * n_terms + pair_term
        doc_terms, _ = sum_by_key(para_doc[self.part] * n_terms + pair_term)
        self.doc_keys = doc_group[doc_terms // n_terms] * n_terms + doc_terms % n_terms

    def totals(self, n_groups: int) -> tuple[np.ndarray, ...]:
        """Per group and term (sorted keys): count, paragraphs, pieces; per group: running words, and whether it has any."""
        keys, paragraphs, count = sum_by_key(self.keys, self.in_para)
        _, pieces = sum_by_key(self.doc_keys)
        at = self.para_group[self.present]
        words = np.bincount(at, weights=self.para_words[self.present], minlength=n_groups)
        return keys, count, paragraphs, pieces, words, np.bincount(at, minlength=n_groups) > 0

    def spread(self, keys, count, group_words, diff, held, smallest) -> None:
        """Add this batch's part of Gries' DP sums to ``diff`` and ``held``, and its smallest paragraph shares."""
        with np.errstate(divide="ignore", invalid="ignore"):
            share = self.para_words / group_words[self.para_group]
            np.minimum.at(smallest, self.para_group[self.present], share[self.present])
            row = np.searchsorted(keys, self.keys)
            diff += np.bincount(row, weights=np.abs(self.in_para / count[row] - share[self.part]), minlength=len(keys))
            held += np.bincount(row, weights=share[self.part], minlength=len(keys))


def row_group_codes(doc_ids: pd.Series, groups: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Each row's group, as an int32 code into the groups' names (sorted); -1 for a piece in no group.

    ``doc_ids`` is a token or count table's column (categorical or plain),
    ``groups`` as from :func:`group_of`.
    """
    if isinstance(doc_ids.dtype, pd.CategoricalDtype):
        codes, docs = doc_ids.cat.codes.to_numpy(), doc_ids.cat.categories
    else:
        codes, docs = pd.factorize(doc_ids)
    named = groups.reindex(docs)
    names = pd.Index(sorted(set(named.dropna())), dtype=groups.dtype)
    doc_group = np.append(names.get_indexer(named), -1).astype(np.int32)  # code -1 (no piece) maps to the last
    return doc_group[codes], names


def count_terms(tokens, pieces: pd.DataFrame, by: str = "author") -> pd.DataFrame:
    """Counts, rates and dispersion of every term in every group.

    Parameters
    ----------
    tokens : DataFrame or iterable of DataFrame
        The token table or the count table, or its parts (as for :func:`group_terms`).
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
        paragraphs, see :func:`gries_dp`) and ``dp_norm`` (DP / (1 - smallest
        paragraph share)). Sorted by group, then count (descending), then term.
    """
    table, words = group_terms(tokens, group_of(pieces, by), dispersion=True)
    table["per_1000"] = 1000 * table["count"] / words.reindex(table["group"].cat.categories).to_numpy()[
        table["group"].cat.codes.to_numpy()]
    order = np.lexsort((table["term"].cat.codes, -table["count"].to_numpy(), table["group"].cat.codes))
    table = table.take(order).assign(by=by)
    return plain(table[FREQUENCY_COLUMNS].reset_index(drop=True))


def term_summary(counts) -> dict[str, int]:
    """How many tokens a count table holds: ``tokens``, ``terms`` (counted: not stop words or numbers),
    ``phrases`` (terms that are multiword expressions) and ``distinct`` terms.

    ``counts`` is the count table, or its parts one after another (e.g.
    :meth:`~discourselab.study.Study.count_parts`).
    """
    totals, seen = {"tokens": 0, "terms": 0, "phrases": 0}, set()
    for part in table_parts(counts):
        terms, tokens = part["term"], part["count"]
        totals["tokens"] += int(tokens.sum())
        totals["terms"] += int(tokens[terms.notna()].sum())
        totals["phrases"] += int(tokens[terms.str.contains(" ", na=False)].sum())
        seen.update(terms.dropna().unique())
    return {**totals, "distinct": len(seen)}


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
