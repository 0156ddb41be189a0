"""Keyness: which terms a group uses more (or less) than a reference, by how much, how surely.

For each term, with ``a`` and ``b`` its counts in the group and the reference and
``N1``, ``N2`` their sizes in running words:

``g2``
    Log-likelihood G2 (Dunning 1993) on the full 2x2 table
    ``[[a, b], [N1 - a, N2 - b]]``: 2 * sum O * ln(O / E) over all four cells,
    signed + where the group's rate is higher, - where it is lower.
``p``
    P-value of |G2| against chi-squared with 1 degree of freedom.
``q``
    Benjamini-Hochberg adjusted p-value over all terms tested in one comparison.
``log_ratio``
    Log Ratio (Hardie 2014): log2((a / N1) / (b / N2)); each doubling of the
    rate adds 1. A zero count is replaced by 0.5 so that the value stays finite
    (Hardie's suggested adjustment); the ``weak`` flag marks such terms.
``log_ratio_low``, ``log_ratio_high``
    95% confidence interval of the Log Ratio (see :func:`log_ratio_interval`).
``pct_diff``
    %DIFF (Gabrielatos and Marchi 2011): 100 * (a / N1 - b / N2) / (b / N2),
    with the same 0.5 adjustment of a zero reference count.
``log_odds_z``
    Weighted log-odds ratio with an informative Dirichlet prior (Monroe,
    Colaresi and Quinn 2008, "Fightin' Words"), as a z-score. The prior for a
    term is its count in the whole corpus (``alpha_w``), with ``alpha_0`` the
    corpus size; delta = ln((a + alpha_w) / (N1 + alpha_0 - a - alpha_w)) -
    ln((b + alpha_w) / (N2 + alpha_0 - b - alpha_w)), variance approximately
    1 / (a + alpha_w) + 1 / (b + alpha_w), z = delta / sqrt(variance).
``expected_group``, ``expected_reference``
    Expected counts under no difference: N1 * (a + b) / (N1 + N2), and N2 * ...
``weak``, ``weak_reason``
    Weak evidence, with the reasons: an expected count below 5 with |G2| under
    15.13 (Rayson, Berridge and Francis 2004 find G2 trustworthy at such small
    counts only beyond that value, p < 0.0001); a term found in one paragraph
    only (one passage, not a habit); or, for a term the group overuses, found in
    only one of the group's several pieces (one author, not the group).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations

import numpy as np
import pandas as pd
from scipy.special import erfc, xlogy
from scipy.stats import false_discovery_control, norm

from .frequency import group_of, group_terms, plain
from .memory import trim_heap

KEYNESS_COLUMNS = [
    "by", "group", "reference", "term", "count_group", "count_reference", "words_group", "words_reference",
    "per_1000_group", "per_1000_reference", "expected_group", "expected_reference",
    "paragraphs_group", "paragraphs_reference", "pieces_group",
    "g2", "p", "q", "log_ratio", "log_ratio_low", "log_ratio_high", "pct_diff", "log_odds_z", "weak", "weak_reason",
]
ZERO_ADJUSTMENT = 0.5
#: Rows of a table of :func:`comparison_tables`, at least (whole comparisons; the last may have fewer).
COMPARISON_ROWS = 100_000
MIN_EXPECTED = 5.0
#: Critical G2 for p < 0.0001, which Rayson, Berridge and Francis (2004) recommend
#: when an expected count is below 5.
SMALL_SAMPLE_G2 = 15.13


def log_likelihood(a, b, n1, n2):
    """Unsigned G2 on the 2x2 table [[a, b], [n1 - a, n2 - b]] (arrays welcome)."""
    a, b, n1, n2 = (np.asarray(x, dtype=float) for x in (a, b, n1, n2))
    total = n1 + n2
    observed = [a, b, n1 - a, n2 - b]
    expected = [n1 * (a + b) / total, n2 * (a + b) / total,
                n1 * (total - a - b) / total, n2 * (total - a - b) / total]
    # xlogy(0, .) = 0: an empty cell adds nothing
    return 2 * sum(xlogy(o, o) - xlogy(o, e) for o, e in zip(observed, expected))


def log_ratio(a, b, n1, n2, adjust: float = ZERO_ADJUSTMENT):
    """Log Ratio (Hardie 2014), with zero counts replaced by ``adjust``."""
    a, b = (np.where(np.asarray(x, dtype=float) == 0, adjust, x) for x in (a, b))
    return np.log2((a / n1) / (b / n2))


def log_ratio_interval(a, b, n1, n2, level: float = 0.95, adjust: float = ZERO_ADJUSTMENT):
    """Confidence interval of the Log Ratio, from the usual normal approximation for a ratio of two rates.

    The standard error of the natural log of the rate ratio is sqrt(1/a + 1/b)
    (counts treated as Poisson; zero counts replaced by ``adjust``, as in
    :func:`log_ratio`); on the binary-log scale it is divided by ln 2. With small
    counts the interval is wide, which is the point: it shows how little a
    large ratio from a few occurrences tells.

    Returns
    -------
    low, high : arrays
    """
    a, b = (np.where(np.asarray(x, dtype=float) == 0, adjust, x) for x in (a, b))
    centre = np.log2((a / n1) / (b / n2))
    half = norm.ppf(0.5 + level / 2) * np.sqrt(1 / a + 1 / b) / np.log(2)
    return centre - half, centre + half


def percent_diff(a, b, n1, n2, adjust: float = ZERO_ADJUSTMENT):
    """%DIFF (Gabrielatos and Marchi 2011), with a zero reference count replaced by ``adjust``."""
    b = np.where(np.asarray(b, dtype=float) == 0, adjust, b)
    return 100 * (np.asarray(a) / n1 - b / n2) / (b / n2)


def log_odds_z(a, b, n1, n2, prior, prior_total):
    """Weighted log-odds z-score with an informative Dirichlet prior (Monroe et al. 2008)."""
    a, b, prior = (np.asarray(x, dtype=float) for x in (a, b, prior))
    delta = (np.log((a + prior) / (n1 + prior_total - a - prior))
             - np.log((b + prior) / (n2 + prior_total - b - prior)))
    return delta / np.sqrt(1 / (a + prior) + 1 / (b + prior))


def chi2_sf_1(x):
    """P(X > x) for X chi-square with one degree of freedom: ``chi2.sf(x, df=1)``, computed fast.

    X is the square of a standard normal Z, so P(X > x) = P(|Z| > sqrt(x)) =
    erfc(sqrt(x / 2)); about seventy times faster than ``scipy.stats.chi2.sf``,
    which counts when a leave-one-out check recomputes every p-value per piece.
    """
    # a G2 a rounding error below 0 is 0 (chi2.sf gives 1 for any x <= 0)
    return erfc(np.sqrt(np.clip(np.asarray(x, dtype=float), 0, None) / 2))


def bh_rejects(p, alpha: float) -> np.ndarray:
    """Whether each p-value's Benjamini-Hochberg q is below ``alpha`` (the same as ``q < alpha`` of :func:`g2_test`).

    With 2-D ``p``, within each row. Only the p-values below ``alpha`` can have
    q below it, and their ranks among all are their ranks among themselves, so
    only those are sorted (see :func:`bh_limit`).
    """
    p = np.asarray(p, dtype=float)
    rows = p.reshape(int(np.prod(p.shape[:-1])), p.shape[-1]) if p.ndim else p.reshape(1, 1)
    limit = np.array([bh_limit(np.sort(row[row < alpha]), rows.shape[-1], alpha) for row in rows])
    return (rows <= limit[:, None]).reshape(p.shape)


def bh_limit(small: np.ndarray, m: int, alpha: float) -> float:
    """The largest p-value that Benjamini-Hochberg rejects at ``alpha`` among ``m`` tests (-inf if none).

    ``small`` holds, sorted, the p-values below ``alpha``: only those can have q
    below it, and their ranks among all ``m`` are their ranks among themselves.
    q = p * (m / rank), the running minimum from the largest rank down, with the
    same floating-point operations as ``scipy.stats.false_discovery_control``;
    every p-value at or below the returned one is rejected.
    """
    q = small * (m / np.arange(1, len(small) + 1, dtype=float))
    below = np.flatnonzero(np.minimum.accumulate(q[::-1])[::-1] < alpha)
    return float(small[below[-1]]) if len(below) else -np.inf


def g2_test(a, b, n1, n2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Signed G2 (positive: more frequent in the group), its p-value and the BH q-values over all terms given.

    With 2-D counts (a comparison per row, ``n1`` and ``n2`` as columns), the
    q-values are computed within each row.
    """
    g2 = log_likelihood(a, b, n1, n2)
    p = chi2_sf_1(g2)
    q = false_discovery_control(p, method="bh", axis=-1) if p.size else p
    return np.sign(np.asarray(a) / n1 - np.asarray(b) / n2) * g2, p, q


