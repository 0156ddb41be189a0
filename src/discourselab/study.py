"""What a notebook needs to open a study from its parameters."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from functools import cache, cached_property
from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial.distance import squareform

from . import config
from .cache import (StoredArray, cache_dir, cached_part, cached_parts, cached_table, digest, parts_stored,
                    store_array, store_object, store_parts, stored_object, stored_parts)
from .chunks import batched
from .context import ConcordanceLines, collected, keyword_parts
from .corpus import Corpus, Parts, check_by, default_by, load_corpus, part_sizes, table_slices
from .frequency import count_terms, group_of
from .frequency import plain as plain_values
from .keyness import comparison_tables
from .memory import return_large_blocks, trim_after_each_cell
from .progress import bar
from .similarity import (GROUPING_TEST_COLUMNS, burrows_delta_pairs, cluster, condensed, condensed_grouping_tests,
                         cosine_pair_runs, cosine_pairs, grouping_tests, similarity_pair_tables, similarity_pairs,
                         tfidf_from_tokens)
from .text import Settings, TextPipeline, join_count_parts

#: Pairs of groups are compared directly only for columns with at most this many groups.
MAX_PAIR_GROUPS = 6
#: Groups per table of :meth:`Study.frequency_tables` (pieces are groups of ``doc_id``), at most.
FREQUENCY_GROUPS = 500
#: Running words of the groups of a table of :meth:`Study.frequency_tables`, at most (a larger group is a table alone).
FREQUENCY_WORDS = 1 << 22
#: Rows of the count table per part of :meth:`Study.count_parts`, at least (a part holds whole pieces).
COUNT_PART_ROWS = 500_000


@dataclass
class Study:
    """A corpus with the run's parameters: output folder, grouping columns, seed, text settings."""

    corpus: Corpus
    out_dir: Path
    by: list[str]
    seed: int = 0
    settings: Settings = field(default_factory=Settings)
    _variants: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    _held: list | None = field(default=None, init=False, repr=False, compare=False)  # count parts held in memory

    @cached_property
    def pipeline(self) -> TextPipeline:
        return TextPipeline(self.settings)

    @cached_property
    def tokens(self) -> pd.DataFrame:
        """The token table of every paragraph (see :meth:`TextPipeline.token_table`).

        A row per token: the notebooks use the smaller :attr:`counts` and
        :attr:`pairs` instead, and concordances analyse again the paragraphs
        they need (:func:`~discourselab.context.keywords_in_context`, or
        :meth:`tokens_of`). Cached on disk like :attr:`counts`.
        """
        def build() -> pd.DataFrame:
            return self.pipeline.token_table(
                self.corpus.paragraph_parts(), progress=lambda total: bar(total=total, desc="tokens", unit="paragraph"))

        return cached_table("tokens", self.key, build)

    @cached_property
    def counts(self) -> pd.DataFrame:
        """Term counts per paragraph (see :meth:`TextPipeline.count_table`): :meth:`count_parts` joined.

        Made in one pass over the texts with :attr:`pairs`, and cached on disk
        in parts by the content hash of the paragraphs and of the text settings
        with their word lists (see :mod:`discourselab.cache`). The analyses
        read :meth:`count_parts` instead, so as never to hold all of it.
        """
        return join_count_parts(self.count_parts())

    def count_parts(self) -> Parts:
        """The rows of :attr:`counts` a part of whole pieces at a time (at least ``COUNT_PART_ROWS`` rows, but the last).

        For an analysis that sums over pieces (TF-IDF, term totals), so that it
        holds one part of the counts, not all of them. The texts are counted
        into parts (:meth:`TextPipeline.count_parts`) that are stored in the
        cache, each read when it is reached; its ``paragraph_id`` categories are
        only its own paragraphs. Without a cache the parts are held; when
        :attr:`counts` is held, they are views of its rows. Their ``key`` is
        made from :attr:`key`.
        """
        return Parts(self._count_parts, key=digest("count-parts", self.key))

    def _count_parts(self) -> Iterator[pd.DataFrame]:
        if self._held is not None:
            return iter(self._held)
        if "counts" in self.__dict__:
            return table_slices(self.counts, part_sizes(self.counts["doc_id"], COUNT_PART_ROWS))
        stored = stored_parts("count-parts", self.key)
        if stored is None:
            stored = self._count()
            if self._held is not None:  # no cache
                return iter(self._held)
        # a part the cache lost meanwhile: the texts are counted again, and the parts held
        return cached_parts("count-parts", self.key, stored, self._recount)

    def _count(self, keep: bool = False) -> int:
        """Count the texts, a part of the paragraphs at a time; the number of count parts.

        The parts are stored in the cache, with the run pairs (:attr:`pairs`).
        Without a cache, or with ``keep``, the parts are also held.
        """
        parts, pairs = self.pipeline.count_parts(
            self.corpus.paragraph_parts(), COUNT_PART_ROWS,
            progress=lambda total: bar(total=total, desc="counting", unit="paragraph"))
        self.__dict__["pairs"] = pairs
        if keep or cache_dir() is None:
            parts = self._held = list(parts)
        store_object("pairs", self.key, pairs)
        return store_parts("count-parts", self.key, parts)

    def make_counts(self) -> None:
        """Count the texts into the cache (the count parts and the run pairs) unless it has them; held without a cache."""
        if self._held is None and (cache_dir() is None or stored_parts("count-parts", self.key) is None):
            self._count()
        self.pairs

    def _recount(self) -> list[pd.DataFrame]:
        """The count parts made again and held (their cache entry was lost), and stored again."""
        self._count(keep=True)
        return self._held

    @cached_property
    def pairs(self) -> pd.DataFrame:
        """Adjacent terms in runs, for the phrase finder (see :func:`discourselab.phrases.run_pairs`).

        Made with the term counts, and cached apart, so that they can be read without them.
        """
        pairs = stored_object("pairs", self.key)
        if pairs is None:
            self._count()  # sets them
            pairs = self.__dict__["pairs"]
        return pairs

    def release(self) -> None:
        """Let go of the loaded term counts, token table and texts, when the cache can give them again.

        For a notebook that is done with them: what it computes next has their
        memory. Using them again reads them back from the cache. Without a cache
        they are kept (they would have to be made again). The pages let go of
        go back to the system (:meth:`Corpus.release <discourselab.corpus.Corpus.release>` trims the heap).
        """
        if cache_dir() is not None:
            for name in ("counts", "tokens", "pairs"):
                self.__dict__.pop(name, None)
            self._held = None
        self.corpus.release()

    def tokens_of(self, paragraph_ids) -> pd.DataFrame:
        """The token table of some paragraphs only (analysed again; e.g. those a concordance shows)."""
        return self.pipeline.token_table(self.corpus.paragraphs_of(paragraph_ids))

    @cached_property
    def key(self) -> str:
        """Content hash of the paragraphs and of the text settings with their word lists.

        Made from the corpus's own hash, so that the texts need not be read to find cached counts.
        """
        return digest(self.corpus.content_hash, self.settings.fingerprint())

    def _cached(self, kind: str, parameters: dict, build) -> pd.DataFrame:
        """A table computed from the tokens and the pieces' grouping columns, cached on disk."""
        return cached_table(kind, self._key(parameters), build)

    def _key(self, parameters: dict) -> str:
        """The cache key of :meth:`_cached`: the study's content, ``parameters`` and the pieces' grouping columns."""
        return digest(self.key, parameters, self.pieces.to_csv(index=False))

    @property
    def pieces(self) -> pd.DataFrame:
        return self.corpus.pieces

    def delta(self, mfw: int = 100) -> pd.DataFrame:
        """:func:`~discourselab.similarity.burrows_delta` of the pieces (a square table), from :meth:`delta_pairs`."""
        names = self.pieces["doc_id"].tolist()
        return pd.DataFrame(squareform(self.delta_pairs(mfw)), index=names, columns=names)

    def delta_pairs(self, mfw: int = 100) -> np.ndarray:
        """Burrows' Delta of every pair of pieces, in the order of :func:`~discourselab.similarity.pair_positions`.

        :func:`~discourselab.similarity.burrows_delta_pairs` (no square
        table), cached: it reads every text.
        """
        return self._stored_delta(mfw)[:]

    def _stored_delta(self, mfw: int) -> StoredArray | np.ndarray:
        """:meth:`delta_pairs` as stored in the cache, read a range at a time (made whole when the cache is off)."""
        def made() -> np.ndarray:
            names, values = burrows_delta_pairs(self.corpus.piece_texts(), mfw=mfw)
            ids = self.pieces["doc_id"].tolist()
            if names == ids:
                return values
            return condensed(pd.DataFrame(squareform(values), index=names, columns=names), ids)

        return self._pair_values("delta-pairs", {"mfw": mfw}, made)

    def _pair_values(self, kind: str, parameters: dict, made, runs=None) -> StoredArray | np.ndarray:
        """Values of every pair of pieces that ``made()`` gives, stored in the cache as an array read a range at a time.

        So that a table of the pairs can be written a range of pairs at a
        time (:meth:`similarity_tables`) without holding the values (at 3,792
        pieces, 57 MB each). ``runs()``, when given, gives the same values a
        run at a time, to be stored without holding them all. ``made()``
        itself when the cache is off.
        """
        if cache_dir() is None:
            return made()
        key = self._key(parameters)
        stored = StoredArray.of(kind, key, remake=made)
        if stored is None:
            store_array(kind, key, runs() if runs else made())
            stored = StoredArray.of(kind, key, remake=made)
        return made() if stored is None else stored

    def similarity_tests(self, columns, values=("cosine", "delta"), *, mfw: int = 100,
                         pairs: pd.DataFrame | None = None) -> pd.DataFrame:
        """:func:`~discourselab.similarity.grouping_tests` of the pieces by each of ``columns``, with the study's seed.

        On the pairs of pieces of :func:`~discourselab.similarity.similarity_pairs`
        (cosine of the pieces' TF-IDF, Burrows' Delta on ``mfw`` words). Each
        column's tests are cached, so a notebook that only reports them (the
        findings) does not build the pairs again. The columns not in the cache
        are tested one value at a time, on its condensed values alone
        (:func:`~discourselab.similarity.condensed_grouping_tests`; each value's
        tests are those of testing the values together): at 3,792 pieces, 57
        MB instead of the 165 MB of the whole table. ``pairs``, when given,
        must be the whole table, and is tested as it is.

        Returns
        -------
        DataFrame
            One row per column and value, the keys of ``grouping_tests``' dicts as columns.
        """
        def key(column: str) -> str:
            return self._key({"by": column, "values": list(values), "mfw": mfw, "seed": self.seed})

        tested = {column: stored_object("similarity-tests", key(column)) for column in columns}
        missing = [column for column in dict.fromkeys(columns) if tested[column] is None]
        if pairs is not None:
            results = {column: grouping_tests(pairs, self.pieces, column, tuple(values), seed=self.seed)
                       for column in missing}
        else:
            results = {column: [] for column in missing}
            for value in values if missing else ():  # one value's pairs held at a time
                held = self.cosine_pairs() if value == "cosine" else self.delta_pairs(mfw)
                for column in missing:
                    results[column] += condensed_grouping_tests({value: held}, self.pieces, column, seed=self.seed)
                del held
        for column in missing:
            tested[column] = pd.DataFrame(results[column], columns=GROUPING_TEST_COLUMNS)
            store_object("similarity-tests", key(column), tested[column])
        return pd.concat([tested[column] for column in columns], ignore_index=True)

    def similarity_tables(self, mfw: int = 100) -> Iterator[pd.DataFrame]:
        """The rows of :meth:`similarity_pairs` a table of about a million pairs at a time
        (:func:`~discourselab.similarity.similarity_pair_tables`), e.g. to write them without holding them all.

        Each table's cosine and Delta values are read from the cache as it is
        made, so the values of every pair are not held either.
        """
        return similarity_pair_tables(self._stored_cosine(), self._stored_delta(mfw), self.pieces)

    def similarity_pairs(self, mfw: int = 100) -> pd.DataFrame:
        """:func:`~discourselab.similarity.similarity_pairs` of :meth:`cosine_pairs` and :meth:`delta_pairs`.

        Both are made as pairs, without their square tables (at 3,792 pieces, 115 MB each).
        """
        return similarity_pairs(self.cosine_pairs(), self.delta_pairs(mfw), self.pieces)

    def cosine_pairs(self) -> np.ndarray:
        """The pieces' TF-IDF cosine similarity of every pair (:func:`~discourselab.similarity.cosine_pairs`), cached.

        Read by :meth:`similarity_pairs` and :meth:`similarity_trees`; with the
        cache off, each makes them again.
        """
        return self._stored_cosine()[:]

    def _stored_cosine(self) -> StoredArray | np.ndarray:
        """:meth:`cosine_pairs` as stored in the cache, read a range at a time (made whole when the cache is off)."""
        def tfidf():
            names = self.pieces["doc_id"].tolist()
            return tfidf_from_tokens(self.count_parts(), group_of(self.pieces, "doc_id"), order=names)[0]

        return self._pair_values("cosine-pairs", {}, lambda: cosine_pairs(tfidf(), copy=False),
                                 lambda: cosine_pair_runs(tfidf(), copy=False))  # stored as made: never all held

    def similarity_trees(self, mfw: int = 100) -> tuple[np.ndarray, np.ndarray]:
        """The pieces' trees (:func:`~discourselab.similarity.cluster`, average linkage), cached: by topic and by style.

        The topic tree clusters the cosine distances of :meth:`cosine_pairs`
        (1 - similarity), the style tree :meth:`delta_pairs`: the trees of
        :meth:`similarity_pairs`' columns. Each is made from its own values
        alone, so that no table of pairs is held while SciPy clusters a copy of
        them (at 3,792 pieces, 57 MB for each tree); the cosine values read
        for the topic tree become its distances in place.
        """
        def made() -> tuple[np.ndarray, np.ndarray]:
            topic = cluster(self.cosine_pairs(), similarities=True, copy=False)  # its own array: made distances
            return topic, cluster(self.delta_pairs(mfw))

        return self._cached("similarity-trees", {"mfw": mfw}, made)

    def with_settings(self, **changes) -> "Study":
        """The same study with other text settings (e.g. ``use_glossary=False``).

        The same object for the same settings, so that what it has loaded (its
        counts) serves every caller.
        """
        settings = Settings(**{**asdict(self.settings), **changes})
        if settings == self.settings:
            return self
        if settings not in self._variants:
            self._variants[settings] = Study(self.corpus, self.out_dir, self.by, self.seed, settings)
        return self._variants[settings]

    def frequencies(self, by: list[str] | None = None) -> pd.DataFrame:
        """:func:`~discourselab.frequency.count_terms` for pieces (``doc_id``) and each grouping column.

        All of it in one table; :meth:`frequency_tables` gives the same rows a
        part at a time.
        """
        return pd.concat(list(self.frequency_tables(by)), ignore_index=True)

    def frequency_tables(self, by: list[str] | None = None, groups_per_table: int = FREQUENCY_GROUPS,
                         words_per_table: int = FREQUENCY_WORDS):
        """The rows of :meth:`frequencies`, in the same order, a table of a few groups at a time.

        A table ends before the group that would take it past
        ``groups_per_table`` groups or ``words_per_table`` running words (the
        pieces' ``words``), so that its rows (a group's terms) stay about as
        many whatever the size of the pieces: at 3,792 pieces of 31M words,
        tables of 500 pieces held up to 1.1 million rows. Every column of
        :func:`~discourselab.frequency.count_terms` belongs to one group (its
        counts, rate and dispersion over its own paragraphs), so a part is
        counted from its groups' rows of the count table alone. A table of
        thousands of pieces by their terms (millions of rows) can thus be
        written or searched without holding all of it (e.g. ``write_table`` of
        this generator). Each part is cached on disk.
        """
        for column in by or ["doc_id", *self.by]:
            labels = group_of(self.pieces, column)
            words = self.pieces.set_index("doc_id")["words"].groupby(labels).sum()
            names = sorted(set(labels))  # count_terms orders its groups so
            tables = list(batched(names, groups_per_table, words_per_table, weight=words.get)) or [[]]
            whole = len(tables) == 1
            for part in tables:
                yield self._cached("frequencies", {"by": column, "groups": "all" if whole else part},
                                   lambda column=column, docs=None if whole else labels.index[labels.isin(part)]:
                                   self._frequencies_of(column, docs))

    def _frequencies_of(self, column: str, docs) -> pd.DataFrame:
        """count_terms by ``column`` of some pieces (``docs``; None: all), from their rows of the count table's parts."""
        if docs is None:
            return count_terms(self.count_parts(), self.pieces, column)

        def theirs() -> Iterator[pd.DataFrame]:
            left = set(docs)
            for part in self.count_parts():
                rows = part[part["doc_id"].isin(docs)]
                if len(rows):
                    yield rows
                    left.difference_update(rows["doc_id"].unique())  # a part holds whole pieces: theirs are read
                    if not left:  # the parts after it are not read
                        return

        return count_terms(Parts(theirs), self.pieces[self.pieces["doc_id"].isin(docs)], column)

    def keyness(self, by: list[str] | None = None, **options) -> pd.DataFrame:
        """:func:`~discourselab.keyness.compare_groups` for each grouping column: :meth:`keyness_tables` joined.

        Every group is compared with the rest; for a column with at most
        ``MAX_PAIR_GROUPS`` groups, every pair of groups is compared too. Each
        column's table is cached on its own, so that ``keyness(by=[column])``
        reads only that column's.
        """
        return pd.concat([table for column in by or self.by for table in self.keyness_tables(column, **options)],
                         ignore_index=True)

    def keyness_tables(self, column: str, **options) -> Iterator[pd.DataFrame]:
        """The rows of :meth:`keyness` of one grouping column, a few whole comparisons at a time.

        As :func:`~discourselab.keyness.comparison_tables` gives them (at least
        one table), stored in the cache and each read when it is reached, so
        that the keyness of hundreds of groups is never held whole. Without a
        cache they are computed again each time.
        """
        n_groups = self.pieces[column].nunique() if column != "doc_id" else len(self.pieces)
        pairs = "all" if n_groups <= MAX_PAIR_GROUPS else None

        def tables() -> Iterator[pd.DataFrame]:
            return comparison_tables(self.count_parts(), self.pieces, column, pairs=pairs, **options)

        if cache_dir() is None:
            return tables()
        key = self._key({"by": column, **options})
        return cached_parts("keyness", key, parts_stored("keyness", key, tables), tables)

    def keywords_in_context(self, queries, *, by: str, window: int = 5, min_count: int = 2,
                            words: int = 8) -> tuple[ConcordanceLines, pd.DataFrame]:
        """:func:`~discourselab.context.keywords_in_context` of the corpus: its lines a query at a time, and its collocates.

        The lines are stored in the cache as they are found, a chunk of
        paragraphs at a time (:func:`~discourselab.context.keyword_parts`),
        and each table of them is read when it is reached, so that the lines
        of every occurrence are never held together (69,472 lines at 31M
        words). Without a cache they are held.
        """
        queries = list(dict.fromkeys(queries))

        def parts() -> Iterator[tuple[str | None, pd.DataFrame]]:
            return keyword_parts(self.corpus.paragraph_parts(), self.pieces, queries, self.pipeline,
                                 self.count_parts(), by=by, window=window, min_count=min_count, words=words)

        if cache_dir() is None:
            return collected(parts(), queries)
        kind, key = "concordance", self._key({"queries": queries, "by": by, "window": window,
                                             "min_count": min_count, "words": words})
        count = parts_stored(kind, key, lambda: _numbered(parts()))
        found = cached_part(kind, key, count - 1)  # the last part: where each query's lines are, and the collocates
        if found is None:  # lost meanwhile
            return collected(parts(), queries)

        @cache
        def remade() -> ConcordanceLines:  # if the entry is lost meanwhile: every line made again, once
            return collected(parts(), queries)[0]

        def read(query: str) -> Iterator[pd.DataFrame]:
            for done, number in enumerate(found["numbers"].get(query, [])):
                table = cached_part(kind, key, number)
                if table is None:
                    yield from islice(remade().tables(query), done, None)
                    return
                yield table

        return ConcordanceLines(queries, read), found["collocates"]


