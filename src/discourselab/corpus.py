"""Reading a corpus described by a manifest, with nothing lost.

A *manifest* is a CSV file with one row per separately authored piece. A piece
is a run of lines inside a text file, from the line that begins with its
``start`` marker to the line that begins with its ``end`` marker (the whole file
when both are empty). Inside a piece, every non-blank line is a paragraph,
unless an exclusion rule says the line is not text of the piece (a web header,
a byline, an editor's note). Every line of every file ends up either in exactly
one paragraph or in the audit table, with the reason it was left out.

Exclusion rules live in data, never in code: an optional CSV file (by default
``exclusions.csv`` beside the manifest) with the columns

``file``
    glob pattern on the text file's name (``*`` or empty: every file);
``pattern``
    a Python regular expression searched in each line;
``reason``
    why a matching line is not text of a piece (goes into the audit);
``extent`` (optional)
    ``line`` (default): only the matching lines; ``rest-of-file``: the first
    matching line and every line after it.
"""

from __future__ import annotations

import fnmatch
import hashlib
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from . import config
from .cache import add_content, cache_dir, cached_object, cached_part, cached_parts, store_object, store_parts
from .errors import CorpusError
from .memory import trim_heap
from .text import count_words, part_ends

#: Columns every manifest must have.
REQUIRED_COLUMNS = ("doc_id", "path", "author", "affiliation", "role", "venue", "date", "title")
#: Manifest columns that describe where a piece is, not what it is.
LAYOUT_COLUMNS = ("path", "start", "end", "encoding")
RULE_COLUMNS = ("file", "pattern", "reason")
AUDIT_COLUMNS = ("file", "line", "doc_id", "reason", "text")
EXTENTS = ("line", "rest-of-file")

REASON_BLANK = "blank line"
REASON_OUTSIDE = "outside every piece's start and end markers"
#: Paragraphs per part of a paragraph table, at least (a part holds whole pieces; see :func:`part_sizes`).
PART_ROWS = 16384
#: Characters of text after which a part of a parsed corpus's paragraph table ends (at the end of a
#: piece) even before ``PART_ROWS`` rows: a part read holds about this much text, however long its paragraphs.
PART_CHARACTERS = 1 << 23


class _Store:
    """A corpus's paragraphs (with their texts) and audit: held, or read from the cache when first needed.

    With a cache ``key`` the tables can be let go (:meth:`release`) and read
    again; they are not pickled with the corpus, so the cached corpus and a
    notebook that needs only its pieces stay small whatever the corpus's size.
    The paragraphs are cached in parts of whole pieces (``sizes``: rows of
    each), so that they can also be read a part at a time (:meth:`parts`).
    """

    def __init__(self, tables: dict[str, pd.DataFrame], key: str | None = None, source: tuple | None = None,
                 content_hash: str = "", sizes: tuple[int, ...] = ()):
        self._tables = dict(tables)
        self.key, self.source, self.content_hash, self.sizes = key, source, content_hash, tuple(sizes)

    def get(self, name: str) -> pd.DataFrame:
        if name not in self._tables:
            if name == "paragraphs":
                table = self._joined_parts()
                self._tables[name] = self._parse_again(name) if table is None else table
            else:
                self._tables[name] = cached_object(name, self.key, lambda: self._parse_again(name))
        return self._tables[name]

    def _joined_parts(self) -> pd.DataFrame | None:
        """The paragraph table from its cached parts, or None when the cache has lost one."""
        parts = []
        for number in range(len(self.sizes)):
            part = cached_part("paragraphs", self.key, number)
            if part is None:
                return None
            parts.append(part)
        return pd.concat(parts, ignore_index=True)

    def _parse_again(self, name: str) -> pd.DataFrame:
        """The table, when the cache has lost it: from the files, which must not have changed (cached again)."""
        corpus = _load(*self.source)
        if corpus.content_hash != self.content_hash:
            raise CorpusError(f"the texts of {self.source[0]} changed after the corpus was loaded; load it again")
        if name == "paragraphs":
            store_parts("paragraphs", self.key, corpus._store.slices())
        return corpus._store.get(name)

    def slices(self) -> Iterator[pd.DataFrame]:
        """The held paragraph table's parts (views of its rows)."""
        return table_slices(self.get("paragraphs"), self.sizes)

    def parts(self) -> Iterator[pd.DataFrame]:
        """The paragraphs a part at a time: from the held table, else each part read from the cache alone."""
        if self.holds("paragraphs") or self.key is None or cache_dir() is None:
            return self.slices()
        return cached_parts("paragraphs", self.key, len(self.sizes), self._parsed_slices)

    def _parsed_slices(self) -> Iterator[pd.DataFrame]:
        """When the cache lost a part: the whole table made again, and held, in its parts."""
        self._tables["paragraphs"] = self._parse_again("paragraphs")
        return self.slices()

    def holds(self, name: str) -> bool:
        return name in self._tables

    def release(self, name: str | None = None) -> None:
        if self.key is not None and cache_dir() is not None:
            for held in [name] if name else list(self._tables):
                self._tables.pop(held, None)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        if self.key is not None:
            state["_tables"] = {}
        return state