def keyness_stats(a, b, n1, n2, prior, prior_total) -> pd.DataFrame:
    """Every statistic for aligned arrays of counts (see the module docstring)."""
    g2, p, q = g2_test(a, b, n1, n2)
    low, high = log_ratio_interval(a, b, n1, n2)
    return pd.DataFrame({
        "expected_group": n1 * (np.asarray(a) + b) / (n1 + n2),
        "expected_reference": n2 * (np.asarray(a) + b) / (n1 + n2),
        "g2": g2,
        "p": p,
        "q": q,
        "log_ratio": log_ratio(a, b, n1, n2),
        "log_ratio_low": low,
        "log_ratio_high": high,
        "pct_diff": percent_diff(a, b, n1, n2),
        "log_odds_z": log_odds_z(a, b, n1, n2, prior, prior_total),
    })


def _weakness(stats: pd.DataFrame, paragraphs, one_piece) -> tuple[np.ndarray, np.ndarray]:
    """Flag weak evidence and say why (see the module docstring)."""
    low = ((np.minimum(stats["expected_group"], stats["expected_reference"]) < MIN_EXPECTED)
           & (stats["g2"].abs() < SMALL_SAMPLE_G2)).to_numpy()
    checks = [
        (low, f"expected count < {MIN_EXPECTED:g} and |G2| < {SMALL_SAMPLE_G2}"),
        (np.asarray(paragraphs) <= 1, "in one paragraph only"),
        (np.asarray(one_piece), "in one piece of the group only"),
    ]
    # each combination of flags has one text: look it up by the flags as the bits of a number
    combination = sum(np.asarray(flags, dtype=int) << bit for bit, (flags, _) in enumerate(checks))
    texts = np.array(["; ".join(text for bit, (_, text) in enumerate(checks) if n >> bit & 1)
                      for n in range(1 << len(checks))], dtype=object)
    return combination > 0, texts[combination]