def _numbered(parts: Iterator[tuple[str | None, pd.DataFrame]]) -> Iterator:
    """The tables of :func:`~discourselab.context.keyword_parts`' lines, then where each query's are, with the collocates."""
    numbers: dict[str, list[int]] = {}
    for number, (query, table) in enumerate(parts):
        if query is None:
            yield {"numbers": numbers, "collocates": table}
        else:
            numbers.setdefault(query, []).append(number)
            yield table


def open_study(manifest: str | Path | None = None, out_dir: str | Path | None = None,
               by: list[str] | None = None, seed: int = 0, **settings) -> Study:
    """Open a study from a notebook's parameters (None means the project's default).

    Parameters
    ----------
    manifest : str or Path, optional
        Corpus manifest; default ``data/corpus.csv``.
    out_dir : str or Path, optional
        Where tables and figures go; default ``build/interactive``.
    by : list of str, optional
        Grouping columns; default ``author`` and ``role``.
    seed : int
    **settings
        Fields of :class:`~discourselab.text.Settings`.

    From then on the process hands large freed arrays straight back to the
    system (:func:`~discourselab.memory.return_large_blocks`) and, in a
    notebook, the rest of its freed memory after each cell
    (:func:`~discourselab.memory.trim_after_each_cell`): a notebook holds what
    it uses, not what it once used.
    """
    return_large_blocks()
    trim_after_each_cell()
    corpus = load_corpus(config.resolve(manifest, config.DEFAULT_MANIFEST))
    by = check_by(list(by), corpus) if by else default_by(corpus)
    out = config.resolve(out_dir, config.DEFAULT_OUT)
    config.out_paths(out)
    return Study(corpus, out, by, int(seed), Settings(**settings))