class Parts:
    """Tables one after another, read again each time it is iterated (``make()`` gives a new iterator).

    ``key``, when given, is a hash of what the tables hold, so that what is
    made from them can be cached by it without reading them.
    """

    def __init__(self, make: Callable[[], Iterator[pd.DataFrame]], key: str | None = None):
        self._make = make
        self.key = key

    def __iter__(self) -> Iterator[pd.DataFrame]:
        return self._make()


class ParagraphParts(Parts):
    """A corpus's paragraph table a part at a time (see :meth:`Corpus.paragraph_parts`).

    Each part holds whole pieces, in corpus order: at least ``PART_ROWS``
    rows, but the last, or fewer where its texts reach ``PART_CHARACTERS``.
    Iterating reads each part when it is reached and lets it go after (unless
    the corpus holds its paragraphs), so a pass over the texts holds one
    part's. ``sizes`` gives the rows of each part. It can be iterated more than once.
    """

    def __init__(self, store: _Store):
        super().__init__(store.parts)
        self.sizes = store.sizes

    def __len__(self) -> int:
        return len(self.sizes)


def table_slices(table: pd.DataFrame, sizes) -> Iterator[pd.DataFrame]:
    """The parts of a table, ``sizes`` rows each in turn (views of its rows)."""
    start = 0
    for size in sizes:
        yield table.iloc[start:start + size]
        start += size


def part_sizes(doc_ids: pd.Series, rows: int | None = None) -> tuple[int, ...]:
    """Rows of each part of a paragraph table: whole pieces, a part ending at the first piece's end after ``rows`` rows.

    ``doc_ids`` is the table's ``doc_id`` column, each piece's paragraphs
    together; ``rows`` is ``PART_ROWS`` unless given.
    """
    rows = PART_ROWS if rows is None else rows
    values = doc_ids.cat.codes.to_numpy() if isinstance(doc_ids.dtype, pd.CategoricalDtype) else doc_ids.to_numpy()
    ends = [*(np.flatnonzero(values[1:] != values[:-1]) + 1).tolist(), len(values)]
    chosen = [ends[i] for i in part_ends(ends, rows)]
    return tuple(size for size in np.diff([0, *chosen]).tolist() if size)


