"""Topic models on paragraphs (or fixed-size chunks), aggregated to pieces, authors and groups.

Eleven pieces are too few documents for a topic model, so the documents are
paragraphs (or chunks of ``chunk_words`` running words). Two scikit-learn models:
NMF on TF-IDF and LDA on counts, each with the seed passed through.

Diagnostics, computed on the corpus itself for each model, number of topics k
and seed:

``coherence``
    Mean NPMI over pairs of each topic's top terms, with probabilities from
    document co-occurrence (Bouma 2009; Aletras and Stevenson 2013): from -1
    (never together) through 0 (independent) to 1 (always together).
``exclusivity``
    Mean over each topic's top terms of the share of the term's weight that
    lies in that topic (1: the term belongs to this topic alone).
``stability``
    Mean overlap (Jaccard) of the top-term sets of matched topics between this
    run and the runs with the other seeds; topics are matched one to one by the
    Hungarian algorithm. 1 means every seed finds the same topics.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix, csr_matrix, vstack
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import TfidfTransformer

from .corpus import Parts
from .errors import CorpusError
from .frequency import group_of, in_groups, row_counts
from .lda import LDA
from .memory import trim_heap
from .similarity import csr_rows

MODELS = ("nmf", "lda")
#: A model needs at least this many documents per topic to be worth reading.
MIN_DOCS_PER_TOPIC = 5
#: The diagnostics' fits run in parallel processes from this many documents per run.
PARALLEL_FROM = 300
#: Models are fitted on a seeded sample of at most this many documents (shares are inferred for all).
FIT_DOCS = 4000
#: Processes (joblib; -1: all cores) for LDA's inference of every document's shares after such a fit.
INFER_JOBS = -1
#: Documents whose shares are inferred at a time (split between the processes).
INFER_DOCS = 20_000
#: Documents whose TF-IDF :func:`sublinear_tfidf` weights at a time.
TFIDF_ROWS = 20_000
#: Rows np.bincount converts at a time when building the documents (see _sliced_bincount).
BINCOUNT_ROWS = 1 << 22
#: Resampled document counts held at a time by the prevalence bootstrap (resamples x a group's documents).
BOOT_CELLS = 1 << 20


class SmallCorpusWarning(UserWarning):
    """The corpus has few documents for the number of topics asked for."""


@dataclass
class TopicDocuments:
    """Documents for topic modelling: the count matrix and what each row is.

    ``counts`` is None once let go of (:func:`run_topics` keeps it only when
    asked): the documents' table and vocabulary still say what the rows and
    columns were.
    """

    counts: csr_matrix | None
    vocabulary: np.ndarray
    docs: pd.DataFrame  # doc_id, unit_id, words

    @property
    def shape(self) -> tuple[int, int]:
        """(documents, terms): the count matrix's shape, also once it is let go of."""
        return len(self.docs), len(self.vocabulary)

    def take(self, *rows: np.ndarray) -> list[csr_matrix]:
        """The count matrix's rows at each array of (increasing) row numbers."""
        return [self.counts[r] for r in rows]

    def blocks(self, size: int) -> Iterator[csr_matrix]:
        """The count matrix ``size`` rows at a time, in order (the last block may be shorter)."""
        for start in range(0, self.shape[0], size):
            yield self.counts[start:start + size]

    def document_frequency(self) -> np.ndarray:
        """How many documents hold each term."""
        return np.bincount(self.counts.indices, minlength=self.shape[1])


@dataclass
class StreamedDocuments(TopicDocuments):
    """Documents whose count matrix is made again from a table's parts whenever its rows are read.

    The matrix of a large corpus is never held whole (at 401,728 paragraphs,
    94 MB, and 94 MB more for its TF-IDF): each reading is a pass over the
    parts, which holds one part's rows and the rows asked for. ``counts`` is
    None; :meth:`take` and :meth:`blocks` give the rows that
    :func:`build_documents` would hold, to the bit. Made by
    :func:`stream_documents`.
    """

    source: Parts | None = None
    unit: str = "paragraph"
    chunk_words: int = 200
    keep: np.ndarray | None = None  # the columns kept, of the parts' term categories
    frequency: np.ndarray | None = None  # documents that hold each kept term

    def _parts(self) -> Iterator[csr_matrix]:
        for part in self.source:
            yield _unit_counts(part, self.unit, self.chunk_words)[0][:, self.keep]

    def take(self, *rows: np.ndarray) -> list[csr_matrix]:
        taken: list[list[csr_matrix]] = [[] for _ in rows]
        start = 0
        for part in self._parts():
            stop = start + part.shape[0]
            for wanted, found in zip(rows, taken):
                inside = wanted[(wanted >= start) & (wanted < stop)] - start
                if len(inside):
                    found.append(part[inside])
            start = stop
        return [_stacked(found, len(r), self.shape[1]) for found, r in zip(taken, rows)]

    def blocks(self, size: int) -> Iterator[csr_matrix]:
        held, rows = [], 0
        for part in self._parts():
            while part.shape[0]:
                cut = min(size - rows, part.shape[0])
                held.append(part[:cut])
                part, rows = part[cut:], rows + cut
                if rows == size:
                    yield _stacked(held, rows, self.shape[1])
                    held, rows = [], 0
        if rows:
            yield _stacked(held, rows, self.shape[1])

    def document_frequency(self) -> np.ndarray:
        return self.frequency


def _stacked(blocks: list[csr_matrix], rows: int, width: int) -> csr_matrix:
    """The blocks' rows one after another (int32 counts; an empty matrix of ``rows`` x ``width`` for none)."""
    if not blocks:
        return csr_matrix((rows, width), dtype=np.int32)
    stacked = vstack(blocks, format="csr") if len(blocks) > 1 else csr_matrix(blocks[0])
    assert stacked.shape == (rows, width)
    return stacked