def variant_usage(study: Study, by: str = "file") -> pd.DataFrame:
    """How often each group uses each variant of every glossary concept.

    Counted without the glossary, so each variant is its own term.

    Returns
    -------
    DataFrame
        ``concept``, ``variant``, ``group``, ``count`` (concepts that occur at least once).
    """
    glossary = TextPipeline(study.settings).glossary
    plain = study.with_settings(use_glossary=False)
    wanted = set(glossary) | set(glossary.values())
    # a part at a time, its few rows as plain values: each part's own categories (its paragraphs' ids, every
    # term) would otherwise be kept with them (at 26 parts of 31M words, 80 MB for 4,624 rows)
    found = pd.concat([plain_values(part[part["term"].isin(wanted)]) for part in plain.count_parts()],
                      ignore_index=True)
    counts = count_terms(found, plain.pieces, by)  # only counts are used
    rows = []
    for concept in sorted(set(glossary.values())):
        variants = sorted({concept, *(v for v, c in glossary.items() if c == concept)})
        found = counts[counts["term"].isin(variants)]
        for rec in found.itertuples():
            rows.append({"concept": concept, "variant": rec.term, "group": rec.group, "count": rec.count})
    table = pd.DataFrame(rows, columns=["concept", "variant", "group", "count"])
    used = table.groupby("concept")["variant"].transform("nunique") > 1
    return table[used].sort_values(["concept", "group", "variant"]).reset_index(drop=True)