@dataclass(frozen=True)
class Corpus:
    """A loaded corpus.

    Attributes
    ----------
    pieces : DataFrame
        One row per piece: every manifest column, then ``file`` (path relative
        to the manifest's folder), ``first_line`` and ``last_line`` (1-based,
        inclusive), ``paragraphs`` (count) and ``words`` (count).
    paragraphs : DataFrame
        One row per paragraph: ``doc_id``, ``paragraph_id`` (``doc_id:n``),
        ``paragraph`` (n, from 1), ``file``, ``line`` (1-based) and ``text``.
    audit : DataFrame
        One row per raw line that is in no paragraph: ``file``, ``line``,
        ``doc_id`` (the piece whose range holds the line, or empty), ``reason``
        and ``text``.
    manifest_path : Path
    files : tuple of Path
        Every input file: the manifest, the rules file if any, the texts.
    content_hash : str
        sha256 of every paragraph's ids and text (see :func:`discourselab.cache.content_key`).
    audit_lines : int
        Rows of ``audit``.

    Notes
    -----
    A corpus from the cache holds only its pieces until ``paragraphs`` or
    ``audit`` is first used; those are then read from the cache, and
    :meth:`release` lets them go again. So a notebook that works from cached
    term counts never holds the texts.
    """

    pieces: pd.DataFrame
    manifest_path: Path
    files: tuple[Path, ...]
    content_hash: str
    audit_lines: int
    _store: _Store = field(repr=False, compare=False)

    @property
    def paragraphs(self) -> pd.DataFrame:
        return self._store.get("paragraphs")

    @property
    def audit(self) -> pd.DataFrame:
        return self._store.get("audit")

    def paragraph_parts(self) -> ParagraphParts:
        """The rows of :attr:`paragraphs` a part of whole pieces at a time (see :class:`ParagraphParts`).

        Read from the cache one part at a time when the corpus does not hold
        its paragraphs, so that a pass over the texts (counting terms, a
        concordance) holds one part's, not the corpus's.
        """
        return ParagraphParts(self._store)

    def piece_texts(self) -> Iterator[tuple[str, str]]:
        """Each piece's text (see :func:`piece_texts`), read a part at a time (:meth:`paragraph_parts`)."""
        for part in self.paragraph_parts():
            yield from piece_texts(part)

    def paragraphs_of(self, paragraph_ids) -> pd.DataFrame:
        """Some paragraphs only (rows of :attr:`paragraphs`), read a part at a time (:meth:`paragraph_parts`)."""
        wanted = set(paragraph_ids)
        found = [part[part["paragraph_id"].isin(wanted)] for part in self.paragraph_parts()]
        return pd.concat(found) if found else self.paragraphs.iloc[:0]

    def release(self) -> None:
        """Let go of the paragraphs and audit, when the cache can give them again (else keep them).

        The pages the process let go of, these and any before, go back to the
        system (:func:`~discourselab.memory.trim_heap`).
        """
        self._store.release()
        trim_heap()

    @property
    def metadata_columns(self) -> list[str]:
        """Manifest columns a user may group by (all but ``doc_id`` and layout)."""
        manifest_cols = self.pieces.columns[: list(self.pieces.columns).index("file")]
        return [c for c in manifest_cols if c not in LAYOUT_COLUMNS and c != "doc_id"]


def piece_texts(paragraphs: pd.DataFrame) -> Iterator[tuple[str, str]]:
    """Each piece's text, its paragraphs joined by blank lines, one piece at a time.

    Parameters
    ----------
    paragraphs : DataFrame
        With ``doc_id`` and ``text``, a piece's paragraphs in order (as :attr:`Corpus.paragraphs`).

    Yields
    ------
    (doc_id, text)
        In order of each piece's first paragraph.
    """
    for doc_id, texts in paragraphs.groupby("doc_id", sort=False)["text"]:
        yield doc_id, "\n\n".join(texts)


def _where(manifest: Path, row: int, doc_id: str | None = None) -> str:
    """How an error names a manifest row (row = CSV line number)."""
    label = f"{manifest}, line {row}"
    return f"{label} (doc_id {doc_id!r})" if doc_id else label


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    if not path.is_file():
        raise CorpusError(f"{what} not found: {path}")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{what} {path} is not valid UTF-8 (byte {exc.start})") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise CorpusError(f"{what} {path} is not a readable CSV file: {exc}") from exc
    table.columns = [c.strip() for c in table.columns]
    return table


def read_manifest(manifest_path: str | Path) -> pd.DataFrame:
    """Read and check a manifest's columns and ids.

    Returns the manifest as strings, with a ``csv_line`` column holding each row's
    line number in the CSV file (the header is line 1).
    """
    path = Path(manifest_path)
    table = _read_csv(path, "manifest")
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise CorpusError(f"manifest {path} is missing required column(s): {', '.join(missing)}")
    if table.empty:
        raise CorpusError(f"manifest {path} has no rows")
    table = table.apply(lambda col: col.str.strip())
    table["csv_line"] = range(2, len(table) + 2)
    for rec in table.itertuples():
        if not rec.doc_id:
            raise CorpusError(f"{_where(path, rec.csv_line)}: empty doc_id")
        if not rec.path:
            raise CorpusError(f"{_where(path, rec.csv_line, rec.doc_id)}: empty path")
    dup = table[table["doc_id"].duplicated(keep=False)]
    if not dup.empty:
        rows = ", ".join(str(r) for r in dup["csv_line"])
        raise CorpusError(f"manifest {path}: duplicate doc_id {dup['doc_id'].iloc[0]!r} on lines {rows}")
    return table