def build_documents(tokens, *, unit: str = "paragraph", chunk_words: int = 200,
                    min_df: int = 2, max_terms: int | None = 5000) -> TopicDocuments:
    """A document-term count matrix of paragraphs or chunks, from the token table's codes.

    The same matrix as scikit-learn's ``CountVectorizer(min_df=min_df,
    max_features=max_terms)`` on each document's terms (columns in sorted
    order; int32 counts), without handling a Python object per token. Given
    the count table of 31M words in parts (12.4M rows), its resident memory
    peaked 199 MB above where it began (373 MB when the parts' matrices were
    stacked whole before their columns were taken).

    Parameters
    ----------
    tokens : DataFrame or iterable of DataFrame
        The token table, or the count table for paragraphs; or its parts one
        after another, each holding whole pieces and sharing the table's
        ``term`` categories (e.g. :meth:`~discourselab.study.Study.count_parts`).
    unit : "paragraph" or "chunk"
        Paragraphs, or consecutive runs of ``chunk_words`` running words within a piece.
    min_df : int
        Keep terms found in at least this many documents.
    max_terms : int, optional
        Keep at most this many terms, the most frequent (bounds the cost on a
        large corpus; a small corpus has fewer anyway); of terms tied at the
        cut, the alphabetically first.

    Returns
    -------
    TopicDocuments
        ``docs`` has ``doc_id``, ``unit_id`` (the paragraph id, or ``doc_id#n``)
        and ``words`` (running words) for each row of ``counts``.
    """
    if isinstance(tokens, pd.DataFrame):
        made = [_unit_counts(tokens, unit, chunk_words)]
    else:  # parts of whole pieces: their units' rows one after another
        made = [_unit_counts(part, unit, chunk_words) for part in tokens]
        if not made:
            raise ValueError("build_documents was given no parts of a table")
    terms = made[0][2]
    if not all(m[2].equals(terms) for m in made):
        raise ValueError("the parts of a table must share its term categories")
    docs = _documents_table([m[1] for m in made])
    parts = [m[0] for m in made]
    del made
    width = len(terms)
    in_docs = sum(_sliced_bincount(p.indices, None, width) for p in parts)  # documents that hold each term
    keep = _kept_terms(in_docs, lambda: sum(_sliced_bincount(p.indices, p.data, width) for p in parts),
                       len(docs), min_df, max_terms)
    vocabulary = np.asarray(terms, dtype=object)[keep]
    return TopicDocuments(_stacked_columns(parts, keep, int(in_docs[keep].sum())), vocabulary, docs)


def stream_documents(parts: Parts, *, unit: str = "paragraph", chunk_words: int = 200,
                     min_df: int = 2, max_terms: int | None = 5000) -> StreamedDocuments:
    """:func:`build_documents` of a table's parts, without holding the count matrix (:class:`StreamedDocuments`).

    One pass over the parts finds the documents and the terms kept; their
    rows are made again when read. ``parts`` must give the same tables each
    time it is iterated (as a :class:`~discourselab.corpus.Parts` does).
    """
    tables, in_docs, totals, terms = [], None, None, None
    for part in parts:
        counts, docs, part_terms = _unit_counts(part, unit, chunk_words)
        if terms is None:
            terms = part_terms
            in_docs, totals = np.zeros(len(terms), dtype=np.int64), np.zeros(len(terms), dtype=np.int64)
        elif not part_terms.equals(terms):
            raise ValueError("the parts of a table must share its term categories")
        in_docs += _sliced_bincount(counts.indices, None, len(terms))
        totals += _sliced_bincount(counts.indices, counts.data, len(terms)).astype(np.int64)  # whole numbers
        tables.append(docs)
        del counts
    if terms is None:
        raise ValueError("stream_documents was given no parts of a table")
    docs = _documents_table(tables)
    keep = _kept_terms(in_docs, lambda: totals, len(docs), min_df, max_terms)
    return StreamedDocuments(None, np.asarray(terms, dtype=object)[keep], docs, source=parts, unit=unit,
                             chunk_words=chunk_words, keep=keep, frequency=in_docs[keep])