def _by_group(table: pd.DataFrame, columns: list[str]) -> list[pd.DataFrame]:
    """group x term tables of columns of :func:`~discourselab.frequency.group_terms`' table (0 where absent).

    Rows: the groups with at least one term; columns: the terms that occur, both sorted.
    """
    rows, row = np.unique(table["group"].cat.codes.to_numpy(), return_inverse=True)
    terms, col = np.unique(table["term"].cat.codes.to_numpy(), return_inverse=True)
    index, header = table["group"].cat.categories[rows], table["term"].cat.categories[terms]
    frames = []
    for column in columns:
        values = np.zeros((len(rows), len(terms)), dtype=np.int64)
        values[row, col] = table[column].to_numpy()
        frames.append(pd.DataFrame(values, index=index, columns=header))
    return frames


def compare_groups(tokens, pieces: pd.DataFrame, by: str, *, pairs=None,
                   min_count: int = 3, min_paragraphs: int = 1) -> pd.DataFrame:
    """Keyness of each group against the rest of the corpus, and of chosen pairs of groups.

    Parameters
    ----------
    tokens : DataFrame or iterable of DataFrame
        The token table or the count table, or its parts (as for
        :func:`~discourselab.frequency.group_terms`).
    pieces : DataFrame
        With ``doc_id`` and the column ``by``.
    by : str
        Manifest column defining the groups.
    pairs : None, "all" or list of (group, group)
        Pairs to compare directly as well (``"all"``: every pair).
    min_count : int
        Test a term only if it occurs at least this often in group and reference together.
    min_paragraphs : int
        Test a term only if it occurs in at least this many paragraphs of group and reference
        together (a dispersion filter; 1 keeps every term, and ``weak`` flags single-paragraph terms).

    Returns
    -------
    DataFrame
        One row per comparison and term, with the columns of ``KEYNESS_COLUMNS``
        (see the module docstring); ``reference`` is "rest" or the other group's
        name. Sorted by comparison, then signed G2 (descending), then term.
    """
    tables = list(_comparisons(tokens, pieces, by, pairs, min_count, min_paragraphs))
    return _finished(_stacked(tables, KEYNESS_COLUMNS))