def read_rules(rules_path: str | Path | None) -> pd.DataFrame:
    """Read an exclusion-rules file (see the module docstring); None gives no rules."""
    empty = pd.DataFrame(columns=[*RULE_COLUMNS, "extent", "csv_line", "regex"])
    if rules_path is None:
        return empty
    path = Path(rules_path)
    table = _read_csv(path, "exclusion rules file")
    missing = [c for c in RULE_COLUMNS if c not in table.columns]
    if missing:
        raise CorpusError(f"exclusion rules file {path} is missing column(s): {', '.join(missing)}")
    if "extent" not in table.columns:
        table["extent"] = "line"
    table["extent"] = table["extent"].replace("", "line")
    table["csv_line"] = range(2, len(table) + 2)
    regexes = []
    for rec in table.itertuples():
        if rec.extent not in EXTENTS:
            raise CorpusError(f"{path}, line {rec.csv_line}: extent must be one of {EXTENTS}, not {rec.extent!r}")
        if not rec.pattern or not rec.reason:
            raise CorpusError(f"{path}, line {rec.csv_line}: pattern and reason must not be empty")
        try:
            regexes.append(re.compile(rec.pattern))
        except re.error as exc:
            raise CorpusError(f"{path}, line {rec.csv_line}: bad regular expression {rec.pattern!r}: {exc}") from exc
    table["regex"] = regexes
    return table


def read_lines(path: Path, encoding: str, where: str) -> list[str]:
    """The lines of a text file, without line endings.

    UTF-8 (the default) accepts a byte-order mark. Lines end at ``\\n``; a
    trailing ``\\r`` is dropped, so CRLF files read the same.
    """
    data = path.read_bytes()
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        text = data.decode(codec)
    except LookupError as exc:
        raise CorpusError(f"{where}: unknown encoding {encoding!r}") from exc
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CorpusError(
            f"{where}: file {path} is not valid {encoding} (line {line}, byte {exc.start}: {exc.reason})"
        ) from exc
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _find_marker(lines: list[str], marker: str, kind: str, where: str) -> int:
    """Index of the one line that begins with ``marker`` (after leading spaces)."""
    hits = [i for i, line in enumerate(lines) if line.strip().startswith(marker)]
    if not hits:
        raise CorpusError(f"{where}: {kind} marker {marker!r} not found")
    if len(hits) > 1:
        found = ", ".join(str(i + 1) for i in hits)
        raise CorpusError(f"{where}: {kind} marker {marker!r} found {len(hits)} times (lines {found})")
    return hits[0]


def locate_piece(lines: list[str], start: str, end: str, where: str) -> tuple[int, int]:
    """First and last line (0-based, inclusive) of a piece given its markers."""
    first = _find_marker(lines, start, "start", where) if start else 0
    last = _find_marker(lines, end, "end", where) if end else len(lines) - 1
    if last < first:
        raise CorpusError(f"{where}: end marker (line {last + 1}) comes before start marker (line {first + 1})")
    return first, last


def rule_reasons(lines: list[str], file_name: str, rules: pd.DataFrame) -> list[str | None]:
    """For each line, the reason of the first exclusion rule that covers it, or None."""
    reasons: list[str | None] = [None] * len(lines)
    for rule in rules.itertuples():
        if rule.file not in ("", "*") and not fnmatch.fnmatch(file_name, rule.file):
            continue
        for i, line in enumerate(lines):
            if not rule.regex.search(line):
                continue
            covered = range(i, len(lines)) if rule.extent == "rest-of-file" else (i,)
            for j in covered:
                reasons[j] = reasons[j] or rule.reason
            if rule.extent == "rest-of-file":
                break
    return reasons


def _text_path(manifest_dir: Path, rec, where: str) -> Path:
    """The text file a manifest row names, which must lie inside the manifest's folder."""
    path = (manifest_dir / rec.path).resolve()
    if not path.is_relative_to(manifest_dir.resolve()):
        raise CorpusError(f"{where}: path {rec.path!r} leads outside the manifest's folder {manifest_dir}")
    if not path.is_file():
        raise CorpusError(f"{where}: file {rec.path!r} does not exist ({path})")
    return path