def _documents_table(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """The parts' tables of documents, one after another."""
    docs = pd.concat(tables, ignore_index=True) if len(tables) > 1 else tables[0]
    # a piece's id once, not once per paragraph (at 401,728 paragraphs of 3,792 pieces, 2 MB instead of 28 MB)
    docs["doc_id"] = docs["doc_id"].astype("category")
    return docs


def _kept_terms(in_docs: np.ndarray, totals, n_docs: int, min_df: int, max_terms: int | None) -> np.ndarray:
    """The columns kept: terms in at least ``min_df`` documents, then the ``max_terms`` most frequent.

    ``totals()`` gives each term's count, asked for only when there are more
    terms than ``max_terms``; of terms tied at the cut, the earlier is kept.
    """
    keep = np.flatnonzero(in_docs >= max(1, min(min_df, n_docs)))
    if max_terms is not None and len(keep) > max_terms:
        counted = totals()[keep]  # whole numbers: exact
        keep = np.sort(keep[np.argsort(-counted, kind="stable")[:max_terms]])
    return keep


def _stacked_columns(parts: list[csr_matrix], keep: np.ndarray, stored: int) -> csr_matrix:
    """``vstack(parts, format="csr")[:, keep]``, made a part at a time; ``parts`` is emptied as they are copied.

    ``stored`` is the number of stored values in those columns. Each part is
    let go once its columns are copied in, so the parts and the result are
    never both held whole, and no whole stacked copy is made before the
    columns are taken (at 401,728 paragraphs, 12.4 million counts, about 100
    MB each).
    """
    rows = sum(part.shape[0] for part in parts)
    index = np.int32 if max(stored, len(keep)) < np.iinfo(np.int32).max else np.int64
    data = np.empty(stored, dtype=parts[0].dtype if parts else np.int32)
    indices, indptr = np.empty(stored, dtype=index), np.zeros(rows + 1, dtype=index)
    at = row = 0
    while parts:
        part = parts.pop(0)[:, keep]
        data[at:at + part.nnz] = part.data
        indices[at:at + part.nnz] = part.indices
        indptr[row + 1:row + 1 + part.shape[0]] = part.indptr[1:] + at
        at, row = at + part.nnz, row + part.shape[0]
        del part
        trim_heap()  # the parts are small blocks of the heap: their pages go back as they are let go
    return csr_matrix((data, indices, indptr), shape=(rows, len(keep)))


def _unit_counts(tokens: pd.DataFrame, unit: str, chunk_words: int):
    """The (unit x term) counts of one table (int32, columns in its term categories' order), its units, and those categories."""
    # categoricals (the token table's columns already are; astype keeps their categories)
    doc, term = tokens["doc_id"].astype("category"), tokens["term"].astype("category")
    doc_codes = doc.cat.codes.to_numpy()
    words = tokens["words"].to_numpy()
    if unit == "paragraph":
        paragraph = tokens["paragraph_id"].astype("category")
        key = paragraph.cat.codes.to_numpy()
    elif unit == "chunk":
        if "count" in tokens:
            raise ValueError("chunks are cut at running words: they need the token table, not the count table")
        running = pd.Series(words).groupby(doc_codes, sort=False).cumsum().to_numpy() - words  # within the piece
        chunk = running // chunk_words
        key = doc_codes.astype(np.int64) * (int(chunk.max(initial=0)) + 1) + chunk
    else:
        raise ValueError(f"unit must be 'paragraph' or 'chunk', not {unit!r}")
    units = pd.factorize(key)[0].astype(np.int32)  # numbered in order of first appearance
    first = np.flatnonzero(~pd.Series(units, copy=False).duplicated().to_numpy())  # where each unit first appears
    doc_ids = np.asarray(doc.cat.categories, dtype=object)[doc_codes[first]]
    if unit == "paragraph":
        unit_ids = np.asarray(paragraph.cat.categories, dtype=object)[key[first]]
    else:
        unit_ids = [f"{d}#{c}" for d, c in zip(doc_ids, chunk[first])]
    docs = pd.DataFrame({"doc_id": doc_ids, "unit_id": unit_ids,
                         "words": _sliced_bincount(units, words, len(first)).astype(words.dtype)})
    has = term.cat.codes.to_numpy() >= 0
    counts = coo_matrix((row_counts(tokens, np.int32)[has], (units[has], term.cat.codes.to_numpy()[has])),
                        shape=(len(first), len(term.cat.categories))).tocsr()
    return counts, docs, term.cat.categories


def _sliced_bincount(values: np.ndarray, weights: np.ndarray | None, length: int) -> np.ndarray:
    """``np.bincount`` summed over slices of ``BINCOUNT_ROWS``: the same counts (or sums) without a
    whole-length copy of the values as intp and of the weights as floats."""
    total = np.zeros(length, dtype=float if weights is not None else np.int64)
    for start in range(0, len(values), BINCOUNT_ROWS):
        end = start + BINCOUNT_ROWS
        total += np.bincount(values[start:end], None if weights is None else weights[start:end], minlength=length)
    return total


def check_size(n_docs: int, k: int) -> None:
    """Stop when k topics cannot be fitted; warn when the documents are few for k."""
    if k < 2 or n_docs <= k:
        raise CorpusError(f"{n_docs} documents cannot support {k} topics (need k >= 2 and more documents than topics)")
    if n_docs < MIN_DOCS_PER_TOPIC * k:
        warnings.warn(f"only {n_docs} documents for {k} topics (fewer than {MIN_DOCS_PER_TOPIC} per topic): "
                      "the topics will be unstable and should be read with care", SmallCorpusWarning, stacklevel=2)


def fit_topics(documents: TopicDocuments, k: int, *, model: str = "nmf", seed: int = 0,
               max_iter: int | None = None, shares: bool = True):
    """Fit NMF (on TF-IDF) or LDA (on counts) with ``k`` topics.

    NMF: ``init="nndsvda"``, coordinate descent, at most 400 iterations. LDA
    (:class:`LDA`): batch variational Bayes, 50 iterations up to 500 documents, 10 above (the
    diagnostics fit many models). With more than ``FIT_DOCS`` documents, the
    model is fitted on a seeded sample of ``FIT_DOCS`` of them and every
    document's topic shares are then inferred (``transform``) ``INFER_DOCS``
    documents at a time: the cost stays bounded however large the corpus, and
    the documents' matrix (and its TF-IDF) need not be held whole
    (:class:`StreamedDocuments`). The TF-IDF weights use every document's
    counts. LDA's inference runs on ``INFER_JOBS`` processes and gives the
    shares one pass in one process would; NMF's stops on each slice's own
    progress. With ``shares=False`` the documents'
    shares are not inferred (LDA's inference is a pass over every document;
    the diagnostics need only the topics), and ``doc_topic`` is None.
    :func:`fit_models` fits several models with one reading of the documents.

    Returns
    -------
    estimator, doc_topic, topic_term
        The fitted scikit-learn estimator; document-topic shares (rows sum to
        1; a document with no weight gets equal shares); topic-term weights
        (rows sum to 1).
    """
    return fit_models(documents, k, [model], seed=seed, max_iter=max_iter, shares=shares)[model]


def fit_models(documents: TopicDocuments, k: int, models=MODELS, *, seed: int = 0,
               max_iter: int | None = None, shares: bool = True) -> dict:
    """:func:`fit_topics` of each model, which reads the documents once for all of them.

    The sample is read once, and the shares of every model are inferred in
    one pass over the documents (each pass over :class:`StreamedDocuments`
    makes their counts again). Each model's fit is the one
    :func:`fit_topics` gives it alone.

    Returns
    -------
    dict
        model: (estimator, doc_topic, topic_term), as :func:`fit_topics` returns.
    """
    n_docs = documents.shape[0]
    check_size(n_docs, k)
    n_fit = min(n_docs, FIT_DOCS)
    estimators = {m: _estimator(m, k, seed, n_fit, max_iter) for m in models}
    doc_topic = dict.fromkeys(models)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Maximum number of iterations")
        if n_docs > FIT_DOCS:
            rows = np.sort(np.random.default_rng(seed).choice(n_docs, size=FIT_DOCS, replace=False))
            tfidf = _tfidf_of(documents) if "nmf" in models else None
            weigh = {m: tfidf if m == "nmf" else (lambda block: block) for m in models}
            sample = documents.take(rows)[0]
            for m, estimator in estimators.items():
                estimator.fit(weigh[m](sample))
            del sample
            if shares:
                for m, estimator in estimators.items():
                    doc_topic[m] = np.empty((n_docs, k))  # filled a slice at a time: no list of parts to stack
                    if m == "lda":
                        # each document's inference is its own (no random start, its own convergence): the same
                        # shares in any number of processes and slices; a slice at a time keeps the workers small
                        estimator.set_params(n_jobs=INFER_JOBS)
                start = 0
                for block in documents.blocks(INFER_DOCS):
                    for m, estimator in estimators.items():
                        doc_topic[m][start:start + block.shape[0]] = estimator.transform(weigh[m](block))
                    start += block.shape[0]
        else:
            counts = documents.counts if documents.counts is not None else documents.take(np.arange(n_docs))[0]
            for m, estimator in estimators.items():
                matrix = sublinear_tfidf(counts) if m == "nmf" else counts
                if shares:
                    doc_topic[m] = estimator.fit_transform(matrix)
                else:  # LDA's fit_transform is fit, then a pass over every document: the topics are the same
                    estimator.fit(matrix)
    # the shares are this function's own arrays: made into proportions in place; the estimators' are copied
    return {m: (estimator, None if doc_topic[m] is None else _normalize(doc_topic[m], in_place=True),
                _normalize(estimator.components_)) for m, estimator in estimators.items()}


def _estimator(model: str, k: int, seed: int, n_fit: int, max_iter: int | None):
    """The unfitted estimator of :func:`fit_topics` for ``model``, fitted on ``n_fit`` documents."""
    if model == "nmf":
        return NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=max_iter or 400, tol=1e-4)
    if model == "lda":
        return LDA(n_components=k, random_state=seed, max_iter=max_iter or (50 if n_fit <= 500 else 10),
                   learning_method="batch")
    raise ValueError(f"model must be one of {MODELS}, not {model!r}")


