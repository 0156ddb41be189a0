"""Keywords in context: concordances and collocates.

A query is normalized by the same pipeline as the texts, so a glossary concept
finds every rendering of it (``grassroots`` finds *primary-level* too) and a
lemma finds every inflection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from html import escape

import numpy as np
import pandas as pd

from .frequency import group_of, row_group_codes, sum_by_key
from .keyness import log_likelihood
from .progress import bar
from .text import TextPipeline, paragraph_chunks, rereadable, table_parts

CONCORDANCE_COLUMNS = ["doc_id", "author", "paragraph_id", "left", "keyword", "right"]
#: Rows of a count table that :func:`collocates` sums at a time.
TOTALS_ROWS = 1 << 20
COLLOCATE_COLUMNS = ["by", "group", "node", "collocate", "count", "node_count", "collocate_count", "log_dice", "g2"]


def query_term(query: str, pipeline: TextPipeline) -> str:
    """The normalized term a query stands for (its lemma, phrase and glossary concept)."""
    tokens = pipeline.analyze(query)
    words = [t for t in tokens if t[2] or t[1]]
    if len(words) == 1 and words[0][1]:
        return words[0][1]
    return " ".join(t[0].lower() for t in tokens)


def query_paragraphs(counts, paragraphs, queries, pipeline: TextPipeline) -> list[str]:
    """The paragraphs in which :func:`concordance` and :func:`collocates` can find any of ``queries``.

    Those whose terms (from the count table) include a query's term, and those
    whose text holds it as written (a stop word has no term). Their token
    table (e.g. :meth:`discourselab.study.Study.tokens_of`, or a chunk of them
    at a time as in :func:`keywords_in_context`) is all those two need, so the
    whole corpus's never has to be held. ``counts`` and ``paragraphs`` are
    tables, or tables one after another (e.g. :meth:`~discourselab.study.Study.count_parts`,
    :meth:`~discourselab.corpus.Corpus.paragraph_parts`).
    """
    return [p for rows in _query_rows(counts, paragraphs, queries, pipeline) for p in rows["paragraph_id"]]


def _query_rows(counts, paragraphs, queries, pipeline: TextPipeline) -> Iterator[pd.DataFrame]:
    """The rows of :func:`query_paragraphs`' paragraphs, a table's (or a part's) at a time."""
    terms = {query_term(q, pipeline) for q in queries}
    found = {p for part in table_parts(counts) for p in part.loc[part["term"].isin(terms), "paragraph_id"].astype(object)}

    def written(text: str) -> bool:  # one paragraph's lower-case text at a time, not a copy of the corpus's
        lowered = text.lower()
        return any(term in lowered for term in terms)

    for part in table_parts(paragraphs):
        yield part[[p in found or written(text) for p, text in zip(part["paragraph_id"], part["text"])]]


def _context(text: str, start: int, end: int, words: int) -> tuple[str, str, str]:
    left = text[:start].split()
    right = text[end:].split()
    return " ".join(left[-words:]) if words else "", text[start:end], " ".join(right[:words]) if words else ""


def concordance(tokens: pd.DataFrame, paragraphs: pd.DataFrame, pieces: pd.DataFrame, query: str,
                pipeline: TextPipeline, *, words: int = 8) -> pd.DataFrame:
    """Every occurrence of a term or concept, with its context in the original text.

    Parameters
    ----------
    tokens : DataFrame
        The token table (with ``start`` and ``end`` offsets).
    paragraphs, pieces : DataFrame
        From :func:`~discourselab.load_corpus`.
    query : str
        A word, phrase or glossary concept, as a reader would write it.
    pipeline : TextPipeline
        The pipeline that made ``tokens``.
    words : int
        Words of context on each side (within the paragraph).

    Returns
    -------
    DataFrame
        ``doc_id``, ``author``, ``paragraph_id``, ``left``, ``keyword`` (as
        written in the text) and ``right``, in corpus order.
    """
    term = query_term(query, pipeline)
    hits = tokens[(tokens["term"] == term) | (tokens["token"].str.lower() == term)]
    texts = paragraphs.set_index("paragraph_id")["text"]
    authors = pieces.set_index("doc_id")["author"] if "author" in pieces else pd.Series(dtype=str)
    rows = []
    for hit in hits.itertuples(index=False):
        left, keyword, right = _context(texts[hit.paragraph_id], hit.start, hit.end, words)
        rows.append({"doc_id": hit.doc_id, "author": authors.get(hit.doc_id, ""), "paragraph_id": hit.paragraph_id,
                     "left": left, "keyword": keyword, "right": right})
    return pd.DataFrame(rows, columns=CONCORDANCE_COLUMNS)


def render_concordance(lines: pd.DataFrame, *, max_lines: int | None = None, label: str = "doc_id") -> str:
    """An HTML table of concordance lines, keyword centred and bold. All text is escaped."""
    shown = lines if max_lines is None else lines.head(max_lines)
    rows = "".join(
        f"<tr><td style='color:#666;font-size:85%;white-space:nowrap'>{escape(str(getattr(r, label)))}</td>"
        f"<td style='text-align:right'>{escape(r.left)}</td>"
        f"<td style='text-align:center'><b>{escape(r.keyword)}</b></td>"
        f"<td style='text-align:left'>{escape(r.right)}</td></tr>"
        for r in shown.itertuples(index=False)
    )
    more = (f"<p style='color:#666'>{len(lines) - len(shown)} more line(s) in the table.</p>"
            if len(shown) < len(lines) else "")
    return f"<table class='concordance'>{rows}</table>{more}"


def collocates(tokens: pd.DataFrame, pieces: pd.DataFrame, query: str, pipeline: TextPipeline, *,
               by: str = "role", window: int = 5, min_count: int = 2, counts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Terms that occur near a node term, for each group, ranked by logDice.

    The window is ``window`` tokens either side of each occurrence, within its
    paragraph (stop words take up places but are not counted as collocates). A
    token inside the windows of two occurrences is counted once.

    ``tokens`` may hold only the paragraphs with the node (see
    :func:`query_paragraphs`) when ``counts``, the count table of the whole
    corpus, gives the groups' sizes and term totals; the result is the same.

    Returns
    -------
    DataFrame
        ``by``, ``group``, ``node``, ``collocate``, ``count`` (co-occurrences,
        f_nc), ``node_count`` (f_n), ``collocate_count`` (f_c, in the group),
        ``log_dice`` = 14 + log2(2 f_nc / (f_n + f_c)) (Rychlý 2008; at most
        14), and ``g2`` (log-likelihood of f_nc among the W tokens in the node's
        windows against f_c - f_nc among the group's other N - W tokens).
        Sorted by group, then logDice.
    """
    node = query_term(query, pipeline)
    groups = group_of(pieces, by)
    near, sizes = _window_counts(tokens, groups, node, window)
    near = near[near["count"] >= min_count]
    totals = _group_totals(tokens if counts is None else counts, groups, near["collocate"].unique())
    return _scored(near, sizes, totals, by, node)


def _window_counts(tokens: pd.DataFrame, groups: pd.Series, node: str, window: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What :func:`collocates` counts in the node's windows, summable over tables of different paragraphs.

    Returns ``near`` (``group``, ``collocate``, ``count``: tokens of each term
    inside some window) and ``sizes`` (index ``group``: ``node_count``, the
    node's occurrences, and ``slots``, the tokens inside its windows). Windows
    stay inside a paragraph, so a table of whole paragraphs gives its own share.
    """
    table = tokens.sort_values(["doc_id", "position"], kind="stable")
    terms, vocabulary = pd.factorize(table["term"])  # missing (stop words, numbers): -1
    paragraph = pd.factorize(table["paragraph_id"])[0]
    group, labels = row_group_codes(table["doc_id"], groups)  # no group: -1
    node_code = vocabulary.get_loc(node) if node in vocabulary else -2
    hits = np.flatnonzero((terms == node_code) & (group >= 0))
    around = np.arange(-window, window + 1)
    place = (hits[:, None] + around).ravel()
    centre = np.repeat(hits, len(around))
    keep = (place >= 0) & (place < len(terms))
    place, centre = place[keep], centre[keep]
    # each token inside some window counted once, the node's own occurrences left out (so f_nc <= f_c)
    inside = np.setdiff1d(place[paragraph[place] == paragraph[centre]], hits)
    sizes = pd.DataFrame({"node_count": np.bincount(group[hits], minlength=len(labels)),
                          "slots": np.bincount(group[inside], minlength=len(labels))},
                         index=pd.Index(labels, name="group"))
    inside = inside[terms[inside] >= 0]
    near = (pd.DataFrame({"group": labels[group[inside]], "collocate": vocabulary[terms[inside]]})
            .value_counts(sort=False).rename("count").reset_index())
    return near, sizes[sizes["node_count"] > 0]


def _group_totals(counts, groups: pd.Series, terms=None) -> tuple[pd.Series, pd.Series]:
    """Each group's tokens, and the count of each of ``terms`` (all when None) in each group.

    From a token or count table, or its parts one after another (their totals added up).
    """
    found = [_part_totals(part, groups, terms) for part in table_parts(counts)]
    if len(found) == 1:
        return found[0]
    return tuple(pd.concat([f[i] for f in found]).groupby(level=list(range(found[0][i].index.nlevels))).sum()
                 for i in (0, 1))


def _part_totals(whole: pd.DataFrame, groups: pd.Series, terms=None) -> tuple[pd.Series, pd.Series]:
    """:func:`_group_totals` of one table, on its integer codes, ``TOTALS_ROWS`` rows at a time (it is not copied)."""
    term = whole["term"] if isinstance(whole["term"].dtype, pd.CategoricalDtype) else whole["term"].astype("category")
    term_codes = term.cat.codes.to_numpy()
    weight = whole["count"].to_numpy() if "count" in whole else np.ones(len(whole), np.int8)
    group, labels = row_group_codes(whole["doc_id"], groups)  # a piece in no group: -1
    vocabulary = term.cat.categories
    chosen = np.ones(len(vocabulary) + 1, dtype=bool)  # the last place: a missing term (code -1)
    if terms is not None:
        chosen[:] = False
        found = vocabulary.get_indexer(list(terms))
        chosen[found[found >= 0]] = True
    chosen[-1] = False
    group_tokens = np.zeros(len(labels), dtype=np.int64)
    keys, sums = [], []
    for start in range(0, len(whole), TOTALS_ROWS):
        rows = slice(start, start + TOTALS_ROWS)
        row_group, row_term, row_weight = group[rows], term_codes[rows], weight[rows].astype(np.int64)
        in_group = row_group >= 0
        group_tokens += np.bincount(row_group[in_group], weights=row_weight[in_group],
                                    minlength=len(labels)).astype(np.int64)
        keep = in_group & chosen[row_term]
        part = sum_by_key(row_group[keep].astype(np.int64) * len(vocabulary) + row_term[keep], row_weight[keep])
        keys.append(part[0])
        sums.append(part[2])
    keys, _, summed = sum_by_key(np.concatenate(keys or [np.zeros(0, np.int64)]),
                                 np.concatenate(sums or [np.zeros(0, np.int64)]))
    index = pd.MultiIndex.from_arrays([labels[keys // len(vocabulary)].astype(object),
                                       vocabulary[keys % len(vocabulary)].astype(object)])
    return pd.Series(group_tokens, index=labels), pd.Series(summed, index=index)


def _scored(near: pd.DataFrame, sizes: pd.DataFrame, group_totals: tuple[pd.Series, pd.Series], by: str,
            node: str) -> pd.DataFrame:
    """The collocates table from the window counts (those of at least ``min_count``) and :func:`_group_totals`."""
    group_tokens, totals = group_totals
    near = near[(near["collocate"] != node) & near["group"].isin(sizes.index)]
    f_nc = near["count"].to_numpy(np.int64)
    f_n = sizes["node_count"].reindex(near["group"]).to_numpy(np.int64)
    slots = sizes["slots"].reindex(near["group"]).to_numpy(np.int64)
    n_tokens = group_tokens.reindex(near["group"]).to_numpy(np.int64)
    wanted = pd.MultiIndex.from_arrays([near["group"].astype(object), near["collocate"].astype(object)])
    f_c = totals.reindex(wanted).to_numpy(np.int64)
    result = pd.DataFrame({"by": by, "group": near["group"].to_numpy(object), "node": node,
                           "collocate": near["collocate"].to_numpy(object), "count": f_nc, "node_count": f_n,
                           "collocate_count": f_c, "log_dice": 14 + np.log2(2 * f_nc / (f_n + f_c)),
                           "g2": log_likelihood(f_nc, f_c - f_nc, slots, n_tokens - slots)}, columns=COLLOCATE_COLUMNS)
    return result.sort_values(["group", "log_dice", "collocate"], ascending=[True, False, True],
                              kind="stable").reset_index(drop=True)


def keywords_in_context(paragraphs: pd.DataFrame, pieces: pd.DataFrame, queries, pipeline: TextPipeline,
                        counts, *, by: str = "role", window: int = 5, min_count: int = 2,
                        words: int = 8, chunk: int = 2000) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`concordance` and :func:`collocates` of several queries in one pass, a chunk of paragraphs at a time.

    Only the paragraphs that hold a query (:func:`query_paragraphs`) are
    analysed, at most ``chunk`` of them and ``CHUNK_CHARACTERS`` of text at a
    time (:func:`~discourselab.text.paragraph_chunks`), and only one chunk's
    token table is held at a time, so the tokens held grow neither with the
    corpus nor with the length of its paragraphs. The tables are those of the two
    functions on the whole token table, query after query.

    Parameters
    ----------
    paragraphs : DataFrame or iterable of DataFrame
        From :func:`~discourselab.load_corpus`: a corpus's ``paragraphs``, or
        its :meth:`~discourselab.corpus.Corpus.paragraph_parts`, read a part at
        a time (only the paragraphs that hold a query are kept).
    pieces : DataFrame
        From :func:`~discourselab.load_corpus`.
    queries : list of str
        Words, phrases or glossary concepts.
    counts : DataFrame or iterable of DataFrame
        The count table of the whole corpus (groups' sizes and term totals),
        or its parts one after another (e.g. :meth:`~discourselab.study.Study.count_parts`).
    by, window, min_count
        As for :func:`collocates`.
    words
        As for :func:`concordance`.

    Returns
    -------
    lines : DataFrame
        ``query`` (as given), then the columns of :func:`concordance`.
    collocates : DataFrame
        The columns of :func:`collocates`, one query after another.
    """
    queries = list(dict.fromkeys(queries))
    lines, collocate_table = collected(keyword_parts(paragraphs, pieces, queries, pipeline, counts, by=by,
                                                     window=window, min_count=min_count, words=words, chunk=chunk),
                                       queries)
    return pd.concat(list(lines), ignore_index=True), collocate_table


def collected(parts: Iterable[tuple[str | None, pd.DataFrame]], queries) -> tuple[ConcordanceLines, pd.DataFrame]:
    """The lines (held) and the collocates of :func:`keyword_parts`."""
    lines = ConcordanceLines(queries)
    for query, table in parts:
        if query is None:
            collocate_table = table
        else:
            lines.add(query, table)
    return lines, collocate_table


def keyword_parts(paragraphs, pieces: pd.DataFrame, queries, pipeline: TextPipeline, counts, *, by: str = "role",
                  window: int = 5, min_count: int = 2, words: int = 8,
                  chunk: int = 2000) -> Iterator[tuple[str | None, pd.DataFrame]]:
    """What :func:`keywords_in_context` finds, as it finds it: ``(query, lines)``, then ``(None, collocates)``.

    For each chunk of paragraphs, each query with lines there gives its lines
    (``query`` then the columns of :func:`concordance`), in query order; the
    collocates of every query come last. So the lines can be stored, or
    written, as they are found: the lines of one chunk are held, not the
    corpus's (at 31M words, 69,472 lines). The lines of one query, joined in
    the order they come, are its rows of ``keywords_in_context``.
    """
    queries = list(dict.fromkeys(queries))
    nodes = {q: query_term(q, pipeline) for q in queries}
    groups = group_of(pieces, by)
    counts = rereadable(counts)  # read twice: for the paragraphs with a query, and for the totals
    near: dict[str, pd.DataFrame] = {}  # window counts summed over the chunks so far
    sizes: dict[str, pd.DataFrame] = {}
    # the paragraphs with a query as they are found, never all at once: at 31M words 48,640 paragraphs (53 MB)
    for part in bar(paragraph_chunks(_query_rows(counts, paragraphs, queries, pipeline), chunk),
                    desc="concordances", unit="chunk"):
        tokens = pipeline.token_table(part)
        for query in queries:
            lines = concordance(tokens, part, pieces, query, pipeline, words=words)
            if len(lines):
                lines.insert(0, "query", query)
                yield query, lines
            del lines
            found, held = _window_counts(tokens, groups, nodes[query], window)
            if query in near:
                found = pd.concat([near[query], found]).groupby(["group", "collocate"], sort=False,
                                                                as_index=False)["count"].sum()
                held = pd.concat([sizes[query], held]).groupby(level="group", sort=False).sum()
            near[query], sizes[query] = found, held
    near = {q: table[table["count"] >= min_count] for q, table in near.items()}
    group_totals = _group_totals(counts, groups, {t for table in near.values() for t in table["collocate"]})
    collocate_tables = [_scored(near[query], sizes[query], group_totals, by, nodes[query])
                        for query in queries if query in near]
    yield None, (pd.concat(collocate_tables, ignore_index=True) if collocate_tables
                 else pd.DataFrame(columns=COLLOCATE_COLUMNS))


class ConcordanceLines:
    """The concordance lines of several queries, as tables of some lines each: held, or read when reached.

    Iterated, it gives every table, query after query (at least one table,
    empty when there is no line): joined, the lines table of
    :func:`keywords_in_context`. :meth:`of` gives one query's lines. With
    ``read``, a query's tables are ``read(query)`` (e.g. from the cache);
    else they are those given to :meth:`add`.
    """

    def __init__(self, queries, read: Callable[[str], Iterable[pd.DataFrame]] | None = None):
        self.queries = list(dict.fromkeys(queries))
        self._held: dict[str, list[pd.DataFrame]] = {q: [] for q in self.queries}
        self._read = read

    def add(self, query: str, lines: pd.DataFrame) -> None:
        self._held[query].append(lines)

    def tables(self, query: str) -> Iterator[pd.DataFrame]:
        """The tables of one query's lines, in order (held ones as shallow copies: a column added is not kept)."""
        return iter(self._read(query)) if self._read else (table.copy(deep=False) for table in self._held[query])

    def of(self, query: str) -> pd.DataFrame:
        """One query's lines (``query`` then the columns of :func:`concordance`), numbered from 0."""
        tables = list(self.tables(query))
        return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=["query", *CONCORDANCE_COLUMNS])

    def __iter__(self) -> Iterator[pd.DataFrame]:
        empty = True
        for query in self.queries:
            for table in self.tables(query):
                empty = False
                yield table
        if empty:
            yield pd.DataFrame(columns=["query", *CONCORDANCE_COLUMNS])
