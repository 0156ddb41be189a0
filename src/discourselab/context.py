"""Keywords in context: concordances and collocates.

A query is normalized by the same pipeline as the texts, so a glossary concept
finds every rendering of it (``grassroots`` finds *primary-level* too) and a
lemma finds every inflection.
"""

from __future__ import annotations

from html import escape

import numpy as np
import pandas as pd

from .frequency import group_of, in_groups, row_counts
from .keyness import log_likelihood
from .text import TextPipeline

CONCORDANCE_COLUMNS = ["doc_id", "author", "paragraph_id", "left", "keyword", "right"]


def query_term(query: str, pipeline: TextPipeline) -> str:
    """The normalized term a query stands for (its lemma, phrase and glossary concept)."""
    tokens = pipeline.analyze(query)
    words = [t for t in tokens if t[2] or t[1]]
    if len(words) == 1 and words[0][1]:
        return words[0][1]
    return " ".join(t[0].lower() for t in tokens)


def query_paragraphs(counts: pd.DataFrame, paragraphs: pd.DataFrame, queries, pipeline: TextPipeline) -> list[str]:
    """The paragraphs in which :func:`concordance` and :func:`collocates` can find any of ``queries``.

    Those whose terms (from the count table) include a query's term, and those
    whose text holds it as written (a stop word has no term). Their token
    table (e.g. :meth:`discourselab.study.Study.tokens_of`) is all those two
    need, so the whole corpus's never has to be held.
    """
    terms = {query_term(q, pipeline) for q in queries}
    found = set(counts.loc[counts["term"].isin(terms), "paragraph_id"].astype(object))

    def written(text: str) -> bool:  # one paragraph's lower-case text at a time, not a copy of the corpus's
        lowered = text.lower()
        return any(term in lowered for term in terms)

    return [p for p, text in zip(paragraphs["paragraph_id"], paragraphs["text"]) if p in found or written(text)]


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
    table = tokens.assign(group=in_groups(tokens["doc_id"], groups)).sort_values(["doc_id", "position"])
    whole = tokens if counts is None else counts
    sized = pd.DataFrame({"group": in_groups(whole["doc_id"], groups), "term": whole["term"],
                          "count": row_counts(whole)})
    group_tokens = sized.groupby("group")["count"].sum()
    totals = sized.groupby(["group", "term"], observed=True)["count"].sum()
    rows = []
    for group, part in table.groupby("group", sort=True):
        terms, paras = part["term"].to_numpy(dtype=object), part["paragraph_id"].to_numpy(dtype=object)
        hits = np.flatnonzero(terms == node)
        if not len(hits):
            continue
        # token positions inside some node's window (each counted once, so f_nc <= f_c)
        inside = {j for i in hits for j in range(max(0, i - window), min(len(terms), i + window + 1))
                  if paras[j] == paras[i]} - set(hits.tolist())
        slots = len(inside)
        near: dict[str, int] = {}
        for j in inside:
            if isinstance(terms[j], str):
                near[terms[j]] = near.get(terms[j], 0) + 1
        n_tokens = int(group_tokens[group])
        for collocate, f_nc in near.items():
            if f_nc < min_count or collocate == node:
                continue
            f_c = int(totals[(group, collocate)])
            rows.append({"by": by, "group": group, "node": node, "collocate": collocate, "count": f_nc,
                         "node_count": len(hits), "collocate_count": f_c,
                         "log_dice": 14 + np.log2(2 * f_nc / (len(hits) + f_c)),
                         "g2": float(log_likelihood(f_nc, f_c - f_nc, slots, n_tokens - slots))})
    columns = ["by", "group", "node", "collocate", "count", "node_count", "collocate_count", "log_dice", "g2"]
    result = pd.DataFrame(rows, columns=columns)
    return result.sort_values(["group", "log_dice", "collocate"], ascending=[True, False, True],
                              kind="stable").reset_index(drop=True)