def _tfidf_of(documents: TopicDocuments):
    """A function that weighs rows of ``documents``' counts as :func:`sublinear_tfidf` of them all would.

    The idf is scikit-learn's (smoothed: ``ln((1 + n) / (1 + df)) + 1``, made
    as its ``TfidfTransformer.fit`` makes it, to the bit) from each term's
    document frequency, so the whole matrix is not needed to fit it.
    """
    frequency = documents.document_frequency().astype(np.float64)
    frequency += 1.0
    idf = np.full_like(frequency, fill_value=documents.shape[0] + 1)
    idf /= frequency
    np.log(idf, out=idf)
    idf += 1.0
    transformer = TfidfTransformer(sublinear_tf=True)
    transformer.idf_ = idf
    return lambda block: transformer.transform(block.astype(np.float64), copy=False)


def _normalize(matrix: np.ndarray, in_place: bool = False) -> np.ndarray:
    """Each row divided by its sum; a row that sums to 0 (or NaN) gets equal shares.

    With ``in_place``, a float64 ``matrix`` is overwritten and returned;
    otherwise it is left as it is. In place, no temporary of its size is
    made (before, three: at 401,728 paragraphs and 8 topics, 26 MB each).
    """
    matrix = np.asarray(matrix, dtype=float)
    # summed as given: NMF's components are in column order, and summing a (row-order) copy's rows can
    # differ in the last bit
    sums = matrix.sum(axis=1, keepdims=True)
    if not in_place:
        matrix = matrix.copy()
    positive = sums > 0
    np.divide(matrix, sums, out=matrix, where=positive)
    matrix[~positive[:, 0]] = 1.0 / matrix.shape[1]
    return matrix


def sublinear_tfidf(counts: csr_matrix) -> csr_matrix:
    """``TfidfTransformer(sublinear_tf=True).fit_transform(counts)``, to the bit, with less memory.

    scikit-learn copies the counts whole as floats (values, column indices and
    row pointers) and weights them by idf through a temporary of the values'
    size. Here only the values are made floats; the result shares its column
    indices and row pointers with ``counts``, which must not change while it
    is used. The values are weighted ``TFIDF_ROWS`` rows at a time by
    scikit-learn's own ``transform`` (each row's weights depend only on the row
    and the idf). At 401,728 paragraphs (11.7 million counts), a traced peak of
    103 MB instead of 224 MB.
    """
    counts = csr_matrix(counts)
    transformer = TfidfTransformer(sublinear_tf=True).fit(counts)
    data, indices, indptr = counts.data.astype(np.float64), counts.indices, counts.indptr
    width = counts.shape[1]
    for start in range(0, counts.shape[0], TFIDF_ROWS):
        stop = min(start + TFIDF_ROWS, counts.shape[0])
        block = csr_rows(data, indices, indptr, start, stop, width)
        data[indptr[start]:indptr[stop]] = transformer.transform(block, copy=False).data  # the idf makes a new matrix
    return csr_matrix((data, indices, indptr), shape=counts.shape, copy=False)


def top_term_indices(topic_term: np.ndarray, n: int) -> np.ndarray:
    """Indices of each topic's ``n`` heaviest terms (ties by index, so deterministic)."""
    return np.argsort(-topic_term, axis=1, kind="stable")[:, :n]


def npmi_coherence(counts: csr_matrix, top: np.ndarray) -> np.ndarray:
    """NPMI coherence of each topic (row of ``top``: term indices) over document co-occurrence."""
    present = (counts > 0).astype(float).tocsc()
    n_docs = counts.shape[0]
    scores = []
    for terms in top:
        pairs = []
        cols = present[:, terms]
        p = np.asarray(cols.sum(axis=0)).ravel() / n_docs
        joint = (cols.T @ cols).toarray() / n_docs
        for i, j in combinations(range(len(terms)), 2):
            if joint[i, j] == 0:
                pairs.append(-1.0)
            elif joint[i, j] == 1:
                pairs.append(1.0)
            else:
                pairs.append(np.log(joint[i, j] / (p[i] * p[j])) / -np.log(joint[i, j]))
        scores.append(np.mean(pairs) if pairs else np.nan)
    return np.array(scores)