def _check_overlaps(spans: list[tuple[int, int, str, str]], file_name: str) -> None:
    """Stop if two pieces of one file share a line. ``spans``: (first, last, doc_id, where)."""
    ordered = sorted(spans)
    for (f1, l1, id1, _), (f2, l2, id2, where2) in zip(ordered, ordered[1:]):
        if f2 <= l1:
            raise CorpusError(
                f"{where2}: piece overlaps piece {id1!r} in {file_name} "
                f"(lines {f2 + 1}-{l2 + 1} against {f1 + 1}-{l1 + 1})"
            )


def _named_reason(line: str, names: list[tuple[str, str]]) -> str | None:
    """"title line" or "byline" for a line outside every piece that holds a piece's title or author."""
    for kind, name in names:
        if len(name) >= 4 and name.casefold() in line.casefold():
            return kind
    return None


def _piece_names(manifest: pd.DataFrame) -> dict[str, tuple[int, list[tuple[str, str]], list[tuple[str, str]]]]:
    """Each piece's place in the manifest, title and author names (``;`` separates co-authors), made once for :func:`_names`."""
    return {doc_id: (i, [("title line", title)] if title else [],
                     [("byline", a.strip()) for a in author.split(";") if a.strip()])
            for i, (doc_id, title, author) in enumerate(zip(manifest["doc_id"], manifest["title"], manifest["author"]))}


def _names(piece_names: dict, doc_ids: list[str]) -> list[tuple[str, str]]:
    """Titles, then author names, of the given pieces (each in manifest order; ``piece_names`` from :func:`_piece_names`).

    Looked up, not searched for in the manifest: a search per file made
    reading a corpus of thousands of files grow with the square of their number.
    """
    pieces = sorted((piece_names[doc_id] for doc_id in set(doc_ids)), key=lambda names: names[0])
    return [name for _, titles, _ in pieces for name in titles] + [name for *_, authors in pieces for name in authors]


def _split_file(lines, spans, reasons, file_label, names):
    """Sort each line of one file into a paragraph row or an audit row.

    A line outside every piece gets, in order: the reason of an exclusion rule,
    "blank line", "title line" or "byline" (it holds a title or author of one of
    the file's pieces), or the generic reason that it lies outside every piece.
    """
    owner: dict[int, str] = {}
    for first, last, doc_id, _ in spans:
        owner.update(dict.fromkeys(range(first, last + 1), doc_id))
    paragraphs, audit = [], []
    for i, line in enumerate(lines):
        doc_id = owner.get(i, "")
        reason = reasons[i] or (REASON_BLANK if not line.strip() else None)
        if reason is None and not doc_id:
            reason = _named_reason(line, names) or REASON_OUTSIDE
        if reason is None:
            paragraphs.append({"doc_id": doc_id, "file": file_label, "line": i + 1, "text": line.strip()})
        else:
            audit.append({"file": file_label, "line": i + 1, "doc_id": doc_id, "reason": reason, "text": line})
    return paragraphs, audit


def default_rules_path(manifest_path: str | Path) -> Path | None:
    """``exclusions.csv`` beside the manifest, if there is one."""
    path = Path(manifest_path).parent / config.RULES_FILENAME
    return path if path.is_file() else None


def load_corpus(manifest_path: str | Path, rules_path: str | Path | None = "auto") -> Corpus:
    """Load the pieces a manifest describes, with an audit of every line left out.

    Parameters
    ----------
    manifest_path : str or Path
        CSV manifest (see the module docstring and the README for its columns).
    rules_path : str, Path, None or "auto"
        Exclusion-rules CSV. ``"auto"`` (default) uses ``exclusions.csv`` beside
        the manifest when it exists; None applies no rules.

    Returns
    -------
    Corpus
        Pieces, paragraphs and audit tables (see :class:`Corpus`).

    Raises
    ------
    CorpusError
        On any bad input, naming the manifest line and the file. Nothing is written.

    Notes
    -----
    A loaded corpus is cached (:mod:`discourselab.cache`) under a hash of the
    content and location of every input file, so that the notebooks of a run
    do not each parse the texts again; any change to a file loads it anew. Its
    paragraphs and audit are cached apart from its pieces and read only when
    used (see :class:`Corpus`). The paragraphs go into the cache a part at a
    time as the files are read, so parsing holds one file's text and one
    part's paragraphs, not the corpus's.
    """
    manifest_path = Path(manifest_path)
    rules_path = _rules_path(manifest_path, rules_path)
    key = _inputs_key(manifest_path, rules_path)
    if key is None or cache_dir() is None:
        return _load(manifest_path, rules_path)

    def parse() -> Corpus:
        # streamed into the cache a part at a time: the cached corpus is its pieces and where to find the rest
        reading = _Reading(manifest_path, rules_path)
        store_parts("paragraphs", key, reading.parts())
        store_object("audit", key, reading.audit_table())
        return reading.corpus(_Store({}, key, (manifest_path, rules_path), reading.content_hash(), reading.sizes))

    corpus = cached_object("corpus", key, parse)
    # the paths as this caller gave them (the cached corpus may come from another working folder)
    given = (manifest_path, *([Path(rules_path)] if rules_path else []))
    return replace(corpus, manifest_path=manifest_path, files=given + corpus.files[len(given):])


