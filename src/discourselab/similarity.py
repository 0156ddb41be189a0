"""Distinctive vocabulary (TF-IDF), similarity between pieces, and stylometric distance.

TF-IDF uses scikit-learn: ``TfidfVectorizer`` fed by the project's own
analyzer (:class:`~discourselab.text.TextPipeline`) for raw texts, or, for a
study's pieces and groups, ``TfidfTransformer`` on the counts of the token table
that analyzer made (the same numbers, without analysing the texts again). So its
terms are the terms of every other analysis. Burrows' Delta uses the most frequent *word forms*
(function words included, no lemmas): a view of style rather than topic.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import linkage
from scipy.spatial.distance import cdist, pdist, squareform
from scipy.sparse import coo_matrix, csr_matrix, issparse
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer
from sklearn.preprocessing import normalize
from sklearn.utils import check_array
from sklearn.utils.extmath import safe_sparse_dot

from .frequency import group_of, group_terms, plain, row_counts
from .text import doc_texts, rereadable, table_parts, word_codes

#: grouping_tests uses matrix products from this many pieces on, for columns of at most GEMM_GROUPS groups,
#: when they cost less than gathering the same-group pairs (GATHER_COST: one pair's cost in multiply-adds,
#: measured at 3,792 pieces with two values: about 35 ns a same-group pair against 0.06 ns a multiply-add).
GEMM_PIECES = 200
GEMM_GROUPS = 64
GATHER_COST = 800
#: Values of the square table of pairs that grouping_tests' matrix products make at a time (a block of rows),
#: and the most indicator columns (permutations x groups) each product takes. At 3,792 pieces and 7 groups,
#: the tests of two values traced 80 MB at their peak and took 8.2 s with these, against 125 MB and 6.3 s
#: with blocks of 2M values and 1,000 columns (the same results).
SQUARE_CELLS = 1 << 20
INDICATOR_COLUMNS = 500
#: Rows of the token or count table that :func:`term_counts` turns into a matrix at a time.
TERM_ROWS = 2_000_000
#: Similarities :func:`cosine_matrix` computes at a time (a block of rows against all of them).
COSINE_CELLS = 1 << 20
#: Pairs of pieces per table of :func:`similarity_pair_tables` (about; whole runs of first pieces).
PAIRS_PER_TABLE = 1 << 20
#: Below this many pieces the permutation tests of a grouping have little power: the notebooks say so.
FEW_PIECES = 30
#: The keys of each :func:`grouping_tests` result.
GROUPING_TEST_COLUMNS = ["column", "value", "same_pairs", "within", "between", "difference", "p_greater", "p_less"]

#: Defaults for TF-IDF (stated, and passed to scikit-learn as given).
TFIDF_DEFAULTS = {"sublinear_tf": True, "smooth_idf": True, "norm": "l2"}


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


def term_counts(tokens, labels: pd.Series, order: list[str] | None = None):
    """Counts of each term for each label of the pieces, from the token table.

    Parameters
    ----------
    tokens : DataFrame or iterable of DataFrame
        The token table or the count table, or its parts one after another
        (e.g. :meth:`~discourselab.study.Study.count_parts`), each part
        holding whole paragraphs.
    labels : Series
        A label for each piece (index ``doc_id``): the piece itself, its group, ...
    order : list of str, optional
        The row labels in this order (each must have tokens); default sorted.

    Returns
    -------
    counts, rows, terms
        A sparse (labels x terms) count matrix, its row labels and its terms
        (sorted; only terms that occur). Made ``TERM_ROWS`` rows of the table at
        a time and added up, so that its working arrays stay small. The counts
        are int32 (half the size of int64: 40 MB instead of 60 MB for 3,792
        pieces of 31M words), and int64 once the table's counts add up to more
        than int32 holds, so no count can overflow.
    """
    labels = labels.dropna().astype(str)
    labels.index = labels.index.astype(str)
    rows, row_of_piece = np.unique(labels.to_numpy(dtype=str), return_inverse=True)
    row_of_piece = pd.Series(row_of_piece, index=labels.index)
    columns: dict = {}  # term -> its column, in the order first seen
    counts, seen = csr_matrix((len(rows), 0), dtype=np.int32), np.zeros(len(rows), bool)
    counted = 0  # every count so far: no cell can hold more
    terms_before = None
    for part in table_parts(tokens):
        doc, term = part["doc_id"].astype("category"), part["term"].astype("category")
        # each code of this part's categories -> its row (-1: unlabelled) or column
        row_of = row_of_piece.reindex(doc.cat.categories.astype(str)).fillna(-1).to_numpy(np.int64)
        if terms_before is None or not term.cat.categories.equals(terms_before):  # slices of one table share them
            terms_before = term.cat.categories
            column_of = np.array([columns.setdefault(t, len(columns)) for t in terms_before.tolist()], dtype=np.int64)
        counts.resize((len(rows), len(columns)))
        doc_codes, term_codes = doc.cat.codes.to_numpy(), term.cat.codes.to_numpy()
        # TERM_ROWS rows of the table at a time, added up: the working arrays stay those of one slice
        for start in range(0, len(part), TERM_ROWS):
            docs, terms_at = doc_codes[start:start + TERM_ROWS], term_codes[start:start + TERM_ROWS]
            row = row_of[docs]
            keep = (terms_at >= 0) & (row >= 0)
            row = row[keep]
            seen[row] = True
            weights = row_counts(part.iloc[start:start + TERM_ROWS])[keep]
            counted += int(weights.sum())
            if counts.dtype == np.int32 and counted > np.iinfo(np.int32).max:
                counts = counts.astype(np.int64)
            counts = counts + coo_matrix((weights.astype(counts.dtype, copy=False), (row, column_of[terms_at[keep]])),
                                         shape=counts.shape).tocsr()
    used = np.flatnonzero(np.asarray(counts.sum(axis=0)).ravel() > 0)
    present = np.flatnonzero(seen)
    if order is not None:
        position = {label: i for i, label in enumerate(rows)}
        present = np.asarray([position[str(label)] for label in order], dtype=int)
    vocabulary = np.asarray(list(columns), dtype=object)[used]
    by_term = np.argsort(vocabulary, kind="stable")
    # one selection at a time, each letting go of the matrix before it (chained, three were held at once)
    if not np.array_equal(present, np.arange(len(rows))):
        counts = counts[present]
    counts = counts[:, used[by_term]]
    return counts, rows[present], vocabulary[by_term]


def tfidf_from_tokens(tokens: pd.DataFrame, labels: pd.Series, order: list[str] | None = None, **options):
    """TF-IDF of each label's document (its pieces' tokens together), with scikit-learn's ``TfidfTransformer``.

    The same as :func:`fit_tfidf` on the labels' texts with the pipeline that
    made ``tokens`` (except that a multiword expression never spans two
    paragraphs), without analysing the texts again. ``labels`` and ``order``
    as for :func:`term_counts`; ``options`` as for :func:`fit_tfidf`.

    Returns
    -------
    matrix, rows, terms
        The sparse TF-IDF matrix, its row labels and its terms (sorted).
    """
    counts, rows, terms = term_counts(tokens, labels, order)
    transformer = TfidfTransformer(**{**TFIDF_DEFAULTS, **options}).fit(counts)
    # the counts as floats beside their own column positions, weighted in place: fit_transform would copy the
    # positions too and keep the counts meanwhile (at 3,792 pieces of 31M words, about 45 MB more at its peak)
    weights = csr_matrix((counts.data.astype(np.float64), counts.indices, counts.indptr), shape=counts.shape)
    del counts
    return transformer.transform(weights, copy=False), rows, terms


def distinctive_terms(tokens: pd.DataFrame, pieces: pd.DataFrame, by: str,
                      frequencies: pd.DataFrame | None = None, n: int = 30, **options) -> pd.DataFrame:
    """The ``n`` terms with the highest TF-IDF in each group's document.

    Parameters
    ----------
    tokens : DataFrame or iterable of DataFrame
        The token table or the count table, or its parts (as for :func:`term_counts`).
    pieces : DataFrame
        With ``doc_id`` and the column ``by``.
    by : str
        ``doc_id`` (pieces) or a manifest column.
    frequencies : DataFrame, optional
        :func:`~discourselab.frequency.count_terms` for ``by``, to take the raw
        counts from; without it they are counted from ``tokens`` for the
        chosen terms only (the same numbers, without a table of every
        group's every term).
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
    tokens = rereadable(tokens)  # read twice
    matrix, groups, terms = tfidf_from_tokens(tokens, group_of(pieces, by), **options)
    rows = []
    for i, group in enumerate(groups):
        row = matrix.getrow(i).toarray().ravel()
        order = np.lexsort((terms, -row))[:n]
        rows += [{"by": by, "group": group, "rank": r + 1, "term": terms[j], "tfidf": row[j]}
                 for r, j in enumerate(order) if row[j] > 0]
    table = pd.DataFrame(rows, columns=["by", "group", "rank", "term", "tfidf"])
    if frequencies is not None:
        freq = frequencies[frequencies["by"] == by][["group", "term", "count", "paragraphs"]]
    else:
        # a term's counts come from its own rows, and parts hold whole paragraphs: the parts' totals add up.
        # Each part keeps the table's pairs of group and term only: by piece, its chosen terms are most of the
        # vocabulary, and every piece's counts of all of them would be millions of rows (3,792 pieces: 5.7M)
        groups, wanted = group_of(pieces, by), table[["group", "term"]]
        chosen = [plain(group_terms(part[part["term"].isin(table["term"])], groups)[0]).merge(wanted)
                  for part in table_parts(tokens)]
        freq = pd.concat(chosen).groupby(["group", "term"], as_index=False)[["count", "paragraphs"]].sum()
    return table.merge(freq, on=["group", "term"], how="left")


def cosine_table(matrix, names: list[str]) -> pd.DataFrame:
    """Cosine similarity of every pair of rows, as a square DataFrame (see :func:`cosine_matrix`)."""
    return pd.DataFrame(cosine_matrix(matrix), index=names, columns=names, copy=False)


def cosine_matrix(matrix) -> np.ndarray:
    """scikit-learn's ``cosine_similarity`` of the rows with each other, a block of rows at a time.

    The same numbers (for a sparse matrix, when each row holds its columns
    in order, as SciPy and scikit-learn make them; other rows are put in
    order first): the rows are normalized once, and for a sparse matrix each
    block's product with all of them (about ``COSINE_CELLS`` similarities)
    is written into the square result. The whole product would
    first be made sparse, then dense: at 3,792 pieces 14 million entries, 236
    MB above the result, against about 20 MB for a block. A dense matrix is
    multiplied whole (its product is made in place, and blocks could round otherwise).
    """
    return _cosine_square(_unit_rows(matrix))


def _cosine_square(unit) -> np.ndarray:
    square = np.empty((unit.shape[0],) * 2, dtype=unit.dtype)
    for start, block in _cosine_blocks(unit):
        square[start:start + len(block)] = block
    return square


def cosine_pairs(matrix, *, copy: bool = True) -> np.ndarray:
    """:func:`cosine_matrix`'s values above the diagonal (every pair once, as :func:`condensed` gives them).

    For a sparse matrix, each block of rows is multiplied only with itself and
    the rows after it, and leaves only its pairs with the later rows, so the
    square is never made (at 3,792 pieces, 115 MB): the same numbers, to the
    bit, in about half the products (at 3,792 pieces, 3.7 s instead of
    10.2 s). With ``copy=False`` a float matrix may be normalized in place,
    for a caller done with it (at 3,792 pieces, 90 MB less).
    """
    unit = _unit_rows(matrix, copy)
    if not issparse(unit):
        return squareform(_cosine_square(unit), checks=False)
    n = unit.shape[0]
    pairs = np.empty(n * (n - 1) // 2, dtype=unit.dtype)
    begin = 0
    for values in _cosine_pair_runs(unit):
        pairs[begin:begin + len(values)] = values
        begin += len(values)
    return pairs


def cosine_pair_runs(matrix, *, copy: bool = True) -> Iterator[np.ndarray]:
    """:func:`cosine_pairs`' values a block of first pieces at a time, in order: joined, the same values to the bit.

    So that they can be stored (e.g. :func:`~discourselab.cache.store_array`)
    without holding them all (at 3,792 pieces, 57 MB). ``copy`` as for
    :func:`cosine_pairs`.
    """
    unit = _unit_rows(matrix, copy)
    if not issparse(unit):
        yield squareform(_cosine_square(unit), checks=False)
        return
    yield from _cosine_pair_runs(unit)


def _cosine_pair_runs(unit) -> Iterator[np.ndarray]:
    """The pairs of each block of rows of a sparse matrix of unit rows with the later rows, in order."""
    for start, block in _cosine_blocks(unit, upper=True):
        runs = [row[r + 1 - start:] for r, row in enumerate(block, start)]  # pairs (r, r + 1) to (r, n - 1)
        yield np.concatenate(runs) if runs else np.empty(0, dtype=unit.dtype)


def _unit_rows(matrix, copy: bool = True):
    """The rows scaled to unit length; a sparse matrix with its columns in order in each row (see _cosine_blocks)."""
    matrix = check_array(matrix, accept_sparse="csr", dtype=[np.float64, np.float32])
    if issparse(matrix) and not matrix.has_sorted_indices:
        matrix = matrix.sorted_indices()  # a copy, of the caller's matrix or of check_array's
    return normalize(matrix, copy=copy)


def csr_rows(data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, start: int, stop: int, width: int):
    """Rows ``start`` to ``stop`` of the CSR matrix of these arrays, as a matrix that views them (no copy).

    SciPy's slicing copies the rows, and so does its constructor when they
    are less than half of the arrays they view; the arrays are set on an
    empty matrix instead. Its values may be changed in place.
    """
    first, last = indptr[start], indptr[stop]
    rows = csr_matrix((stop - start, width), dtype=data.dtype)
    rows.data, rows.indices, rows.indptr = data[first:last], indices[first:last], indptr[start:stop + 1] - first
    return rows


def _cosine_blocks(unit, upper: bool = False):
    """(first row, its block of rows of the similarity square) for rows of unit length (see cosine_matrix).

    A sparse block is made as ``(unit @ block.T).T``: only the block is
    transposed, instead of a transposed copy of the whole matrix (at 3,792
    pieces, 90 MB). Each similarity sums the same products in the same order
    (the terms both rows hold, in column order), so the values are those of
    ``block @ unit.T`` to the bit. With ``upper``, a block holds only the
    columns from its first row on (the rest are pairs of earlier blocks).
    """
    n = unit.shape[0]
    if not issparse(unit):
        yield 0, safe_sparse_dot(unit, unit.T, dense_output=True)
        return
    rows = max(1, COSINE_CELLS // max(n, 1))
    for start in range(0, n, rows):
        others = csr_rows(unit.data, unit.indices, unit.indptr, start, n, unit.shape[1]) if upper else unit
        block = safe_sparse_dot(others, unit[start:start + rows].T, dense_output=True)  # others x the block's rows
        yield start, np.ascontiguousarray(block.T)


def burrows_delta(texts, mfw: int = 100) -> pd.DataFrame:
    """Burrows' Delta between pieces on the ``mfw`` most frequent word forms of the corpus.

    ``texts`` is a table with ``doc_id`` and ``text``, or ``(doc_id, text)``
    pairs (e.g. :meth:`~discourselab.corpus.Corpus.piece_texts`, which makes
    one text at a time).

    Each word's relative frequency in each piece is turned into a z-score over
    the pieces (mean and standard deviation with ddof=1, as in stylo); Delta of
    two pieces is the mean absolute difference of their z-scores (Burrows 2002).

    Returns
    -------
    DataFrame
        Square, indexed by ``doc_id`` both ways; 0 on the diagonal.
    """
    names, z = _delta_scores(texts, mfw)
    return pd.DataFrame(cdist(z, z, metric="cityblock") / z.shape[1], index=names, columns=names)


def burrows_delta_pairs(texts, mfw: int = 100) -> tuple[list[str], np.ndarray]:
    """:func:`burrows_delta` as the pieces' names and the values above the diagonal (every pair once).

    The same numbers, to the bit, without the square (at 3,792 pieces, 115 MB).
    """
    names, z = _delta_scores(texts, mfw)
    values = pdist(z, metric="cityblock")
    values /= z.shape[1]  # in place: no second array of every pair
    return names, values


def _delta_scores(texts, mfw: int, block: int = 1 << 20) -> tuple[list[str], np.ndarray]:
    """The pieces' names, and the z-scores of their relative frequencies of the ``mfw`` most frequent word forms.

    One pass over the texts, each tokenized once (as codes in a vocabulary of
    the corpus, :func:`~discourselab.text.word_codes`) and counted alone: its
    word forms' codes and counts are kept as two int32 arrays, one entry per
    word form of each piece (at 3,792 pieces, 6.7 million entries, 51 MB),
    and added to the corpus's totals. The top words' entries are then found
    ``block`` at a time. With scikit-learn's ``CountVectorizer``, which built
    a sparse matrix of every piece's every word, Burrows' Delta of those
    pieces took 175 MB above its input instead of 93 MB. Ties in frequency go
    to the word first in alphabetical order.
    """
    names: list[str] = []
    vocabulary: dict[str, int] = {}
    codes, counts, ends, lengths = array("i"), array("i"), [], []
    totals = np.zeros(1 << 12, dtype=np.int64)
    for doc_id, text in doc_texts(texts):
        piece = word_codes(text, vocabulary)  # not a string per word
        own, found = np.unique(piece, return_counts=True)
        names.append(doc_id)
        if len(vocabulary) > len(totals):
            totals = np.concatenate([totals, np.zeros(max(len(totals), len(vocabulary) - len(totals)), np.int64)])
        totals[own] += found  # each word once in a piece
        codes.frombytes(own.tobytes())
        counts.frombytes(found.astype(np.int32).tobytes())
        ends.append(len(codes))  # where this piece's entries end
        lengths.append(len(piece))
    totals, words = totals[:len(vocabulary)], list(vocabulary)
    candidates = np.arange(len(words))
    if len(words) > mfw > 0:  # the words as frequent as the mfw-th or more, then sorted
        candidates = np.flatnonzero(totals >= np.partition(totals, len(words) - mfw)[len(words) - mfw])
    top = sorted(candidates.tolist(), key=lambda code: (-totals[code], words[code]))[:mfw]  # then alphabetical
    column = np.full(len(words), -1, dtype=np.int32)
    column[top] = np.arange(len(top), dtype=np.int32)
    codes, counts = np.frombuffer(codes, dtype=np.int32), np.frombuffer(counts, dtype=np.int32)
    table = np.zeros((len(names), len(top)), dtype=np.int64)
    for start in range(0, len(codes), block):
        columns = column[codes[start:start + block]]
        at = np.flatnonzero(columns >= 0)  # the entries of the top words
        table[np.searchsorted(ends, start + at, side="right"), columns[at]] = counts[start + at]
    rel = table / np.asarray(lengths, dtype=np.int64)[:, None]
    sd = rel.std(axis=0, ddof=1)
    return names, (rel - rel.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def _products_within(columns: list[np.ndarray], size: int, groups: int, labels: np.ndarray,
                     width: int = INDICATOR_COLUMNS, cells: int | None = None) -> np.ndarray:
    """Each labelling's within-group sum of each value, by matrix products (see grouping_tests).

    ``columns`` hold condensed values (every pair once, in the order of
    :func:`pair_positions`); ``labels`` one labelling of ``size`` pieces into
    ``groups`` groups (codes 0 to groups - 1) per row. The square table of
    values is made a block of rows at a time (about ``cells`` values, default
    ``SQUARE_CELLS``), never whole: for each block and batch of permutations,
    ``block @ indicator`` sums each row's values by the permuted groups, and
    each row keeps the sum over its own group. Every pair is counted from both
    of its rows, so the total is halved.
    """
    permutations = len(labels)
    batch = max(1, width // groups)  # permutations per product: at most ``width`` indicator columns
    rows = max(1, (cells or SQUARE_CELLS) // max(size, 1))
    within = np.zeros((permutations, len(columns)))
    everyone = np.arange(size)
    for start in range(0, size, rows):
        stop = min(size, start + rows)
        blocks = [_square_rows(v, size, range(start, stop)) for v in columns]
        for done in range(0, permutations, batch):
            chunk = labels[done:done + batch]
            offsets = np.arange(len(chunk)) * groups
            indicator = np.zeros((size, len(chunk) * groups))  # one column per permutation and group
            indicator[everyone[:, None], offsets + chunk.T] = 1.0
            own = offsets + chunk[:, start:stop].T  # each row's own group, per permutation
            for j, block in enumerate(blocks):
                sums = np.take_along_axis(block @ indicator, own, axis=1)
                within[done:done + len(chunk), j] += sums.sum(axis=0)
    return within / 2


def _gathered_within(columns: list[np.ndarray], size: int, labels: np.ndarray) -> np.ndarray:
    """Each labelling's within-group sum of each value, from the same-group pairs alone (see grouping_tests).

    ``columns`` hold condensed values (as in :func:`_products_within`);
    ``labels`` one labelling of ``size`` pieces per row, -1 for a missing
    value (in no group). A permutation keeps the groups' sizes, so the same
    number of pairs share a group under every labelling: those pairs'
    positions are found from the pieces sorted by label, and their values
    summed in the pairs' order. The sums are those of the values under a mask
    of same-group pairs, to the bit (two labellings that make the same groups
    tie), at a cost that grows with the same-group pairs, not with all pairs.
    """
    sizes = np.bincount(labels[0][labels[0] >= 0])
    first = np.cumsum(sizes) - sizes + int((labels[0] < 0).sum())  # where each group starts, the pieces sorted by label
    places = [start + np.triu_indices(n, k=1) for start, n in zip(first, sizes)]
    a = np.concatenate([i for i, _ in places])  # every pair (a, b), a < b, of places within one group
    b = np.concatenate([j for _, j in places])
    within = np.empty((len(labels), len(columns)))
    for k, shuffled in enumerate(labels):
        order = np.argsort(shuffled, kind="stable")  # within a group, in the pieces' order
        # each group's pairs come in order: a stable sort merges the runs
        at = np.sort(_pair_index(order[a], order[b], size), kind="stable")
        within[k] = [v[at].sum() for v in columns]
    return within


def _square_rows(values: np.ndarray, size: int, rows) -> np.ndarray:
    """The given rows (positions) of the square table of condensed ``values``, in full (0 on the diagonal)."""
    rows = np.asarray(rows, dtype=np.int64)
    out = np.zeros((len(rows), size), dtype=values.dtype)
    for k, r in enumerate(rows):
        out[k, :r] = values[_pair_index(np.arange(r), r, size)]  # pairs (j, r), j < r
        begin = _pair_index(r, r + 1, size)  # then (r, r + 1) to (r, size - 1), side by side
        out[k, r + 1:] = values[begin:begin + size - r - 1]
    return out


def _condensed_columns(columns: list[np.ndarray], ia: np.ndarray, ib: np.ndarray, size: int,
                       rows: int = 1 << 18) -> list[np.ndarray] | None:
    """The columns' values in the order of :func:`pair_positions`, or None if the pairs are not every pair once.

    Pairs already in that order (as :func:`similarity_pairs` makes them) are
    checked a block of rows at a time and used as they are; others are
    placed in that order (a copy).
    """
    n = size * (size - 1) // 2
    if len(ia) != n:
        return None
    for start in range(0, n, rows):
        lo, hi = _ordered(ia[start:start + rows], ib[start:start + rows])
        if (lo == hi).any():  # a piece with itself (its index would be another pair's)
            return None
        if not (_pair_index(lo, hi, size) == np.arange(start, start + len(lo))).all():  # another order, or not all
            break
    else:
        return columns
    lo, hi = _ordered(ia, ib)
    if (lo < 0).any() or (lo == hi).any():  # a position missing from the pieces, or a piece with itself
        return None
    at = _pair_index(lo, hi, size)
    seen = np.zeros(n, dtype=bool)
    seen[at] = True
    if not seen.all():
        return None
    placed = []
    for v in columns:
        out = np.empty_like(v)
        out[at] = v
        placed.append(out)
    return placed


def _ordered(ia: np.ndarray, ib: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ia, ib = ia.astype(np.int64), ib.astype(np.int64)
    return np.minimum(ia, ib), np.maximum(ia, ib)


def _pair_index(lo: np.ndarray, hi: np.ndarray, size: int) -> np.ndarray:
    """Where pair (lo, hi), lo < hi, is among every pair in the order of :func:`pair_positions`."""
    return size * lo - lo * (lo + 1) // 2 + hi - lo - 1


def _positions(names: pd.Series, ids: pd.Index) -> np.ndarray:
    """Each name's position in ``ids`` (-1 if absent); a categorical over ``ids`` (see similarity_pairs) gives its codes."""
    if isinstance(names.dtype, pd.CategoricalDtype) and names.cat.categories.equals(ids):
        return names.cat.codes.to_numpy()
    return ids.get_indexer(names)


def cluster(matrix, metric: str = "cosine", method: str = "average", *, similarities: bool = False,
            copy: bool = True) -> np.ndarray:
    """Hierarchical clustering (SciPy ``linkage``) of the rows of a matrix, or of given distances.

    Cosine distances (1 - cosine similarity) come from one product of the
    (sparse) matrix with itself, as in :func:`cosine_table`, instead of SciPy's
    ``pdist`` on a dense copy: for thousands of pieces over a large vocabulary
    that copy alone takes gigabytes and ``pdist`` minutes. A row of zeros is at
    distance 1 from every other row (``pdist`` gives NaN). Distances a rounding
    error below 0 count as 0.

    Given distances are a square table (a DataFrame with the same index and
    columns), or a 1-D array of condensed distances as SciPy takes them (every
    pair once, in the order of :func:`pair_positions`: a column of
    :func:`similarity_pairs`, so that a notebook with the pairs needs no square
    copy). With ``similarities``, the values given are similarities, and the
    distances are 1 minus them: ``cluster(pairs["cosine"], similarities=True)``
    is ``cluster(1.0 - pairs["cosine"])`` with one copy of the column fewer
    (the distances are made once and clipped in place; at 7 million pairs,
    57 MB). With ``copy=False``, 1-D float64 similarities given become the
    distances in place (the caller's array is overwritten), so that SciPy's
    own copy is the only other one. ``1 - cosine`` of the
    :func:`cosine_table` gives the same tree as the matrix.
    """
    square = isinstance(matrix, pd.DataFrame) and (matrix.index == matrix.columns).all()
    if square:
        values = squareform(matrix.to_numpy(), checks=False)
    elif not hasattr(matrix, "toarray") and np.ndim(matrix) == 1:
        values = np.asarray(matrix, dtype=float)
    elif metric == "cosine":
        values, similarities = squareform(cosine_matrix(matrix), checks=False), True
    else:
        dense = matrix.toarray() if hasattr(matrix, "toarray") else np.asarray(matrix)
        return linkage(pdist(dense, metric=metric), method=method)
    in_place = not copy and values.flags.writeable  # (a pandas column's values are read-only)
    distance = np.subtract(1.0, values, out=values if in_place else None) if similarities else values
    if (distance < 0).any():  # rounding: -1e-16; only a copy of given 1-D distances is clipped
        distance = np.maximum(distance, 0.0, out=distance if similarities or square else None)
    return linkage(distance, method=method)


def similarity_pairs(cosine, delta, pieces: pd.DataFrame,
                     columns: tuple[str, ...] = ("author", "role", "file")) -> pd.DataFrame:
    """Long table of every pair of pieces.

    ``cosine`` and ``delta`` are square tables (indexed by ``doc_id`` both
    ways, in any order), or their :func:`condensed` values in the pieces'
    order (used as they are, not copied).

    Returns
    -------
    DataFrame
        ``piece_a``, ``piece_b`` (manifest order; categoricals over the pieces'
        ids, so that millions of pairs hold codes, not names), ``cosine`` (TF-IDF cosine
        similarity), ``delta`` (Burrows' Delta), and ``same_COLUMN`` (bool) for
        each of ``columns`` found in the pieces table (False where either value is missing).
    """
    return pair_table({"cosine": cosine, "delta": delta}, pieces, columns)


def similarity_pair_tables(cosine, delta, pieces: pd.DataFrame, columns: tuple[str, ...] = ("author", "role", "file"),
                           pairs_per_table: int = PAIRS_PER_TABLE) -> Iterator[pd.DataFrame]:
    """The rows of :func:`similarity_pairs`, in the same order, a table of about ``pairs_per_table`` pairs at a time.

    Each table holds the pairs of a run of first pieces (at least one). To
    write or search the pairs of thousands of pieces (7.2 million at 3,792)
    without holding their table (165 MB), e.g. ``write_table`` of this generator.
    """
    values = {"cosine": cosine, "delta": delta}
    n = len(pieces)
    if n < 2:  # no pairs: the empty table, with its columns
        yield pair_table(values, pieces, columns)
        return
    for first in _first_piece_runs(n, pairs_per_table):
        yield pair_table(values, pieces, columns, first=first)


def _first_piece_runs(n: int, pairs: int) -> Iterator[tuple[int, int]]:
    """Runs ``(start, stop)`` of first pieces (at least one each) of about ``pairs`` pairs of ``n`` pieces each, in order."""
    first = 0
    while first < n - 1:
        last = first + 1  # the first pieces of this run: [first, last)
        while last < n - 1 and _pair_index(last + 1, last + 2, n) - _pair_index(first, first + 1, n) <= pairs:
            last += 1
        yield first, last
        first = last


def _same_group_pairs(labels: np.ndarray, pairs: int = PAIRS_PER_TABLE) -> np.ndarray:
    """Whether both pieces of each pair (every pair once, in order) share a label (-1: in no group).

    The mask in :func:`pair_table`'s ``same_`` column, made a run of first
    pieces at a time without the pairs' pieces (28 MB at 3,792 pieces).
    """
    size = len(labels)
    same = np.zeros(size * (size - 1) // 2, dtype=bool)
    for start, stop in _first_piece_runs(size, pairs):
        a, b = pair_positions(size, start, stop)
        begin = _pair_index(start, start + 1, size)
        same[begin:begin + len(a)] = _same_group(labels, a, b)
    return same


def _same_group(labels: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether pieces ``a`` and ``b`` of each pair share a label (-1: in no group, so in none shared)."""
    first = labels[a]
    return (first == labels[b]) & (first >= 0)


def pair_table(values: dict, pieces: pd.DataFrame, columns: tuple[str, ...] = (),
               first: tuple[int, int] | None = None) -> pd.DataFrame:
    """The table of :func:`similarity_pairs` with any value columns: ``{name: values}``.

    Each of ``values`` is a square table or condensed values, as for
    :func:`similarity_pairs`. With ``first=(start, stop)``, only the pairs
    whose first piece is at a position from ``start`` to ``stop - 1``: their
    rows of the whole table, with the same index. Condensed values may also
    be anything sliced like an array that has a ``shape`` (such as a
    :class:`~discourselab.cache.StoredArray`): only those pairs' range is read.
    """
    meta = pieces.set_index("doc_id")
    ids = pieces["doc_id"].tolist()
    n = len(ids)
    start, stop = first or (0, max(n - 1, 0))
    rows = slice(_pair_index(start, start + 1, n), _pair_index(stop, stop + 1, n))  # where their pairs begin and end
    first_piece, second_piece = (pd.Categorical.from_codes(x, categories=ids)
                                 for x in pair_positions(n, start, stop))
    # their codes are the pairs' positions, int16 below 32,768 pieces: half the memory of pair_positions' int32
    a, b = first_piece.codes, second_piece.codes
    index = pd.RangeIndex(rows.start, rows.start + len(a))
    tables = [pd.DataFrame({"piece_a": first_piece, "piece_b": second_piece}, index=index, copy=False)]
    # each float column a table of its own, joined without a copy (set as columns or built together, they are copied)
    for name, column in values.items():
        column = (condensed(column, ids) if isinstance(column, pd.DataFrame)
                  else _checked_pairs(name, column, n, ranges=True))  # a stored array: only this range is read
        tables.append(pd.DataFrame({name: column[rows]}, index=index, copy=False))
    same = {f"same_{column}": _same_group(pd.factorize(meta.loc[ids, column])[0].astype(a.dtype), a, b)
            for column in columns if column in meta}  # codes -1: missing
    return pd.concat([*tables, pd.DataFrame(same, index=index)], axis=1)


def _checked_pairs(name: str, values, size: int, *, ranges: bool = False) -> np.ndarray:
    """``values`` as an array, which must hold one value for each pair of ``size`` pieces.

    With ``ranges``, anything with a ``shape`` that is sliced like an array
    (e.g. a :class:`~discourselab.cache.StoredArray`, read a range at a time)
    is kept as it is, for its ranges to be read.
    """
    values = values if ranges and hasattr(values, "shape") else np.asarray(values)
    if values.shape != (size * (size - 1) // 2,):
        raise ValueError(f"{name}: {values.shape[0]} values for {size * (size - 1) // 2} pairs of {size} pieces")
    return values


def top_pairs(pairs: pd.DataFrame, value: str, n: int = 3) -> pd.DataFrame:
    """``pairs.nlargest(n, value)`` (the same rows, ties to the first), with one copy of the column instead of two.

    The n-th largest value is found by partitioning a copy (missing values
    last); only the rows at or above it are handed to ``nlargest``. At 7
    million pairs of pieces, 54 MB above the pairs instead of 109 MB.
    """
    values = pairs[value].to_numpy()
    if len(values) > n > 0:
        ranked = np.where(np.isnan(values), -np.inf, values)
        ranked.partition(len(values) - n)
        if ranked[len(values) - n] > -np.inf:  # else fewer than n values: nlargest adds missing ones
            pairs = pairs[values >= ranked[len(values) - n]]
    return pairs.nlargest(n, value)


def top_condensed_pairs(values: np.ndarray, pieces: pd.DataFrame, name: str = "value", n: int = 3, *,
                        block: int = PAIRS_PER_TABLE) -> pd.DataFrame:
    """:func:`top_pairs` of condensed values, without the table of their pairs.

    ``values`` holds every pair of ``pieces`` once, in the order of
    :func:`pair_positions` (as :meth:`~discourselab.study.Study.cosine_pairs`
    gives them). The rows are those of ``top_pairs(pair_table({name: values},
    pieces), name, n)``: the ``n`` largest values (ties to the first;
    missing values last, as ``nlargest`` has them), with their pieces and
    their positions as the index.
    The values are searched ``block`` at a time, so that only one block's
    copy is held (at 7 million pairs of pieces, 8 MB instead of the pairs'
    pieces and a copy of the values: 85 MB).
    """
    ids = pieces["doc_id"].tolist()
    size = len(ids)
    values = _checked_pairs(name, values, size)
    kept = np.empty(0, dtype=np.int64)  # positions of the n first in order (value descending, then position)
    for start in range(0, len(values), block) if n > 0 else ():
        chunk = values[start:start + block]
        ranked, threshold = np.where(np.isnan(chunk), -np.inf, chunk), -np.inf  # missing values last
        if len(ranked) > n:
            ranked.partition(len(ranked) - n)
            threshold = ranked[len(ranked) - n]
        at = np.flatnonzero(chunk >= threshold) if threshold > -np.inf else np.arange(len(chunk))
        kept = np.concatenate([kept, start + at])
        found = values[kept]
        missing = np.isnan(found)
        kept = kept[np.lexsort((kept, -np.where(missing, 0.0, found), missing))[:n]]
    starts = _pair_index(np.arange(max(size - 1, 0)), np.arange(1, max(size, 1)), size)  # where each first piece's pairs begin
    first = np.searchsorted(starts, kept, side="right") - 1
    second = kept - starts[first] + first + 1
    return pd.DataFrame({"piece_a": pd.Categorical.from_codes(first, categories=ids),
                         "piece_b": pd.Categorical.from_codes(second, categories=ids),
                         name: values[kept]}, index=kept)


def condensed(square: pd.DataFrame, ids: list[str]) -> np.ndarray:
    """A square table's values above the diagonal, rows and columns in the order of ``ids``, row by row.

    Every pair once, in the order of :func:`pair_positions` (SciPy's condensed
    form): half the square's memory, and what :func:`similarity_pairs` holds.
    """
    return squareform(_square(square, ids), checks=False)


class PairSquare:
    """A column of :func:`similarity_pairs` seen as the square table of the pieces, made a few rows at a time.

    For a heatmap of thousands of pieces (:func:`discourselab.plots.plot_similarity`)
    without the square table (at 3,792 pieces, 115 MB). ``index`` names the
    pieces; ``square[rows]`` gives those rows (positions) in full, NaN on the
    diagonal; :meth:`to_numpy` the whole square.
    """

    def __init__(self, pairs: pd.DataFrame, value: str):
        self._set(pairs[value].to_numpy(), pairs["piece_a"].cat.categories, value)

    @classmethod
    def of(cls, values: np.ndarray, names, name: str = "value") -> "PairSquare":
        """The square of condensed ``values`` (every pair of the pieces ``names`` once, in the order of
        :func:`pair_positions`), e.g. :meth:`~discourselab.study.Study.cosine_pairs`: no table of the pairs."""
        square = cls.__new__(cls)
        square._set(np.asarray(values), names, name)
        return square

    def _set(self, values: np.ndarray, names, name: str) -> None:
        self.index, self.values, self.name = pd.Index(names), values, name
        if len(self.values) != len(self.index) * (len(self.index) - 1) // 2:
            raise ValueError("the pairs must hold every pair of pieces once (as similarity_pairs makes them)")

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, rows) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        out = _square_rows(self.values.astype(float, copy=False), len(self.index), rows)
        out[np.arange(len(rows)), rows] = np.nan
        return out

    def to_numpy(self, dtype=float) -> np.ndarray:
        return self[np.arange(len(self.index))].astype(dtype)


def pair_positions(n: int, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``np.triu_indices(n, k=1)``, every pair once in the order of ``itertools.combinations``, as int32 when it fits.

    With ``start`` and ``stop``, the pairs whose first piece is at a position
    from ``start`` to ``stop - 1``: the whole's rows from ``_pair_index(start, start + 1, n)`` on.
    """
    dtype = np.int32 if n * (n - 1) // 2 < 2**31 else np.int64
    stop = max(n - 1, 0) if stop is None else min(stop, max(n - 1, 0))
    start = min(start, stop)
    counts = np.arange(n - 1 - start, n - 1 - stop, -1, dtype=dtype)  # pairs that start at each piece
    a = np.repeat(np.arange(start, stop, dtype=dtype), counts)
    starts = np.cumsum(counts, dtype=dtype) - counts  # where each piece's pairs begin
    b = np.arange(len(a), dtype=dtype) - starts[a - start if start else a] + a + 1
    return a, b


def _square(table: pd.DataFrame, ids: list[str]) -> np.ndarray:
    """A square table's values with rows and columns in the order of ``ids`` (no copy when they are already)."""
    if table.index.equals(pd.Index(ids)) and table.columns.equals(pd.Index(ids)):
        return table.to_numpy()
    return table.loc[ids, ids].to_numpy()


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
    return grouping_tests(pairs, pieces, column, [value], permutations=permutations, seed=seed)[0]


def grouping_tests(pairs: pd.DataFrame, pieces: pd.DataFrame, column: str, values=("cosine", "delta"), *,
                   permutations: int = 999, seed: int = 0) -> list[dict]:
    """:func:`grouping_test` of several value columns, one dict each, with the same permutations.

    Each result equals ``grouping_test`` of that value with the same seed; the
    permuted labels are made once for all values. A piece without a value in
    ``column`` is in no group, also when the labels are shuffled.

    When ``pairs`` holds every pair once (as :func:`similarity_pairs` makes
    it), no square table of values is made whole, and each permutation's
    within-group sums come from whichever of two ways costs less:

    - the same-group pairs alone (their number does not change when labels are
      shuffled): the values of exactly the pairs a mask would pick, summed in
      the same order, so that two labellings that make the same groups tie;
    - from ``GEMM_PIECES`` pieces on, for at most ``GEMM_GROUPS`` groups and
      when (pieces² x groups) < ``GATHER_COST`` x same-group pairs: matrix
      products of the square table, a block of rows at a time, with the
      permuted groups' indicator vectors, a batch of permutations at a time
      (the same statistic to the last few bits).

    At 3,792 pieces, 999 permutations of two values took 6 s for 7 roles
    (by products) and 7 s for 43 authors (by the pairs; 30 s by products).
    Other pairs tables are tested with masks over the pairs (pairs x
    permutations).
    """
    same = pairs[f"same_{column}"].to_numpy()
    columns = [pairs[value].to_numpy() for value in values]
    ids = pd.Index(pieces["doc_id"])
    ia, ib = _positions(pairs["piece_a"], ids), _positions(pairs["piece_b"], ids)
    condensed_columns = _condensed_columns(columns, ia, ib, len(ids))
    return _tested(columns, condensed_columns, same, ia, ib, pieces, column, values, permutations, seed)


def condensed_grouping_tests(values: dict[str, np.ndarray], pieces: pd.DataFrame, column: str, *,
                             permutations: int = 999, seed: int = 0) -> list[dict]:
    """:func:`grouping_tests` of condensed values (``{name: values}``), without a table of the pairs.

    Each of ``values`` holds every pair of ``pieces`` once, in the order of
    :func:`pair_positions` (as :meth:`~discourselab.study.Study.cosine_pairs`
    gives them). The results are those of ``grouping_tests`` on
    :func:`pair_table` of the same values and ``column``, without the pairs'
    pieces (28 MB at 3,792 pieces): the same-group mask is made from the
    pieces' groups a run of pairs at a time.
    """
    columns = [_checked_pairs(name, v, len(pieces)) for name, v in values.items()]
    same = _same_group_pairs(pd.factorize(pieces[column])[0])
    return _tested(columns, columns, same, None, None, pieces, column, tuple(values), permutations, seed)


def _tested(columns, condensed_columns, same, ia, ib, pieces, column, values, permutations, seed) -> list[dict]:
    """grouping_tests of ``columns`` with the same-group mask ``same``: by ``condensed_columns`` (every pair once,
    in order) or, if None, by masks (with the pairs' piece positions ``ia`` and ``ib``)."""
    n, n_same = len(same), int(same.sum())
    if n_same in (0, n):
        return [{"column": column, "value": value, "same_pairs": n_same, "within": np.nan,
                 "between": np.nan, "difference": np.nan, "p_greater": np.nan, "p_less": np.nan}
                for value in values]
    totals = [v.sum() for v in columns]

    def contrast(within: list[float], k: int) -> list[float]:  # mean within minus mean between, from the sums
        return [w / k - (t - w) / (n - k) for w, t in zip(within, totals)]

    def differences(s: np.ndarray) -> list[float]:  # of a mask of same-group pairs; 0 if either side is empty
        k = int(s.sum())
        return contrast([v[s].sum() for v in columns], k) if 0 < k < n else [0.0] * len(columns)

    within_sums = [v[same].sum() for v in columns]
    observed = contrast(within_sums, n_same)  # computed as for the permutations, so that a tie is a tie
    base = pd.factorize(pieces[column])[0]  # integer labels (-1: missing), the same permutations compared fast
    if len(base) < 2**15:  # the permutations of int16 labels are those of the int64 ones, in a quarter of the memory
        base = base.astype(np.int16)
    size = len(base)
    rng = np.random.default_rng(seed)
    labels = np.array([rng.permutation(base) for _ in range(permutations)]).reshape(permutations, size)
    if condensed_columns is None:  # not every pair once: masks over the pairs
        stats = np.empty((permutations, len(columns)))
        for k, shuffled in enumerate(labels):
            stats[k] = differences((shuffled[ia] == shuffled[ib]) & (shuffled[ia] >= 0))
    else:
        groups = int(base.max()) + 1
        if (size >= GEMM_PIECES and base.min() >= 0 and groups <= GEMM_GROUPS
                and size ** 2 * groups < GATHER_COST * n_same):
            within = _products_within(condensed_columns, size, groups, labels)
        else:
            within = _gathered_within(condensed_columns, size, labels)
        stats = within / n_same - (np.array(totals) - within) / (n - n_same)
    # the means of the statistic's sums: the pairs between groups (most of them) are not copied out to be averaged
    return [{"column": column, "value": value, "same_pairs": n_same, "within": w / n_same,
             "between": (t - w) / (n - n_same), "difference": observed[i],
             "p_greater": (1 + (stats[:, i] >= observed[i]).sum()) / (permutations + 1),
             "p_less": (1 + (stats[:, i] <= observed[i]).sum()) / (permutations + 1)}
            for i, (value, w, t) in enumerate(zip(values, within_sums, totals))]