def exclusivity(topic_term: np.ndarray, top: np.ndarray) -> np.ndarray:
    """Mean share of each top term's weight that lies in its own topic."""
    share = topic_term / np.where(topic_term.sum(axis=0) > 0, topic_term.sum(axis=0), 1.0)
    return np.array([share[k, terms].mean() for k, terms in enumerate(top)])


def match_topics(top_a: np.ndarray, top_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Match topics of two runs one to one, maximizing the Jaccard overlap of their top terms.

    Returns
    -------
    pairs, overlaps
        ``pairs[i] = (topic in a, topic in b)`` and the Jaccard overlap of each pair.
    """
    sets_a, sets_b = [set(t) for t in top_a], [set(t) for t in top_b]
    jaccard = np.array([[len(a & b) / len(a | b) for b in sets_b] for a in sets_a])
    rows, cols = linear_sum_assignment(-jaccard)
    return np.column_stack([rows, cols]), jaccard[rows, cols]


@dataclass
class TopicFit:
    """One fitted model: its name, k, seed, shares and top terms."""

    model: str
    k: int
    seed: int
    doc_topic: np.ndarray | None  # None for a fit made only for the diagnostics
    topic_term: np.ndarray
    top: np.ndarray


def fit(documents: TopicDocuments, k: int, model: str, seed: int, n_top: int = 10,
        shares: bool = True) -> TopicFit:
    """:func:`fit_topics` kept with its top-term indices (``doc_topic`` is None without ``shares``)."""
    return fit_each(documents, k, [model], seed, n_top, shares)[model]


def fit_each(documents: TopicDocuments, k: int, models, seed: int, n_top: int = 10,
             shares: bool = True) -> dict[str, TopicFit]:
    """:func:`fit` of each model, with one reading of the documents for all (:func:`fit_models`)."""
    return {m: TopicFit(m, k, seed, doc_topic, topic_term, top_term_indices(topic_term, n_top))
            for m, (_, doc_topic, topic_term) in fit_models(documents, k, models, seed=seed, shares=shares).items()}


def subsample(documents: TopicDocuments, size: int, seed: int = 0) -> TopicDocuments:
    """``size`` documents drawn without replacement (seeded), in their original order, same vocabulary."""
    return subsamples(documents, size, [seed])[seed]


def subsamples(documents: TopicDocuments, size: int, seeds) -> dict[int, TopicDocuments]:
    """:func:`subsample` with each seed, the rows read in one pass (as :class:`StreamedDocuments` reads them)."""
    n = documents.shape[0]
    if size >= n and documents.counts is not None:
        return {s: documents for s in seeds}
    keeps = [np.sort(np.random.default_rng(s).choice(n, size=size, replace=False)) if size < n else np.arange(n)
             for s in seeds]
    return {s: TopicDocuments(rows, documents.vocabulary, documents.docs.iloc[keep].reset_index(drop=True))
            for s, keep, rows in zip(seeds, keeps, documents.take(*keeps))}


def feasible_ks(n_docs: int, ks) -> list[int]:
    """The values of k with at least ``MIN_DOCS_PER_TOPIC`` documents per topic."""
    return [k for k in ks if k >= 2 and n_docs >= MIN_DOCS_PER_TOPIC * k]


def candidate_ks(n_docs: int, ks, sample: float = 0.9) -> tuple[list[int], bool]:
    """The values of k to try, and whether the corpus is below the minimum for all of them.

    Normally the :func:`feasible_ks`. When none is feasible, the smallest
    values that can be fitted at all (k >= 2 and more sampled documents than
    topics, at most 3) are returned with ``True``, so that a notebook can show
    the model with a clear warning; with fewer than three documents, no model
    can be fitted and a :class:`~discourselab.errors.CorpusError` says so.
    """
    ks = sorted(set(ks))
    feasible = feasible_ks(n_docs, ks)
    if feasible:
        return feasible, False
    sampled = round(sample * n_docs)
    fallback = [k for k in ks if 2 <= k <= 3 and k < sampled]
    if not fallback:
        raise CorpusError(f"{n_docs} documents are too few for a topic model "
                          f"(k = 2 needs at least {MIN_DOCS_PER_TOPIC * 2}; try unit='chunk' with fewer words per chunk)")
    return fallback, True


def diagnose(documents: TopicDocuments, ks, *, models=MODELS, seeds=(0, 1, 2, 3, 4), n_top: int = 10,
             sample: float = 0.9, max_docs: int | None = None, n_jobs: int = -1,
             progress=None) -> pd.DataFrame:
    """Coherence, exclusivity and stability for every model, k and seed.

    Each seed's run fits the model, with that seed, on its own random sample of
    the documents (``sample`` of them, drawn with that seed), so stability
    measures how far the topics depend on which paragraphs happen to be there
    and on the model's random start (after Greene, O'Callaghan and
    Cunningham 2014). NMF's start (``nndsvda``) does not depend on the seed; the
    sample does.

    Parameters
    ----------
    documents : TopicDocuments
    ks : iterable of int
        Numbers of topics to try; values the corpus cannot support stop with a
        :class:`~discourselab.errors.CorpusError` (see :func:`check_size`).
    models : iterable of str
    seeds : iterable of int
        At least two, for stability.
    n_top : int
        Top terms per topic used by all three measures.
    sample : float
        Share of the documents each run sees (1.0: all, so only the model's
        random start varies).
    max_docs : int, optional
        Cap on the documents each run sees, for large corpora.
    n_jobs : int
        Processes for the fits (joblib; -1: all cores), used from
        ``PARALLEL_FROM`` documents per run.
    progress : callable, optional
        Wraps the iterable of fits, given ``total`` (e.g. ``tqdm``).

    Returns
    -------
    DataFrame
        ``model``, ``k``, ``seed``, ``coherence``, ``exclusivity``, ``stability``.
    """
    seeds = list(seeds)
    if len(seeds) < 2:
        raise ValueError("stability needs at least two seeds")
    if not 0 < sample <= 1:
        raise ValueError(f"sample must be in (0, 1], not {sample}")
    n_docs = documents.shape[0]
    size = max(1, round(sample * n_docs))
    if max_docs:
        size = min(size, max_docs)
    samples = subsamples(documents, size, seeds)
    runs = [(m, k) for m in models for k in ks]
    tasks = [(m, k, s) for m, k in runs for s in seeds]
    # independent seeded fits: run on all cores when there are many documents (same results either way)
    jobs = n_jobs if size >= PARALLEL_FROM else 1
    done = Parallel(n_jobs=jobs, return_as="generator")(
        delayed(fit)(samples[s], k, m, s, n_top, shares=False) for m, k, s in tasks)
    fitted = {}
    for (m, k, s), result in zip(tasks, progress(done, total=len(tasks)) if progress else done):
        fitted[(m, k, s)] = result
    rows = []
    for model, k in runs:
        fits = [fitted[(model, k, s)] for s in seeds]
        for i, f in enumerate(fits):
            overlaps = [match_topics(f.top, other.top)[1].mean() for j, other in enumerate(fits) if j != i]
            rows.append({"model": model, "k": k, "seed": f.seed,
                         "coherence": npmi_coherence(samples[f.seed].counts, f.top).mean(),
                         "exclusivity": exclusivity(f.topic_term, f.top).mean(),
                         "stability": float(np.mean(overlaps))})
    return pd.DataFrame(rows, columns=["model", "k", "seed", "coherence", "exclusivity", "stability"])


DIAGNOSTICS = ("coherence", "exclusivity", "stability")


def choose(diagnostics: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Pick the model and k that do best on the three diagnostics together.

    Each diagnostic is averaged over seeds, rescaled to 0-1 across all
    (model, k) candidates (min-max; a measure with one value everywhere counts
    0.5), and the three are averaged into ``score``. The candidate with the
    highest score wins; ties go to the smaller k, then to NMF (the model listed
    first in the table).

    Returns
    -------
    summary, chosen
        ``summary`` has one row per (model, k) with the mean, standard
        deviation over seeds of each diagnostic, the scaled values and
        ``score``; ``chosen`` is the winning row.
    """
    grouped = diagnostics.groupby(["model", "k"], sort=False)[list(DIAGNOSTICS)]
    summary = grouped.mean().join(grouped.std(ddof=1).add_suffix("_sd")).reset_index()
    for name in DIAGNOSTICS:
        values = summary[name]
        spread = values.max() - values.min()
        summary[f"{name}_scaled"] = (values - values.min()) / spread if spread > 0 else 0.5
    summary["score"] = summary[[f"{n}_scaled" for n in DIAGNOSTICS]].mean(axis=1)
    order = {m: i for i, m in enumerate(dict.fromkeys(diagnostics["model"]))}
    ranked = summary.assign(_model=summary["model"].map(order)).sort_values(
        ["score", "k", "_model"], ascending=[False, True, True], kind="stable")
    return summary, ranked.drop(columns="_model").iloc[0]