def _inputs_key(manifest_path: Path, rules_path) -> str | None:
    """Content hash of every input file with its location, or None when one cannot be read.

    With None the corpus is loaded without the cache, which then says what is wrong.
    The files are read one at a time.
    """
    try:
        manifest = read_manifest(manifest_path)
        paths = [manifest_path, *([Path(rules_path)] if rules_path else [])]
        paths += sorted({_text_path(manifest_path.parent, rec, "") for rec in manifest.itertuples()})
        hasher = hashlib.sha256()
        for path in paths:
            hasher.update(f"{path.resolve()}\x1f".encode("utf-8", "surrogatepass"))
            hasher.update(hashlib.sha256(path.read_bytes()).digest())
        return hasher.hexdigest()
    except (CorpusError, OSError):
        return None


def _load(manifest_path: Path, rules_path) -> Corpus:
    """The corpus, holding its paragraphs and audit."""
    reading = _Reading(manifest_path, rules_path)
    paragraphs = pd.concat(list(reading.parts()), ignore_index=True)
    store = _Store({"paragraphs": paragraphs, "audit": reading.audit_table()}, content_hash=reading.content_hash(),
                   sizes=reading.sizes)
    return reading.corpus(store)


class _Reading:
    """One pass over a manifest's text files that gives the paragraph table a part at a time, then the rest.

    :meth:`parts` reads the files in the order the manifest names its pieces
    (each file's checks and errors when it is first reached, so in order of
    first mention) and yields the paragraphs in parts of whole pieces, each
    of at least ``PART_ROWS`` rows but the last, as :func:`part_sizes` cuts
    them, or of fewer where its pieces' texts reach ``PART_CHARACTERS``. It
    holds one file's lines and one part's paragraphs at a time, with
    each piece's size and the audit's rows (as columns), so a corpus can be
    parsed into the cache without holding its texts. A file whose pieces the
    manifest does not name together is read again for each run of them.
    """

    def __init__(self, manifest_path: Path, rules_path, part_rows: int | None = None):
        self.manifest_path = manifest_path
        self.rules_path = rules_path
        self.manifest = read_manifest(manifest_path)
        self.rules = read_rules(rules_path)
        self.part_rows = PART_ROWS if part_rows is None else part_rows
        self.spans: dict[Path, list] = {}
        self.sizes: tuple[int, ...] = ()
        self.piece_sizes: dict[str, tuple[int, int]] = {}
        self.audit: dict[str, list] = {column: [] for column in AUDIT_COLUMNS}
        self._digest = hashlib.sha256(b"")  # content_key's, with no settings' fingerprint

    def parts(self) -> Iterator[pd.DataFrame]:
        rows_by_file = _rows_by_file(self.manifest, self.manifest_path)
        files = {rec.doc_id: path for path, rows in rows_by_file.items() for rec, _ in rows}
        piece_names = _piece_names(self.manifest)
        pending: list[dict] = []
        characters = 0  # of the pending paragraphs' texts
        for path, doc_ids in itertools.groupby(self.manifest["doc_id"], key=files.__getitem__):
            by_piece = self._read(path, rows_by_file[path], piece_names)
            for doc_id in doc_ids:
                paragraphs = by_piece[doc_id]
                self.piece_sizes[doc_id] = (len(paragraphs), sum(count_words(p["text"]) for p in paragraphs))
                pending += paragraphs
                characters += sum(len(p["text"]) for p in paragraphs)
                if len(pending) >= self.part_rows or characters >= PART_CHARACTERS:
                    yield self._part(pending)
                    pending, characters = [], 0
        if pending:
            yield self._part(pending)

    def _read(self, path: Path, rows: list, piece_names: dict) -> dict[str, list[dict]]:
        """One file's paragraph rows by piece (its spans and audit kept when it is first read)."""
        spans, paragraphs, audit = _read_file(path, rows, piece_names, self.manifest_path, self.rules)
        if path not in self.spans:
            self.spans[path] = spans
            for row in audit:
                for column, values in self.audit.items():
                    values.append(row[column])
        by_piece: dict[str, list[dict]] = {}
        for para in paragraphs:
            by_piece.setdefault(para["doc_id"], []).append(para)
        return by_piece

    def _part(self, paragraphs: list[dict]) -> pd.DataFrame:
        """The table of some whole pieces' paragraphs (in manifest order), numbered from the rows before."""
        start = sum(self.sizes)
        table = _paragraph_table(paragraphs, start)
        add_content(self._digest, table)
        self.sizes += (len(table),)
        return table

    def content_hash(self) -> str:
        """sha256 of every paragraph's ids and text (:func:`~discourselab.cache.content_key`), once :meth:`parts` is done."""
        return self._digest.hexdigest()

    def audit_table(self) -> pd.DataFrame:
        return pd.DataFrame(self.audit, columns=list(AUDIT_COLUMNS)).sort_values(["file", "line"]).reset_index(drop=True)

    def corpus(self, store: _Store) -> Corpus:
        """The corpus, once :meth:`parts` is done, with its paragraphs and audit in ``store``."""
        pieces = _assemble(self.manifest, self.spans, self.manifest_path.parent, self.piece_sizes)
        files = (self.manifest_path, *([Path(self.rules_path)] if self.rules_path else []), *self.spans)
        return Corpus(pieces, self.manifest_path, files, store.content_hash, len(self.audit["line"]), store)