def comparison_tables(tokens, pieces: pd.DataFrame, by: str, *, pairs=None, min_count: int = 3,
                      min_paragraphs: int = 1, rows: int = COMPARISON_ROWS) -> Iterator[pd.DataFrame]:
    """The rows of :func:`compare_groups`, in the same order, a few whole comparisons at a time.

    Each table holds whole comparisons, at least ``rows`` rows of them but the
    last (each with its own index from 0); with no comparison, one empty
    table. The tables joined are :func:`compare_groups`' table: each
    comparison (its q-values too) depends on its own group and reference
    only. So the keyness of hundreds of groups (hundreds of thousands of
    rows) can be stored, written or searched without holding all of it.
    """
    batch, size, made = [], 0, False
    for table in _comparisons(tokens, pieces, by, pairs, min_count, min_paragraphs):
        batch.append(table)
        size += len(table["term"])
        if size >= rows:
            yield _finished(_stacked(batch, KEYNESS_COLUMNS))
            batch, size, made = [], 0, True
    if batch or not made:
        yield _finished(_stacked(batch, KEYNESS_COLUMNS))


def _comparisons(tokens, pieces: pd.DataFrame, by: str, pairs, min_count: int,
                 min_paragraphs: int) -> Iterator[dict[str, pd.Series]]:
    """Each comparison's rows of :func:`compare_groups`' table in turn, as a dict of columns."""
    groups = group_of(pieces, by)
    table, words = group_terms(tokens, groups)
    count, paras, in_pieces = _by_group(table, ["count", "paragraphs", "pieces"])
    prior, prior_total = count.sum(axis=0), float(words.sum())
    n_pieces = groups.value_counts()
    names = sorted(count.index)
    comparisons = [(g, "rest") for g in names]
    if pairs is not None:
        comparisons += list(combinations(names, 2)) if pairs == "all" else [tuple(p) for p in pairs]
    for group, reference in comparisons:
        if reference == "rest":
            b, n2, b_paras = prior - count.loc[group], prior_total - words[group], paras.sum() - paras.loc[group]
        else:
            b, n2, b_paras = count.loc[reference], float(words[reference]), paras.loc[reference]
        a, n1 = count.loc[group], float(words[group])
        keep = ((a + b) >= min_count) & ((paras.loc[group] + b_paras) >= min_paragraphs) & ((a + b) > 0)
        stats = keyness_stats(a[keep].to_numpy(), b[keep].to_numpy(), n1, n2,
                              prior[keep].to_numpy(), prior_total)
        one_piece = (in_pieces.loc[group][keep].to_numpy() == 1) & (n_pieces[group] > 1) & (stats["g2"] > 0)
        weak, reason = _weakness(stats, (paras.loc[group] + b_paras)[keep].to_numpy(), one_piece)
        table = pd.DataFrame({
            "by": by, "group": group, "reference": reference, "term": a.index[keep],
            "count_group": a[keep].to_numpy(), "count_reference": b[keep].to_numpy(),
            "words_group": n1, "words_reference": n2,
            "per_1000_group": 1000 * a[keep].to_numpy() / n1, "per_1000_reference": 1000 * b[keep].to_numpy() / n2,
            "paragraphs_group": paras.loc[group][keep].to_numpy(), "paragraphs_reference": b_paras[keep].to_numpy(),
            "pieces_group": in_pieces.loc[group][keep].to_numpy(),
        })
        table = pd.concat([table, stats], axis=1).assign(weak=weak, weak_reason=reason)
        table = table.sort_values(["g2", "term"], ascending=[False, True], kind="stable")
        columns = {column: table[column] for column in KEYNESS_COLUMNS}
        del table
        yield columns