def topic_terms(f: TopicFit, vocabulary: np.ndarray, n: int | None = None) -> pd.DataFrame:
    """Each topic's top terms: ``model``, ``k``, ``topic`` (from 1), ``rank``, ``term``, ``weight``."""
    top = f.top if n is None else top_term_indices(f.topic_term, n)
    rows = [{"model": f.model, "k": f.k, "topic": t + 1, "rank": r + 1, "term": vocabulary[i],
             "weight": f.topic_term[t, i]}
            for t, terms in enumerate(top) for r, i in enumerate(terms)]
    return pd.DataFrame(rows, columns=["model", "k", "topic", "rank", "term", "weight"])


def topic_labels(terms: pd.DataFrame, n: int = 3) -> dict[int, str]:
    """A short label per topic: its number and first ``n`` terms ("T1 party, building, community")."""
    first = terms[terms["rank"] <= n].sort_values(["topic", "rank"])
    return {t: f"T{t} " + ", ".join(g["term"]) for t, g in first.groupby("topic")}


def representative(f: TopicFit, docs: pd.DataFrame, n: int = 2, min_words: int = 20) -> pd.DataFrame:
    """The ``n`` documents with the largest share of each topic (documents of at least ``min_words`` words).

    Returns
    -------
    DataFrame
        ``topic``, ``rank``, ``unit_id``, ``doc_id``, ``share``, ``words``.
    """
    eligible = np.flatnonzero(docs["words"].to_numpy() >= min_words)
    if len(eligible) == 0:
        eligible = np.arange(len(docs))
    rows = []
    for t in range(f.k):
        shares = f.doc_topic[eligible, t]
        best = eligible[np.argsort(-shares, kind="stable")[:n]]
        for r, i in enumerate(best):
            rows.append({"topic": t + 1, "rank": r + 1, "unit_id": docs["unit_id"].iat[i],
                         "doc_id": docs["doc_id"].iat[i], "share": f.doc_topic[i, t],
                         "words": int(docs["words"].iat[i])})
    return pd.DataFrame(rows, columns=["topic", "rank", "unit_id", "doc_id", "share", "words"])


def agreement(a: TopicFit, b: TopicFit) -> pd.DataFrame:
    """Topics of two fits matched one to one by top-term overlap.

    Returns
    -------
    DataFrame
        ``topic_<a.model>``, ``topic_<b.model>`` (from 1), ``jaccard`` and
        ``shared`` (the top terms both have, in ``a``'s order), best match first.
    """
    pairs, overlaps = match_topics(a.top, b.top)
    rows = []
    for (i, j), overlap in zip(pairs, overlaps):
        shared = [int(t) for t in a.top[i] if t in set(b.top[j])]
        rows.append({f"topic_{a.model}": i + 1, f"topic_{b.model}": j + 1, "jaccard": overlap, "shared": shared})
    return pd.DataFrame(rows).sort_values("jaccard", ascending=False, kind="stable").reset_index(drop=True)


PREVALENCE_COLUMNS = ["by", "group", "model", "topic", "share", "ci_low", "ci_high", "documents"]