def _rows_by_file(manifest: pd.DataFrame, manifest_path: Path) -> dict[Path, list]:
    """The manifest's rows, each with how errors name it, grouped by text file (files in order of first mention)."""
    files: dict[Path, list] = {}
    for rec in manifest.itertuples():
        where = _where(manifest_path, rec.csv_line, rec.doc_id)
        files.setdefault(_text_path(manifest_path.parent, rec, where), []).append((rec, where))
    return files


def _read_file(path: Path, rows: list, piece_names: dict, manifest_path: Path, rules: pd.DataFrame):
    """The piece spans, paragraph rows and audit rows of one text file; stop on an empty piece."""
    lines = read_lines(path, getattr(rows[0][0], "encoding", "") or "utf-8", rows[0][1])
    spans = [(*locate_piece(lines, getattr(rec, "start", ""), getattr(rec, "end", ""), where), rec.doc_id, where)
             for rec, where in rows]
    label = path.relative_to(manifest_path.parent.resolve()).as_posix()
    _check_overlaps(spans, label)
    names = _names(piece_names, [rec.doc_id for rec, _ in rows])
    paragraphs, audit = _split_file(lines, spans, rule_reasons(lines, path.name, rules), label, names)
    found = {para["doc_id"] for para in paragraphs}
    for rec, where in rows:
        if rec.doc_id not in found:
            raise CorpusError(f"{where}: piece in {rec.path!r} is empty (no text between its markers)")
    return spans, paragraphs, audit


def iter_paragraphs(manifest_path: str | Path, rules_path: str | Path | None = "auto"):
    """The paragraphs a manifest describes, read one text file at a time.

    For corpora too large to hold in memory: only one file's lines are held at
    once. The paragraphs are those of :func:`load_corpus`, with the same checks
    and errors (raised when the stream reaches the bad file or row); the pieces
    of a file come in manifest order, the files in order of first mention.

    Yields
    ------
    (doc_id, text)
    """
    manifest_path = Path(manifest_path)
    rules_path = _rules_path(manifest_path, rules_path)
    manifest = read_manifest(manifest_path)
    rules = read_rules(rules_path)
    piece_names = _piece_names(manifest)
    for path, rows in _rows_by_file(manifest, manifest_path).items():
        _, paragraphs, _ = _read_file(path, rows, piece_names, manifest_path, rules)
        order = {rec.doc_id: i for i, (rec, _) in enumerate(rows)}
        for para in sorted(paragraphs, key=lambda p: (order[p["doc_id"]], p["line"])):
            yield para["doc_id"], para["text"]