def _finished(table: pd.DataFrame) -> pd.DataFrame:
    """Comparisons' rows joined by :func:`_stacked`, with plain values and word totals as integers."""
    result = plain(table)
    for column in ("words_group", "words_reference"):
        result[column] = result[column].astype("int64")
    return result


def _stacked(tables: list[dict[str, pd.Series]], columns: list[str]) -> pd.DataFrame:
    """The tables (each a dict of columns) one after another, as ``pd.concat`` would join them, a column at a time.

    Each column is let go from every table once it is joined (the dicts are
    emptied), so that the tables and the result are never both held whole,
    and the joined columns are put side by side without a copy. For the
    keyness of 43 authors at 31M words (800,359 rows): a traced peak of 237
    MB instead of 338 MB, and a resident peak about 100 MB lower.
    """
    if not tables:
        return pd.DataFrame(columns=columns)
    joined = []
    for column in columns:
        values = pd.concat([table.pop(column) for table in tables], ignore_index=True)
        joined.append(values.to_frame(column))
        trim_heap()  # the tables' columns are small blocks of the heap: their pages go back as they are let go
    return pd.concat(joined, axis=1)


def key_term_candidates(keyness: pd.DataFrame, n: int = 10) -> np.ndarray:
    """Which rows :func:`key_terms` with this ``n`` can pick: a boolean mask over ``keyness``.

    For each comparison (``by``, ``group``, ``reference``), the ``3 n`` rows
    with the largest |G2| in each direction (ties in the table's order), as
    :func:`key_terms` ranks them. ``key_terms`` of the rows kept gives what it
    gives of the whole table, so a figure of a few comparisons of a large
    table (hundreds of thousands of rows) needs a copy of these rows only.
    """
    g2 = keyness["g2"].to_numpy(dtype=float)
    side = np.sign(g2)
    comparison = np.where(np.isnan(side), 3, side + 1).astype(np.int64)  # the side: 0, 1, 2 (or 3: no G2)
    for column in ("by", "group", "reference"):  # with each column's codes: one number per comparison and side
        if column in keyness:
            codes, names = pd.factorize(keyness[column], use_na_sentinel=False)
            comparison = comparison * max(len(names), 1) + codes
    order = np.lexsort((-np.abs(g2), comparison))  # by comparison and side, then |G2|; stable: ties in order
    ranked = comparison[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]]) if len(ranked) else np.zeros(0, int)
    rank = np.arange(len(ranked)) - np.repeat(starts, np.diff(np.r_[starts, len(ranked)]))
    keep = np.zeros(len(g2), bool)
    keep[order[rank < 3 * n]] = True
    return keep & ((side == 1) | (side == -1))


def key_terms(keyness: pd.DataFrame, group: str, reference: str = "rest", *, n: int = 10,
              by: str | None = None, alpha: float = 0.05, measure: str = "log_ratio") -> pd.DataFrame:
    """The ``n`` strongest terms each way of one comparison.

    Among the ``3 n`` terms with the largest |G2| in each direction, terms with
    robust evidence (q < ``alpha`` and not weak) come first, then the others;
    each set is ranked by ``measure``. So a large ratio from a tiny count does
    not crowd out the evidence. The result has a ``significant`` column (q <
    ``alpha``) and is sorted by ``measure``, descending.
    """
    rows = keyness[(keyness["group"] == group) & (keyness["reference"] == reference)]
    if by is not None:
        rows = rows[rows["by"] == by]
    rows = rows.assign(significant=rows["q"] < alpha)
    picked = []
    for direction in (1, -1):
        side = rows[np.sign(rows["g2"]) == direction]
        side = side.reindex(side["g2"].abs().sort_values(ascending=False, kind="stable").index).head(3 * n)
        side = side.assign(_robust=side["significant"] & ~side["weak"], _strength=direction * side[measure])
        picked.append(side.sort_values(["_robust", "_strength"], ascending=False, kind="stable").head(n))
    result = pd.concat(picked).drop(columns=["_robust", "_strength"])
    return result.sort_values(measure, ascending=False, kind="stable").reset_index(drop=True)