def prevalence(f: TopicFit, docs: pd.DataFrame, pieces: pd.DataFrame, by: str, *,
               n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> pd.DataFrame:
    """Topic prevalence per group, with percentile bootstrap intervals over documents.

    A group's share of a topic is the mean of its documents' topic shares,
    weighted by their running words, so it is the share of the group's text
    that the topic accounts for. The interval resamples the group's documents
    (paragraphs or chunks) with replacement ``n_boot`` times (seeded); with
    few documents (``documents`` column) it is wide, and with one document
    there is none (``ci_low`` and ``ci_high`` are empty).

    Returns
    -------
    DataFrame
        ``by``, ``group``, ``model``, ``topic``, ``share``, ``ci_low``,
        ``ci_high``, ``documents``.
    """
    return prevalence_of([f], docs, pieces, by, n_boot=n_boot, seed=seed, level=level)


def prevalence_of(fits: list[TopicFit], docs: pd.DataFrame, pieces: pd.DataFrame, by: str, *,
                  n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> pd.DataFrame:
    """:func:`prevalence` of several fits of the same documents, one after the other.

    Each fit gets the bootstrap resamples it would get alone (the same seed);
    they are drawn once and shared, which halves the cost for two models.
    """
    groups = group_of(pieces, by)
    doc_groups = in_groups(docs["doc_id"], groups)
    codes, names = pd.factorize(doc_groups, sort=True)
    weights = docs["words"].to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    alpha = (1 - level) / 2
    rows: list[list[dict]] = [[] for _ in fits]
    for g, name in enumerate(names):
        idx = np.flatnonzero(codes == g)
        w = np.maximum(weights[idx], 1e-12)
        shares = [f.doc_topic[idx] for f in fits]
        boots = [np.empty((n_boot, f.k)) for f in fits]
        # 200 resamples at a time, fewer for a group so large that they would pass BOOT_CELLS counts: the
        # same draws (the generator gives one stream in batches of any size); a product over fewer rows
        # may round in the last bit (at 400,000 paragraphs, interval ends 3e-17 apart at most)
        step = max(1, min(200, BOOT_CELLS // len(idx)))
        for start in range(0, n_boot, step):
            stop = min(start + step, n_boot)
            draws = _resample_counts(rng, len(idx), stop - start) * w
            totals = draws.sum(axis=1, keepdims=True)
            for share, boot in zip(shares, boots):
                boot[start:stop] = draws @ share / totals
        for i, f in enumerate(fits):
            point = w @ shares[i] / w.sum()
            low, high = np.quantile(boots[i], [alpha, 1 - alpha], axis=0)
            if len(idx) < 2:
                low, high = np.full(f.k, np.nan), np.full(f.k, np.nan)
            rows[i] += [{"by": by, "group": name, "model": f.model, "topic": t + 1, "share": point[t],
                         "ci_low": low[t], "ci_high": high[t], "documents": len(idx)} for t in range(f.k)]
    return pd.DataFrame([r for part in rows for r in part], columns=PREVALENCE_COLUMNS)


def _resample_counts(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """``size`` bootstrap resamples of ``n`` documents: how often each is drawn (a ``size`` x ``n`` array).

    Each row is a multinomial draw of n over n equally likely documents,
    counted from n uniform picks: about seven times faster than
    ``rng.multinomial``, which draws a binomial per document.
    """
    picks = rng.integers(0, n, size=(size, n))
    picks += (np.arange(size) * n)[:, None]  # each resample its own n bins; in place: no second array of picks
    return np.bincount(picks.ravel(), minlength=size * n).reshape(size, n)


def leading_groups(prevalence: pd.DataFrame) -> pd.DataFrame:
    """For each topic, the group that gives it the largest share of its words.

    ``prevalence`` holds the rows of one model and one grouping column (from
    :func:`prevalence`). The result has those rows, one per topic, and
    ``clear``: True where the leading group's interval lies above every other
    group's (a group without an interval counts by its share), so that the
    lead is not an accident of sampling.
    """
    lead = prevalence.loc[prevalence.groupby("topic")["share"].idxmax()]
    clear = []
    for row in lead.itertuples():
        others = prevalence[(prevalence["topic"] == row.topic) & (prevalence["group"] != row.group)]
        clear.append(bool(pd.notna(row.ci_low) and (others["ci_high"].fillna(others["share"]) < row.ci_low).all()))
    return lead.assign(clear=clear).reset_index(drop=True)


def interval_text(row, unit: str = "paragraph", documents: bool = False) -> str:
    """A prevalence row's interval in words: "95% CI 12%–30%" (with ", N paragraphs" if ``documents``)."""
    if pd.isna(row.ci_low):
        return f"one {unit}, no interval"
    return f"95% CI {row.ci_low:.0%}–{row.ci_high:.0%}" + (f", {row.documents} {unit}s" if documents else "")


def render_passages(rows: pd.DataFrame, texts: pd.Series, labels: dict[int, str], *, max_words: int = 70) -> str:
    """An HTML table of representative passages (from :func:`representative`), text escaped.

    ``texts`` maps ``unit_id`` to the passage's text; passages longer than
    ``max_words`` words are cut with an ellipsis.
    """
    from html import escape

    def excerpt(text: str) -> str:
        words = str(text).split()
        return " ".join(words[:max_words]) + (" …" if len(words) > max_words else "")

    body = "".join(
        f"<tr><td style='white-space:nowrap;vertical-align:top'><b>{escape(labels.get(r.topic, str(r.topic)))}</b>"
        f"<br><span style='color:#666;font-size:85%'>{escape(str(r.doc_id))} · {r.share:.0%} of its words</span></td>"
        f"<td style='text-align:left;vertical-align:top'>{escape(excerpt(texts.get(r.unit_id, '')))}</td></tr>"
        for r in rows.itertuples(index=False)
    )
    return f"<table class='passages'>{body}</table>"


@dataclass
class TopicStudy:
    """Everything :func:`run_topics` computes: documents, diagnostics, the choice, fits and prevalence."""

    documents: TopicDocuments
    ks: list[int]
    too_small: bool
    diagnostics: pd.DataFrame
    summary: pd.DataFrame
    chosen: pd.Series
    fits: dict
    terms: pd.DataFrame
    prevalence: pd.DataFrame

    @property
    def model(self) -> str:
        return str(self.chosen["model"])

    @property
    def k(self) -> int:
        return int(self.chosen["k"])

    @property
    def other(self) -> str:
        """The model not chosen."""
        return next(m for m in MODELS if m != self.model)

    @property
    def fit(self) -> TopicFit:
        """The chosen model, fitted on all documents."""
        return self.fits[(self.model, self.k)]

    @property
    def labels(self) -> dict[int, str]:
        """Short labels of the chosen model's topics."""
        return topic_labels(self.terms[(self.terms["model"] == self.model) & (self.terms["k"] == self.k)])

    def release_documents(self) -> None:
        """Let go of what is held per document, once it is read: each fit's topic shares and the documents' rows.

        Otherwise held to the end of a notebook: at 401,728 paragraphs,
        every paragraph's id (28 MB) and both models' shares. The
        vocabulary, terms, prevalence and diagnostics stay; each fit's
        ``doc_topic`` becomes None and ``documents.docs`` keeps its columns
        with no rows (so ``documents.shape`` says 0 documents).
        """
        for fitted in self.fits.values():
            fitted.doc_topic = None
        self.documents.counts = None
        self.documents.docs = self.documents.docs.iloc[:0].copy()


def run_topics(tokens, pieces: pd.DataFrame, levels, *, unit: str = "paragraph",
               chunk_words: int = 200, k_range=range(2, 11), seeds=(0, 1, 2, 3, 4), n_top: int = 10,
               n_boot: int = 1000, seed: int = 0, max_docs: int | None = 800, progress=None,
               keep_counts: bool = False) -> TopicStudy:
    """The whole topic analysis: diagnostics over ``k_range``, the choice, final fits and prevalence.

    Both models are refitted on all documents with ``seed`` at the chosen k
    (their terms go to ``terms``); prevalence is computed for both, for every
    grouping column in ``levels``. ``max_docs`` caps the documents each
    diagnostic run sees (a seeded sample), which bounds the cost on a large
    corpus. The diagnostics are cached on disk by the content of the documents
    and the parameters (:mod:`discourselab.cache`), so the findings notebook and
    notebook 04 compute them once. Warnings about the corpus size are left to
    the caller (``too_small``).

    The documents' count matrix (one row per paragraph: 94 MB at 31M words)
    is let go of once the models are fitted, unless ``keep_counts``: the
    prevalence, and what follows a topic analysis, read the fits, the
    documents' table and the vocabulary (``documents.shape`` stays). Given
    a table's :class:`~discourselab.corpus.Parts` (and not ``keep_counts``),
    the matrix is never held whole: its rows are made again from the parts
    when read (:func:`stream_documents`), with the same results. When
    ``tokens`` has a ``key`` (as :meth:`~discourselab.study.Study.count_parts`
    has), the documents' table, vocabulary and content hash are cached by it,
    and the matrix is read only for what the cache does not hold yet.
    """
    from .cache import cached_object, cached_table, digest

    @functools.cache
    def documents_made() -> TopicDocuments:  # made once, only if the cache lacks something made from them
        if isinstance(tokens, Parts) and not keep_counts:  # its rows read again a part at a time, not held
            return stream_documents(tokens, unit=unit, chunk_words=chunk_words)
        return build_documents(tokens, unit=unit, chunk_words=chunk_words)

    def outline() -> tuple[str, TopicDocuments]:
        documents = documents_made()
        return _documents_key(documents), TopicDocuments(None, documents.vocabulary, documents.docs)

    source = tokens.key if isinstance(tokens, Parts) else None  # (a table may have a column "key")
    content, documents = (outline() if source is None else cached_object(
        "topic-documents", digest(source, {"unit": unit, "chunk_words": chunk_words}), outline))
    ks, too_small = candidate_ks(documents.shape[0], k_range)
    key = digest(content, {"ks": ks, "seeds": list(seeds), "n_top": n_top, "max_docs": max_docs})

    def trimmed(make):  # each step's freed small blocks go back before the next makes its matrices
        trim_heap()
        return make()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallCorpusWarning)
        diagnostics = cached_table("topic-diagnostics", key, lambda: trimmed(lambda: diagnose(
            documents_made(), ks, seeds=seeds, n_top=n_top, max_docs=max_docs, progress=progress)))
        summary, chosen = choose(diagnostics)
        k = int(chosen["k"])
        fits = cached_object("topic-fits", digest(content, {"k": k, "seed": seed, "n_top": n_top}),
                             lambda: {(m, k): f for m, f in trimmed(
                                 lambda: fit_each(documents_made(), k, MODELS, seed, n_top)).items()})
    if keep_counts:
        documents = documents_made()
    documents_made.cache_clear()  # what follows reads the documents' table and vocabulary only
    terms = pd.concat([topic_terms(f, documents.vocabulary) for f in fits.values()], ignore_index=True)
    ordered = [fits[(m, k)] for m in dict.fromkeys([chosen["model"], *MODELS])]
    groups = pieces.drop(columns=["text"], errors="ignore").to_csv(index=False)
    prevalence_table = pd.concat(
        [cached_table("topic-prevalence",
                      digest(content, {"k": k, "seed": seed, "n_top": n_top, "n_boot": n_boot, "level": level,
                                       "models": [f.model for f in ordered]}, groups),
                      lambda level=level: prevalence_of(ordered, documents.docs, pieces, level,
                                                        n_boot=n_boot, seed=seed))
         for level in levels], ignore_index=True)
    return TopicStudy(documents, ks, too_small, diagnostics, summary, chosen, fits, terms, prevalence_table)


def _documents_key(documents: TopicDocuments) -> str:
    """sha256 of a document-term matrix (block by block), its vocabulary and its documents' ids."""
    from .cache import digest

    blocks = [digest(b.data, b.indices.astype(np.int64), b.indptr.astype(np.int64))  # the same for any index type
              for b in documents.blocks(INFER_DOCS)]  # a block at a time: the matrix need not be held
    return digest(*blocks, documents.vocabulary, documents.docs["unit_id"].astype(str).to_numpy())