def _rules_path(manifest_path: Path, rules_path):
    """The rules file to use: ``"auto"`` means ``exclusions.csv`` beside the manifest, if there is one."""
    if isinstance(rules_path, str) and rules_path == "auto":
        return default_rules_path(manifest_path)
    return rules_path


def _paragraph_table(paragraphs: list[dict], start: int = 0) -> pd.DataFrame:
    """The paragraph rows of whole pieces, in order, as a table whose index starts at ``start``."""
    table = pd.DataFrame(paragraphs, columns=["doc_id", "file", "line", "text"],
                         index=pd.RangeIndex(start, start + len(paragraphs)))
    table["paragraph"] = table.groupby("doc_id", sort=False).cumcount() + 1
    table["paragraph_id"] = table["doc_id"] + ":" + table["paragraph"].astype(str)
    return table[["doc_id", "paragraph_id", "paragraph", "file", "line", "text"]]


def _assemble(manifest, spans, manifest_dir, sizes: dict[str, tuple[int, int]]) -> pd.DataFrame:
    """The pieces table: manifest columns, location and size (``sizes``: each piece's paragraphs and words)."""
    located = {doc_id: (path, first, last) for path, rows in spans.items() for first, last, doc_id, _ in rows}
    rows = []
    for rec in manifest.itertuples():
        path, first, last = located[rec.doc_id]
        paragraphs, words = sizes[rec.doc_id]
        rows.append({
            "file": path.relative_to(manifest_dir.resolve()).as_posix(),
            "first_line": first + 1,
            "last_line": last + 1,
            "paragraphs": paragraphs,
            "words": words,
        })
    meta = manifest.drop(columns="csv_line").reset_index(drop=True)
    return pd.concat([meta, pd.DataFrame(rows)], axis=1)


def write_manifest_template(folder: str | Path, manifest_name: str = "corpus.csv", overwrite: bool = False) -> Path:
    """Write a starting manifest for a folder of ``.txt`` files: one piece per file.

    ``author`` starts as the file's stem (one author per file) and ``title`` as
    the file's first non-blank line; the other required columns are left empty
    for the user to fill in.

    Returns
    -------
    Path
        The manifest written.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise CorpusError(f"not a folder: {folder}")
    files = sorted(p for p in folder.rglob("*.txt") if p.is_file())
    if not files:
        raise CorpusError(f"no .txt files in {folder}")
    target = folder / manifest_name
    if target.exists() and not overwrite:
        raise CorpusError(f"{target} exists already; remove it or pass --force")
    rows = []
    for path in files:
        where = f"file {path}"
        lines = read_lines(path, "utf-8", where)
        title = next((line.strip() for line in lines if line.strip()), "")
        if not title:
            raise CorpusError(f"{where}: the file is empty")
        rel = path.relative_to(folder).as_posix()
        doc_id = re.sub(r"[^\w-]+", "_", rel.removesuffix(".txt"))
        rows.append({"doc_id": doc_id, "path": rel, "author": path.stem, "affiliation": "", "role": "",
                     "venue": "", "date": "", "title": title[:120], "start": "", "end": "", "encoding": ""})
    pd.DataFrame(rows).to_csv(target, index=False)
    return target


def default_by(corpus: Corpus) -> list[str]:
    """``author``, plus ``role`` where the manifest fills it in."""
    by = ["author"]
    if "role" in corpus.pieces and (corpus.pieces["role"] != "").any():
        by.append("role")
    return by


def check_by(by: list[str], corpus: Corpus) -> list[str]:
    """Stop with a clear message when a grouping column is not in the manifest."""
    allowed = ["doc_id", *corpus.metadata_columns, "file"]
    for column in by:
        if column not in allowed:
            raise CorpusError(
                f"manifest {corpus.manifest_path} has no column {column!r} to group by "
                f"(choose from: {', '.join(allowed)})"
            )
    return list(dict.fromkeys(by))
