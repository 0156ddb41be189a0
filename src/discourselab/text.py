"""One text-processing pipeline for every analysis.

Steps, in order, each driven by an editable data file (defaults ship in
``discourselab/data``; pass your own paths to :class:`TextPipeline`):

1. typographic quotes, apostrophes, hyphens and dashes are folded to ASCII;
2. case folding;
3. spelling variants (``spelling.csv``: regular expression -> replacement,
   applied to the lower-cased text), e.g. ``grass-roots`` -> ``grassroots``;
4. tokenization: words (letters, with inner hyphens or apostrophes) and numbers
   (digits, with ``.``/``,`` and an optional ``%``); a possessive ``'s`` is dropped;
5. lemmas from simplemma (offline), with overrides from ``lemmas.csv``;
6. the translation-variant glossary (``glossary.csv``: variant -> concept,
   one or more words), switchable off with ``use_glossary=False``;
7. multiword expressions from ``phrases.txt`` (in lemma form) become one term,
   with NLTK's ``MWETokenizer``;
8. stop words (``stopwords_en.txt`` and ``stopwords_domain.txt``), numbers and
   terms shorter than ``min_length`` (2) are kept in the token table but get no term.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from itertools import chain, islice
from pathlib import Path

import numpy as np
import pandas as pd
import simplemma
from scipy.sparse import csr_matrix

from . import config
from .bytetokens import KEY_BYTES, KeyTable, ascii_spans, packed
from .cache import cache_dir
from .chunks import batched, regrouped
from .errors import CorpusError
from .memory import gc_paused

# One character for one character, so that offsets in the folded text are offsets in the original.
_TYPOGRAPHY = str.maketrans({
    "\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'", "\u201b": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"',
    "\u2010": "-", "\u2011": "-",
    "\u2013": " ", "\u2014": " ", "\u2015": " ", "\u2212": " ",
    "\u00a0": " ", "\u3000": " ",
})
_TOKEN = re.compile(r"(?P<word>[^\W\d_]+(?:['-][^\W\d_]+)*)|(?P<number>\d+(?:[.,]\d+)*%?)")
_WORD = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*")
_PLAIN_TOKEN = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*|\d+(?:[.,]\d+)*%?")  # _TOKEN without groups
# the same on ASCII text, where letters are [a-z] once lower-cased and digits [0-9]; faster
_ASCII_TOKEN = re.compile(r"[a-z]+(?:['-][a-z]+)*|[0-9]+(?:[.,][0-9]+)*%?", re.ASCII)
_ASCII_WORD = re.compile(r"[a-z]+(?:['-][a-z]+)*", re.ASCII)  # _WORD on lower-case ASCII text
_SEP = " "
_SPACE = re.compile(r"\s")


def normalize_typography(text: str) -> str:
    """Fold typographic quotes, apostrophes, hyphens and dashes to ASCII, one character for one.

    En and em dashes become a space (a separator); hyphen characters inside
    words become ``-``. The result has the same length as the input. ASCII
    text has nothing to fold and comes back as it is, without a pass over it.
    """
    return text if text.isascii() else text.translate(_TYPOGRAPHY)


def count_words(text: str) -> int:
    """Number of running words (letters, with inner hyphens or apostrophes) in ``text``.

    ``_WORD``'s matches; on ASCII text (once folded), those of the ASCII-only
    ``_ASCII_WORD`` on the lower-cased text, which are the same and found in
    about 60% of the time.
    """
    text = normalize_typography(text)
    return len(_ASCII_WORD.findall(text.lower()) if text.isascii() else _WORD.findall(text))


def _data_file(name: str) -> Path:
    return config.PACKAGE_DATA / name


def read_word_list(path: str | Path) -> list[str]:
    """One entry per line, lower-cased; ``#`` starts a comment; blank lines skipped."""
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"word list not found: {path}")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise CorpusError(f"word list {path} is not valid UTF-8 (byte {exc.start})") from exc
    entries = [line.split("#", 1)[0].strip().lower() for line in lines]
    return [" ".join(e.split()) for e in entries if e]


def read_mapping(path: str | Path, key: str, value: str) -> list[tuple[str, str]]:
    """Pairs from a two-column CSV data file; an error names the file and line."""
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"data file not found: {path}")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(row for row in handle if not row.startswith("#"))
        if reader.fieldnames is None or key not in reader.fieldnames or value not in reader.fieldnames:
            raise CorpusError(f"{path} must have the columns {key!r} and {value!r}")
        pairs = []
        for lineno, row in enumerate(reader, start=2):
            k, v = (row.get(key) or "").strip(), (row.get(value) or "").strip()
            if not k:
                raise CorpusError(f"{path}, row {lineno}: empty {key!r}")
            pairs.append((k, v))
    return pairs


#: The fields of :class:`Settings` that each name one data file (or None).
_FILE_FIELDS = ("phrase_file", "glossary_file", "spelling_file", "lemma_file")


@dataclass(frozen=True)
class Settings:
    """What the pipeline does; every field has a stated default.

    The file fields name editable data files; by default the package's own.
    """

    lemmatize: bool = True
    use_glossary: bool = True
    remove_stopwords: bool = True
    keep_numbers: bool = False
    min_length: int = 2
    language: str = "en"
    stopword_files: tuple[str, ...] = field(
        default_factory=lambda: (str(_data_file("stopwords_en.txt")), str(_data_file("stopwords_domain.txt")))
    )
    phrase_file: str | None = field(default_factory=lambda: str(_data_file("phrases.txt")))
    glossary_file: str | None = field(default_factory=lambda: str(_data_file("glossary.csv")))
    spelling_file: str | None = field(default_factory=lambda: str(_data_file("spelling.csv")))
    lemma_file: str | None = field(default_factory=lambda: str(_data_file("lemmas.csv")))

    def files(self) -> list[str]:
        """Every data file these settings read."""
        named = [getattr(self, name) for name in _FILE_FIELDS]
        return [*self.stopword_files, *[f for f in named if f]]

    def fingerprint(self) -> str:
        """sha256 of the settings, each data file by what it holds (not where it lies).

        The same word lists at another path (a project moved or cloned
        elsewhere) give the same fingerprint, so its cache still serves;
        an edit to any of them gives another.
        """
        def content(name: str | None) -> str | None:
            return None if name is None else hashlib.sha256(Path(name).read_bytes()).hexdigest()

        described = asdict(self)
        described["stopword_files"] = [content(name) for name in self.stopword_files]
        for name in _FILE_FIELDS:
            described[name] = content(described[name])
        return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()


#: simplemma's lemmatizer, without its cache of lemmas: each pipeline keeps the forms of each word it has seen.
_LEMMATIZER = simplemma.Lemmatizer(cache_max_size=0)

#: count_texts uses several processes only from this many texts.
PARALLEL_TEXTS = 2000

#: count_texts encodes this many texts at a time, at most.
CHUNK_TEXTS = 2000

#: Characters of text that a chunk of texts (or paragraphs) holds at most, but for a longer text alone:
#: the tokens held while a chunk is analysed grow with its text, not with its number of texts.
CHUNK_CHARACTERS = 1 << 20

#: Codes a categorical's remapping rewrites at a time when it works in place.
REMAP_ROWS = 1 << 20

#: Run pairs counted chunk by chunk are summed whenever this many are held unsummed.
PAIR_ROWS = 1 << 20

#: Columns of the token table, in order.
TOKEN_COLUMNS = ["doc_id", "paragraph_id", "position", "token", "term", "words", "start", "end"]
_STRING_COLUMNS = ["doc_id", "paragraph_id", "token", "term"]
#: Columns of the count table, in order.
COUNT_COLUMNS = ["doc_id", "paragraph_id", "term", "count", "words"]
#: Columns of the run-pair table, in order.
PAIR_COLUMNS = ["first", "second", "count"]
_NUMBER = "\x00number"


class TextPipeline:
    """Tokenize, normalize, lemmatize and filter texts, always the same way.

    Parameters
    ----------
    settings : Settings, optional
        What to do; the defaults when omitted.
    **changes
        Fields of :class:`Settings` to change, e.g. ``use_glossary=False``.

    Examples
    --------
    >>> pipe = TextPipeline()
    >>> pipe.terms("Grass-roots Party-building serves the masses.")
    ['grassroots', 'party building', 'serve', 'masses']
    """

    def __init__(self, settings: Settings | None = None, **changes):
        base = settings or Settings()
        self.settings = Settings(**{**asdict(base), **changes}) if changes else base
        s = self.settings
        self._drop_stopwords, self._min_length, self._use_lemmas, self._language = \
            s.remove_stopwords, s.min_length, s.lemmatize, s.language
        self._cache: dict[str, list[str]] = {}
        self._single_terms: dict[tuple[str, str], str | None] = {}  # (form, surface) -> term, for analyze()
        self._spelling = self._read_spelling(s.spelling_file)
        self._lemmas = dict(read_mapping(s.lemma_file, "word", "lemma")) if s.lemma_file else {}
        self.stopwords = frozenset(w for f in s.stopword_files for w in read_word_list(f))
        glossary = read_mapping(s.glossary_file, "variant", "concept") if s.glossary_file else []
        variants = {self._normal_phrase(v): c.lower() for v, c in glossary}
        self.glossary = variants if s.use_glossary else {}
        phrases = [self._normal_phrase(p) for p in read_word_list(s.phrase_file)] if s.phrase_file else []
        self.phrases = sorted(set(phrases))
        # multiword variants are one term with the glossary off too, so that they can be counted
        multiword = set(self.phrases) | {v for v in variants if _SEP in v}
        self._multiword = sorted(multiword)
        self._mwe_tokenizer = None
        self._mwe_first = frozenset(p.split(_SEP)[0] for p in multiword)
        self._mwe_second: dict[str, set[str]] = {}  # first word -> the words that can follow it in an expression
        for p in multiword:
            words = p.split(_SEP)
            if len(words) > 1:
                self._mwe_second.setdefault(words[0], set()).add(words[1])
        # caches of terms(): token -> (forms, terms), token -> its one term, and the tokens that need more care
        self._fast: dict[str, tuple[tuple[str, ...], tuple[str | None, ...]]] = {}
        self._single: dict[str, str | None] = {}
        self._form1: dict[str, str] = {}
        self._starts: set[str] = set()
        self._multi: set[str] = set()
        self._mwe_width = max((p.count(_SEP) + 1 for p in multiword), default=1)
        self._vocabulary = _Vocabulary(self._learn)  # numbered tokens, for _encode()

    @staticmethod
    def _read_spelling(path):
        if not path:
            return []
        rules = []
        for lineno, (pattern, replacement) in enumerate(read_mapping(path, "variant", "replacement"), 2):
            try:
                rules.append((re.compile(pattern), replacement.lower()))
            except re.error as exc:
                raise CorpusError(f"{path}, row {lineno}: bad regular expression {pattern!r}: {exc}") from exc
        return rules

    def _forms(self, word: str) -> list[str]:
        """Spelling-folded, lemmatized forms of one lower-case word (cached per type)."""
        forms = self._cache.get(word)
        if forms is None:
            spelled = word
            for pattern, replacement in self._spelling:
                if pattern.fullmatch(spelled):
                    spelled = pattern.sub(replacement, spelled)
                    break
            forms = [self._lemma(w) for w in spelled.split()]
            self._cache[word] = forms
        return forms

    def _lemma(self, word: str) -> str:
        lemma = self._lemmas.get(word)
        if lemma is not None:
            return lemma
        if not self._use_lemmas or "'" in word:
            return word
        return _LEMMATIZER.lemmatize(word, self._language).lower()

    def _mwe(self):
        """NLTK's MWETokenizer for the multiword expressions, built (and NLTK imported) on first use.

        NLTK takes about a second to import; a notebook that reads its token
        table from the cache never needs it.
        """
        if self._mwe_tokenizer is None:
            from nltk.tokenize import MWETokenizer

            self._mwe_tokenizer = MWETokenizer([tuple(p.split(_SEP)) for p in self._multiword], separator=_SEP)
        return self._mwe_tokenizer

    def _normal_phrase(self, phrase: str) -> str:
        """A word-list entry in the form the pipeline produces (spelling and lemmas applied)."""
        words = _WORD.findall(normalize_typography(phrase.lower()))
        return _SEP.join(form for w in words for form in self._forms(w))

    def analyze(self, text: str) -> list[tuple[str, str | None, int, int, int]]:
        """The tokens of a text.

        Returns
        -------
        list of (token, term, words, start, end)
            ``token``: the surface form (merged expressions joined by spaces);
            ``term``: the normalized term, or None for a stop word or number;
            ``words``: how many running words the token spans (0 for numbers);
            ``start``, ``end``: character offsets of the token in ``text``.
        """
        surfaces, forms, words, spans = [], [], [], []
        cache, forms_of = self._cache, self._forms
        for match in _TOKEN.finditer(normalize_typography(text)):
            span = match.span()
            surface = text[span[0]:span[1]]
            if match.lastgroup == "number":
                surfaces.append(surface)
                forms.append(_NUMBER)
                words.append(0)
                spans.append(span)
                continue
            low = match.group().lower()
            low = low[:-2] if low.endswith("'s") else low
            found = cache.get(low)
            for k, form in enumerate(found if found is not None else forms_of(low)):
                surfaces.append(surface)
                forms.append(form)
                words.append(0 if k else 1)
                spans.append(span)
        return self._merge(surfaces, forms, words, spans)

    def _merge(self, surfaces, forms, words, spans):
        """Merge multiword expressions, map glossary variants, drop stop words."""
        s = self.settings
        single = self._single_terms
        out, i = [], 0
        for form in self._mwe().tokenize(forms):
            if _SEP not in form and form != _NUMBER:  # one word: most tokens
                surface = surfaces[i]
                key = (form, surface)
                term = single.get(key, single)
                if term is single:
                    term = single[key] = self._single_term(form, surface.lower())
                span = spans[i]
                out.append((surface, term, words[i], span[0], span[1]))
                i += 1
                continue
            n = form.count(_SEP) + 1
            parts = surfaces[i:i + n]
            surface = _SEP.join(p for k, p in enumerate(parts) if k == 0 or p != parts[k - 1])
            if form == _NUMBER:
                term = surface if s.keep_numbers else None
            elif n > 1:
                term = self._expression_term(form)
            else:
                term = self._single_term(form, surface.lower())
            out.append((surface, term, sum(words[i:i + n]), spans[i][0], spans[i + n - 1][1]))
            i += n
        return out

    def terms(self, text: str) -> list[str]:
        """The counted terms of a text, in order (an ``analyzer`` for scikit-learn).

        The same terms as :meth:`analyze` gives, by a faster path: each distinct
        lower-case token is analyzed once and remembered, and multiword
        expressions are looked for only in texts that hold a word one can begin with.
        """
        if self.settings.keep_numbers:  # numbers are terms: counted() takes analyze's path
            return [t for t in self.counted(text)[0] if t is not None]
        raws = self._raw_tokens(text)
        single = self._single
        try:
            finals = [single[r] for r in raws]
        except KeyError:
            for raw in raws:
                if raw not in single:
                    self._learn(raw)
            finals = [single[r] for r in raws]
        if not self._multi.isdisjoint(raws):  # a token with several forms (rare): counted() sorts them out
            return [t for t in self.counted(text)[0] if t is not None]
        if not self._starts.isdisjoint(raws):
            self._merge_expressions(raws, finals)
        return [t for t in finals if t is not None]

    @staticmethod
    def _raw_tokens(text: str) -> list[str]:
        """Lower-case tokens (words and numbers) of a text, typography folded."""
        low = normalize_typography(text).lower()
        return (_ASCII_TOKEN if low.isascii() else _PLAIN_TOKEN).findall(low)

    def _single_term(self, form: str, low: str) -> str | None:
        """The term of a one-word form (None for a stop word, judged on the term or on the lower-case word ``low``)."""
        term = self.glossary.get(form, form)
        if (self._drop_stopwords and (term in self.stopwords or low in self.stopwords)) or len(term) < self._min_length:
            return None
        return term

    def _expression_term(self, form: str) -> str | None:
        """The term of a merged multiword expression (None for a stop word or a too-short term)."""
        term = self.glossary.get(form, form)
        if (self.settings.remove_stopwords and term in self.stopwords) or len(term) < self.settings.min_length:
            return None
        return term

    def _merge_expressions(self, raws: list[str], finals: list) -> list[tuple[int, int]]:
        """Merge multiword expressions in place, for tokens of one form each; return each merge's (start, length).

        The expression's term goes to its first token, None to the others (see :meth:`_expressions`).
        """
        form1, last = self._form1, len(raws) - 1
        candidates = ((i, form1[raw], form1.get(raws[i + 1]), len(raws))
                      for i, raw in enumerate(raws) if raw in self._starts and i != last)
        merges = []
        for i, n, term in self._expressions(candidates, lambda a, b: [form1[r] for r in raws[a:b]]):
            finals[i] = term
            finals[i + 1:i + n] = [None] * (n - 1)
            merges.append((i, n))
        return merges

    def _expressions(self, candidates, forms) -> Iterator[tuple[int, int, str | None]]:
        """The multiword expressions that begin at some tokens, left to right: (start, length, term).

        NLTK's ``MWETokenizer`` reads left to right and can only start an
        expression at a token whose form begins one; so it is run on the short
        window at each such token, skipping tokens an earlier expression took.

        Parameters
        ----------
        candidates : iterable of (position, form, next token's form, end of its text)
            The tokens that may begin an expression, in order, each with a next token in its text.
        forms : callable
            ``forms(start, stop)``: the forms of those tokens.
        """
        free, follows, width = 0, self._mwe_second, self._mwe_width
        for i, first, second, end in candidates:
            if i < free or second not in follows.get(first, ()):
                continue  # no expression can go on from here
            merged = self._mwe().tokenize(forms(i, min(i + width, end)))[0]
            n = merged.count(_SEP) + 1
            if n > 1:
                free = i + n
                yield i, n, self._expression_term(merged)

    def counted(self, text: str) -> tuple[list[str | None], list[int]]:
        """The term and running words of every token of a text: :meth:`analyze` without surfaces and offsets.

        By the fast path of :meth:`terms` (each distinct lower-case token
        analyzed once), for the count table. Stop words and numbers are kept,
        with term None, since the count table counts their running words and
        they end runs of terms.
        """
        if self.settings.keep_numbers:
            tokens = self.analyze(text)
            return [t[1] for t in tokens], [t[2] for t in tokens]
        raws = self._raw_tokens(text)
        fast = self._fast
        for raw in raws:
            if raw not in fast:
                self._learn(raw)
        if self._multi.isdisjoint(raws):  # one form per token: the common case
            single = self._single
            finals = [single[r] for r in raws]
            words = [0 if r[0].isdigit() else 1 for r in raws]
            if self._starts.isdisjoint(raws):
                return finals, words
            merges = self._merge_expressions(raws, finals)
            for i, n in reversed(merges):  # an expression is one token spanning its words
                words[i:i + n] = [sum(words[i:i + n])]
                del finals[i + 1:i + n]
            return finals, words
        forms, finals, words = [], [], []
        for raw in raws:
            entry = fast[raw]
            forms += entry[0]
            finals += entry[1]
            words += [0] * len(entry[0]) if raw[0].isdigit() else [1] + [0] * (len(entry[0]) - 1)
        out_terms, out_words, i = [], [], 0
        for form in self._mwe().tokenize(forms):
            n = form.count(_SEP) + 1
            out_terms.append(finals[i] if n == 1 else self._expression_term(form))
            out_words.append(sum(words[i:i + n]))
            i += n
        return out_terms, out_words

    def _learn(self, raw: str) -> None:
        """Analyze one distinct lower-case token for :meth:`terms` and :meth:`counted`, and number it for _encode."""
        entry = self._fast[raw] = self._fast_entry(raw)
        forms, finals = entry
        single = self._single[raw] = finals[0] if len(finals) == 1 else None
        if len(forms) != 1:
            self._multi.add(raw)
            form, flag = None, _SEVERAL_FORMS
        else:
            form = self._form1[raw] = forms[0]
            flag = 0
            if form in self._mwe_first:
                self._starts.add(raw)
                flag = _BEGINS
        self._vocabulary.add(raw, single, 0 if raw[0].isdigit() else 1, flag, form)

    def _fast_entry(self, raw: str) -> tuple[tuple[str, ...], tuple[str | None, ...]]:
        """The forms of one lower-case token and, for each, its term when it is not part of an expression."""
        if raw[0].isdigit():
            return (_NUMBER,), (None,)
        word = raw[:-2] if raw.endswith("'s") else raw
        forms = tuple(self._forms(word))
        finals = [self._single_term(form, raw) for form in forms]
        return forms, tuple(finals)

    def __call__(self, text: str) -> list[str]:
        return self.terms(text)

    def _encode(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What :meth:`counted` gives for each text, for many texts at once, as arrays.

        Each token is numbered among the distinct tokens seen (analyzed on
        first sight; :meth:`_token_numbers`); terms and running words then come
        from arrays. Only the tokens that can begin a multiword expression are looked
        at one by one, as in :meth:`_merge_expressions`; a text with a token of
        several forms (rare) takes :meth:`counted` itself.

        Returns
        -------
        term, words, text : int32 arrays, one entry per token
            The term's number in ``self._vocabulary.terms`` (-1: stop word or
            number), the running words it spans, and the position of its text in ``texts``.
        """
        vocab = self._vocabulary
        with gc_paused():  # each new token's analysis is kept: see gc_paused
            codes, lengths = self._token_numbers(texts)
        term_of, words_of, flag_of = vocab.arrays()
        term, words, flag = term_of[codes], words_of[codes], flag_of[codes]
        text = np.repeat(np.arange(len(texts), dtype=np.int32), lengths)
        if self.settings.keep_numbers:  # numbers are terms: counted() takes analyze's path
            apart = list(range(len(texts)))
        else:
            apart = np.unique(text[(flag & _SEVERAL_FORMS) != 0]).tolist()
        keep = np.ones(len(codes), dtype=bool)
        ends = np.cumsum(lengths)  # one past each text's last token
        begins = np.flatnonzero(flag & _BEGINS)
        begins = begins[begins + 1 < ends[text[begins]]]  # an expression needs a token after it in its text
        if apart:
            begins = begins[~np.isin(text[begins], apart)]
        self._merge_codes(codes, begins, ends[text[begins]], term, words, keep)
        if apart:
            keep &= ~np.isin(text, apart)
            parts = [(term[keep], words[keep], text[keep])]
            for i in apart:
                found, counts = self.counted(texts[i])
                parts.append((np.array([vocab.term_number(t) for t in found], dtype=np.int32),
                              np.array(counts, dtype=np.int32), np.full(len(found), i, dtype=np.int32)))
            term, words, text = (np.concatenate(p) for p in zip(*parts))
            order = np.argsort(text, kind="stable")
            return term[order], words[order], text[order]
        return term[keep], words[keep], text[keep]

    def _token_numbers(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The number (in ``self._vocabulary``) of each of :meth:`_raw_tokens`' tokens of the texts, and their count per text.

        Texts that are ASCII once folded and lower-cased (nearly all English
        text) are tokenized together on their bytes and numbered by their
        packed bytes (:mod:`discourselab.bytetokens`); a token the table does not
        hold yet, and any token of another text, is numbered by its string.

        Returns
        -------
        numbers : int32 array, one per token, in order
        lengths : int64 array, the tokens of each text
        """
        index, table = self._vocabulary.index, self._vocabulary.table
        lows = [normalize_typography(text).lower() for text in texts]
        other = {i: _PLAIN_TOKEN.findall(low) for i, low in enumerate(lows) if not low.isascii()}
        for i in other:
            lows[i] = ""  # tokenized apart, by the regular expression above
        joined = "\n".join(lows)  # a line break ends any token
        data = joined.encode("ascii")
        starts, ends = ascii_spans(np.frombuffer(data, dtype=np.uint8))
        text_starts = np.cumsum([0] + [len(low) + 1 for low in lows[:-1]])
        lengths = np.bincount(np.searchsorted(text_starts, starts, side="right") - 1,
                              minlength=len(texts)).astype(np.int64)
        low, high = packed(data, starts, ends)
        found = table.find(low, high, ends - starts)
        if other:  # the other texts' tokens in their places, all to be numbered by their strings
            for i, raws in other.items():
                lengths[i] = len(raws)
            text_ends = np.cumsum(lengths)
            ascii_token = np.ones(int(text_ends[-1]), dtype=bool)
            for i in other:
                ascii_token[text_ends[i] - lengths[i]:text_ends[i]] = False
            numbers = np.full(len(ascii_token), -1, dtype=np.int32)
            numbers[ascii_token] = found
        else:
            numbers = found
        missing = np.flatnonzero(numbers < 0)
        if not len(missing):
            return numbers, lengths
        # new tokens (learned here), long ones, and any of a key the table holds for other bytes: by their strings,
        # once for each distinct short ASCII token (its first place), in order, so tokens are learned in text order
        if other:
            inside = ascii_token[missing]
            place = (np.cumsum(ascii_token) - 1)[missing]  # the place among the ASCII tokens (where inside)
            other_raws = list(chain.from_iterable(other.values()))  # in order: the dict's keys are in text order
            other_at = np.cumsum(~inside) - 1
        else:
            inside, place = np.ones(len(missing), dtype=bool), missing
        size = np.zeros(len(missing), dtype=np.int64)  # bytes of each missing ASCII token
        size[inside] = (ends - starts)[place[inside]]
        first = np.arange(len(missing))  # each missing token's first place with the same bytes
        same = np.flatnonzero(inside & (size <= KEY_BYTES))
        lo, hi = low[place[same]], high[place[same]]
        _, firsts, back = np.unique(KeyTable.key(lo, hi), return_index=True, return_inverse=True)
        exact = (lo == lo[firsts][back]) & (hi == hi[firsts][back])  # a key shared by other bytes: each by itself
        first[same] = np.where(exact, same[firsts][back], same)
        heads = np.unique(first)
        strings = np.empty(len(heads), dtype=object)
        ascii_head = inside[heads]
        at = place[heads[ascii_head]]
        strings[ascii_head] = list(map(joined.__getitem__, map(slice, starts[at].tolist(), ends[at].tolist())))
        if other:
            strings[~ascii_head] = [other_raws[k] for k in other_at[heads[~ascii_head]].tolist()]
        found = np.fromiter(map(index.__getitem__, strings), dtype=np.int32, count=len(heads))
        numbers[missing] = found[np.searchsorted(heads, first)]
        held = heads[ascii_head & (size[heads] <= KEY_BYTES)]
        table.add(low[place[held]], high[place[held]], numbers[missing[held]])
        return numbers, lengths

    def _merge_codes(self, codes, begins, ends, term, words, keep) -> None:
        """:meth:`_merge_expressions` on numbered tokens, at each token that may begin an expression.

        ``begins`` are those tokens' positions and ``ends`` their texts' ends.
        Sets the expression's term and running words at its first token, and
        ``keep`` False at the others.
        """
        form, vocab = self._vocabulary.form, self._vocabulary
        candidates = zip(begins.tolist(), [form[c] for c in codes[begins].tolist()],
                         [form[c] for c in codes[begins + 1].tolist()], ends.tolist())
        for i, n, found in self._expressions(candidates, lambda a, b: [form[c] for c in codes[a:b].tolist()]):
            term[i] = vocab.term_number(found)
            words[i] = words[i:i + n].sum()
            keep[i + 1:i + n] = False

    def token_table(self, paragraphs, *, progress=None, chunk: int = 2000) -> pd.DataFrame:
        """One row per token of every paragraph.

        Built a chunk of paragraphs at a time (at most ``chunk``, see
        :func:`paragraph_chunks`) into compact columns: integers as
        int32, and the four string columns as categoricals (an int32 code per
        token, each distinct string stored once, categories in sorted order),
        so no Python object is held per token.

        Parameters
        ----------
        paragraphs : DataFrame or iterable of DataFrame
            As for :meth:`count_table`.
        progress : callable, optional
            As for :meth:`count_table`.

        Returns
        -------
        DataFrame
            ``doc_id``, ``paragraph_id``, ``position`` (0-based, running through
            the piece), ``token`` (surface form), ``term`` (normalized; missing
            for stop words and numbers), ``words`` (running words spanned), and
            ``start``, ``end`` (character offsets in the paragraph's text).
        """
        codes: dict[str, dict] = {}
        parts = list(self._token_chunks(paragraphs, codes, progress, chunk))
        arrays = {c: np.concatenate([p[c] for p in parts]) if parts else np.zeros(0, np.int32)
                  for c in TOKEN_COLUMNS}
        table = {}
        for column in TOKEN_COLUMNS:
            if column in codes:
                table[column] = _sorted_categorical(arrays[column], [v for v in codes[column] if v is not None])
            else:
                table[column] = arrays[column]
        return pd.DataFrame(table)

    def count_table(self, paragraphs, *, progress=None, chunk: int = 2000) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Each paragraph's term counts, and the run pairs of the phrase finder, in one pass.

        The token table summed by paragraph and term: every analysis that needs
        only counts (frequencies, dispersion, keyness, TF-IDF, similarity,
        topics on paragraphs) gets the same numbers from it. Only one chunk's
        tokens are held at a time (at most ``chunk`` paragraphs and
        ``CHUNK_CHARACTERS`` of text, see :func:`paragraph_chunks`), so memory
        grows with the paragraphs' distinct terms, not with every token.
        The tokens come from :meth:`_encode`, which gives what :meth:`counted`
        gives, for a chunk of paragraphs at once, as arrays: on the 1x benchmark
        corpus (2M words) 1.5 s instead of 2.9 s, without the glossary.
        :meth:`count_parts` gives the same table a part at a time.

        Parameters
        ----------
        paragraphs : DataFrame or iterable of DataFrame
            With ``doc_id``, ``paragraph_id`` (unique) and ``text`` (as from ``load_corpus``);
            or such tables one after another, e.g. a corpus's
            :meth:`~discourselab.corpus.Corpus.paragraph_parts`, so that the
            texts are read a part at a time and never held all at once (at 31M
            words, 318 MB of them).
        progress : callable, optional
            Given the number of paragraphs (None when the parts do not say their
            ``sizes``), gives a bar (e.g. a tqdm bar) that is moved on by
            ``update(n)`` as chunks of ``n`` paragraphs are done, and closed.

        Returns
        -------
        counts : DataFrame
            One row per paragraph and term, and one per paragraph for its stop
            words and numbers (``term`` missing): ``doc_id``, ``paragraph_id``,
            ``term`` (categoricals with sorted categories), ``count`` (tokens)
            and ``words`` (running words they span). In corpus order; within a
            paragraph, stop words first, then terms in order of first appearance in the corpus.
        pairs : DataFrame
            :func:`discourselab.phrases.run_pairs` of the token table, counted
            chunk by chunk: ``first``, ``second`` (missing: the end of a run), ``count``.
        """
        parts, pairs = self.count_parts(paragraphs, progress=progress, chunk=chunk)
        return next(parts), pairs

    def count_parts(self, paragraphs, rows: int | None = None, *, progress=None,
                    chunk: int = 2000) -> tuple[Iterator[pd.DataFrame], pd.DataFrame]:
        """:meth:`count_table`'s rows a part of whole pieces at a time, and the run pairs.

        The texts are counted before this returns; each chunk's rows wait in a
        temporary file (20 bytes a row; in the cache folder, see
        :func:`~discourselab.cache.cache_dir`), so that the whole table is never
        held, and each part is put together as it is read. A part has at least
        ``rows`` rows (one part when None), but the last; its ``paragraph_id``
        categories are its own paragraphs only, while every part has all the
        pieces and terms as ``doc_id`` and ``term`` categories. Joined with
        :func:`join_count_parts`, the parts are :meth:`count_table`'s table,
        index included.

        Returns
        -------
        parts : iterator of DataFrame
            Read once (a generator).
        pairs : DataFrame
            As :meth:`count_table`'s.
        """
        from .frequency import sum_by_key

        codes: dict[str, dict] = {}
        spill = _SpilledColumns(COUNT_COLUMNS)
        first_rows, paragraph_docs, pair_parts = [], [], _PairTotals()
        known = 0  # paragraphs numbered so far: a chunk's are numbered from here on
        for arrays in self._token_chunks(paragraphs, codes, progress, chunk, self._count_chunk):
            para, term = arrays["paragraph_id"].astype(np.int64), arrays["term"].astype(np.int64)
            keys, count, words = sum_by_key((para << 32) | (term + 1), arrays["words"])
            docs = arrays["paragraph docs"]
            if len(codes["paragraph_id"]) != known + len(docs):
                raise ValueError("paragraph ids must be unique")
            row_paragraph = keys >> 32
            first_rows.append(spill.rows + np.searchsorted(row_paragraph, np.arange(known, known + len(docs))))
            paragraph_docs.append(docs)
            spill.add({"doc_id": docs[row_paragraph - known], "paragraph_id": row_paragraph,
                       "term": (keys & 0xFFFFFFFF) - 1, "count": count, "words": words})
            pair_parts.add(*sum_by_key(run_pair_keys(para, term))[:2])
            known += len(docs)
        terms = [v for v in codes["term"] if v is not None]
        keys, count = pair_parts.totals()
        first, second = split_pair_keys(keys)
        pairs = _sorted_pairs(pd.DataFrame({"first": _sorted_categorical(first, terms),
                                            "second": _sorted_categorical(second, terms), "count": count}))
        docs = np.concatenate(paragraph_docs) if paragraph_docs else np.zeros(0, np.int32)
        starts = np.flatnonzero(np.r_[True, docs[1:] != docs[:-1]]) if len(docs) else np.zeros(0, np.intp)
        piece_ends = np.r_[starts[1:], len(docs)]  # in paragraphs
        row_ends = np.r_[np.concatenate(first_rows) if first_rows else np.zeros(0, np.int64), spill.rows][piece_ends]
        ends = part_ends(row_ends.tolist(), rows)
        sorting = {"doc_id": _sorting(list(codes["doc_id"])), "term": _sorting(terms)}  # the same in every part
        names = list(codes["paragraph_id"])
        del codes, first_rows, paragraph_docs

        def parts() -> Iterator[pd.DataFrame]:
            with spill:
                row, paragraph = 0, 0
                for end in ends:
                    stop, last = int(row_ends[end]), int(piece_ends[end])
                    table = spill.read(row, stop)
                    for name, (rank, dtype) in sorting.items():
                        table[name] = _remapped(table[name], rank, dtype)
                    table["paragraph_id"] -= paragraph
                    table["paragraph_id"] = _sorted_categorical(table["paragraph_id"], names[paragraph:last],
                                                                in_place=True)
                    yield pd.DataFrame(table, index=pd.RangeIndex(row, stop), copy=False)
                    row, paragraph = stop, last

        return parts(), pairs

    def _token_chunks(self, paragraphs, codes: dict, progress, chunk: int, make=None):
        """The token table's columns as int32 arrays, a chunk of paragraphs at a time (:func:`paragraph_chunks`).

        ``codes`` is filled with each string column's codes (first-seen order;
        a missing term is -1), shared by all the chunks. ``make`` makes a
        chunk's arrays (default :meth:`_token_chunk`; :meth:`_count_chunk`
        makes only those the count table needs). ``progress`` is given the
        number of paragraphs (None when the parts do not say their ``sizes``)
        and gives a bar that is moved on by each chunk's paragraphs.
        """
        make = make or self._token_chunk
        parts = table_parts(paragraphs)
        sizes = [len(part) for part in parts] if isinstance(parts, list) else getattr(parts, "sizes", None)

        def texts():
            for part in parts:
                rows = part[["doc_id", "paragraph_id", "text"]]
                del part  # the part's other columns go, before the next part is read
                yield rows

        ticks = (progress or _no_bar)(None if sizes is None else sum(sizes))
        position: dict[str, int] = {}
        codes.update({c: {} for c in _STRING_COLUMNS})
        codes["term"][None] = -1  # stop words and numbers: missing
        try:
            for rows in paragraph_chunks(texts(), chunk):
                yield make(rows, position, codes)
                ticks.update(len(rows))
        finally:
            ticks.close()

    def _token_chunk(self, rows: pd.DataFrame, position: dict, codes: dict) -> dict[str, np.ndarray]:
        columns: dict[str, list] = {c: [] for c in TOKEN_COLUMNS}
        doc_codes, para_codes, token_codes, term_codes = (codes[c] for c in _STRING_COLUMNS)
        for doc_id, para_id, text in rows.itertuples(index=False):
            start = position.get(doc_id, 0)
            tokens = self.analyze(text)
            columns["doc_id"] += [doc_codes.setdefault(doc_id, len(doc_codes))] * len(tokens)
            columns["paragraph_id"] += [para_codes.setdefault(para_id, len(para_codes))] * len(tokens)
            columns["position"] += range(start, start + len(tokens))
            if tokens:
                surfaces, terms, words, starts, ends = zip(*tokens)
                columns["token"] += _codes(token_codes, surfaces)
                columns["term"] += _codes(term_codes, terms)
                columns["words"] += words
                columns["start"] += starts
                columns["end"] += ends
            position[doc_id] = start + len(tokens)
        return {c: np.asarray(v, dtype=np.int32) for c, v in columns.items()}

    def _count_chunk(self, rows: pd.DataFrame, position: dict, codes: dict) -> dict[str, np.ndarray]:
        """``doc_id``, ``paragraph_id``, ``term`` and ``words`` of :meth:`_token_chunk`, from :meth:`_encode`.

        And ``paragraph docs``: each paragraph's ``doc_id`` code, one per row of ``rows``.
        """
        term, words, text = self._encode(rows["text"].tolist())
        columns = {"words": words}
        for name in ("doc_id", "paragraph_id"):
            named = codes[name]
            columns[name] = np.array([named.setdefault(v, len(named)) for v in rows[name]], dtype=np.int32)
        columns["paragraph docs"] = columns["doc_id"]  # each paragraph's piece, also of one without tokens
        columns["doc_id"], columns["paragraph_id"] = columns["doc_id"][text], columns["paragraph_id"][text]
        columns["term"] = self._first_seen_codes(term, codes)
        return columns

    def _first_seen_codes(self, term: np.ndarray, codes: dict) -> np.ndarray:
        """Term numbers (of ``self._vocabulary.terms``) as the codes of ``codes["term"]``.

        ``codes["term"]`` maps a term to its code, in order of first appearance
        across the chunks (None: -1), as :func:`_codes` numbers them.
        ``codes["term number"]`` keeps each number's code for the next chunk
        (-2: none yet; its last entry, -1, is for number -1).
        """
        names, named = self._vocabulary.terms, codes["term"]
        by_number = codes.get("term number", np.full(1, -1, dtype=np.int32))
        if len(by_number) <= len(names):
            by_number = np.concatenate([by_number[:-1], np.full(len(names) + 1 - len(by_number), -2, np.int32), [-1]])
            codes["term number"] = by_number
        found = by_number[term]
        new = np.flatnonzero(found == -2)
        if len(new):
            numbers, first = np.unique(term[new], return_index=True)
            for number in numbers[np.argsort(first)].tolist():
                by_number[number] = named[names[number]] = len(named) - (None in named)
            found[new] = by_number[term[new]]
        return found

    def count_texts(self, texts, *, n_jobs: int = 1, progress=None):
        """Term counts of each text, streamed: no token is kept once counted.

        The counts of scikit-learn's ``CountVectorizer(analyzer=pipeline.terms)``,
        by the arrays' path of :meth:`count_table`, ``CHUNK_TEXTS`` texts (and at most
        ``CHUNK_CHARACTERS`` of text) at a time.

        Parameters
        ----------
        texts : sequence of str
        n_jobs : int
            Processes (-1: one per core). With more than one, on a platform that
            can fork and for at least ``PARALLEL_TEXTS`` texts, the texts are
            split into contiguous parts of about equal length, counted in forked
            processes and the results merged; the counts are the same as with one process.
        progress : callable, optional
            Wraps the iterable of texts (one process only).

        Returns
        -------
        counts, vocabulary
            A sparse (texts x terms) count matrix and the terms of its columns (sorted).
        """
        from scipy.sparse import vstack

        context, jobs = _fork_context(n_jobs)
        if context is not None:
            texts = list(texts)
        if context is not None and len(texts) >= PARALLEL_TEXTS:
            bounds = _even_parts([len(text) for text in texts], jobs)
            with _forked_workers(context, len(bounds) - 1, self, texts) as pool:
                results = pool.map(_count_texts_in_worker, zip(bounds, bounds[1:]))
            vocabulary, column = _joint_vocabulary(terms for _, terms in results)
            remapped = []
            for matrix, terms in results:  # each part's columns renumbered into the whole vocabulary
                columns = np.fromiter(map(column.__getitem__, terms), dtype=matrix.indices.dtype, count=len(terms))
                remapped.append(csr_matrix((matrix.data, columns[matrix.indices], matrix.indptr),
                                           shape=(matrix.shape[0], len(vocabulary))))
            return vstack(remapped, format="csr"), vocabulary
        stream = iter(progress(texts) if progress else texts)
        parts = []
        for chunk in batched(stream, CHUNK_TEXTS, CHUNK_CHARACTERS):
            term, _, text = self._encode(chunk)
            counted = term >= 0
            part = csr_matrix((np.ones(int(counted.sum()), dtype=np.int64), (text[counted], term[counted])),
                              shape=(len(chunk), len(self._vocabulary.terms)))
            part.sum_duplicates()
            parts.append(part)
        width = len(self._vocabulary.terms)
        matrix = vstack([csr_matrix((p.data, p.indices, p.indptr), shape=(p.shape[0], width)) for p in parts],
                        format="csr") if parts else csr_matrix((0, width), dtype=np.int64)
        used = np.flatnonzero(np.bincount(matrix.indices, minlength=width))  # terms of this call's texts
        names = np.array(self._vocabulary.terms, dtype=object)[used]
        order = np.argsort(names)
        return matrix[:, used[order]], names[order]

    def count_by(self, labelled_texts, *, n_jobs: int = 1, batch: int = 2000, progress=None):
        """Term counts per label, streamed: memory grows with labels x vocabulary, not with the texts.

        For corpora too large to hold: the texts are read a batch at a time
        from any iterable (such as :func:`discourselab.corpus.iter_paragraphs`),
        counted into one ``collections.Counter`` per label and let go.

        Parameters
        ----------
        labelled_texts : iterable of (label, text)
        n_jobs : int
            Processes (-1: one per core). With more than one, on a platform that
            can fork and for more than one batch, batches are counted in forked
            worker processes, with at most two batches per worker waiting, so
            the stream is never read far ahead. The counts are the same.
        batch : int
            Texts per batch, at most (a batch also ends before ``CHUNK_CHARACTERS``
            of text, unless it is one text).
        progress : callable, optional
            Wraps the iterable of labelled texts (e.g. a tqdm bar).

        Returns
        -------
        counts, labels, vocabulary
            A sparse (labels x terms) count matrix, the labels of its rows (in
            order of first appearance) and the terms of its columns (sorted).
        """
        from collections import deque

        stream = iter(progress(labelled_texts) if progress else labelled_texts)
        batches = batched(stream, batch, CHUNK_CHARACTERS, weight=lambda pair: len(pair[1]))
        totals: dict = {}

        def add(counted: dict) -> None:
            for label, counter in counted.items():
                if label in totals:
                    totals[label].update(counter)
                else:
                    totals[label] = counter

        context, jobs = _fork_context(n_jobs)
        first = list(islice(batches, 2))
        if context is None or len(first) < 2:
            for part in chain(first, batches):
                add(self._count_batch(part))
        else:
            with _forked_workers(context, jobs, self) as pool:
                waiting: deque = deque()
                for part in chain(first, batches):
                    waiting.append(pool.apply_async(_count_batch_in_worker, (part,)))
                    if len(waiting) >= 2 * jobs:
                        add(waiting.popleft().get())
                while waiting:
                    add(waiting.popleft().get())
        labels = list(totals)
        vocabulary, column = _joint_vocabulary(totals.values())
        rows, columns, data = [], [], []
        for row, label in enumerate(labels):
            counter = totals[label]
            rows += [row] * len(counter)
            columns += [column[term] for term in counter]
            data += counter.values()
        counts = csr_matrix((np.asarray(data, dtype=np.int64), (rows, columns)),
                            shape=(len(labels), len(vocabulary)))
        return counts, labels, vocabulary

    def _count_batch(self, pairs: list) -> dict:
        """``{label: Counter of terms}`` for a list of (label, text), by :meth:`_encode`."""
        from collections import Counter

        label_codes: dict = {}
        of_text = np.array([label_codes.setdefault(label, len(label_codes)) for label, _ in pairs], dtype=np.int64)
        term, _, text = self._encode([text for _, text in pairs])
        counted = term >= 0
        width = len(self._vocabulary.terms)
        keys, counts = np.unique(of_text[text[counted]] * width + term[counted], return_counts=True)
        labels, names = list(label_codes), self._vocabulary.terms
        counters = {label: Counter() for label in labels}
        for key, count in zip(keys.tolist(), counts.tolist()):
            counters[labels[key // width]][names[key % width]] = count
        return counters


#: Flags of a numbered token (``_Vocabulary.flag``): it can begin a multiword expression; it has several forms.
_BEGINS, _SEVERAL_FORMS = 1, 2


class _Index(dict):
    """Numbered tokens; a token not held yet is analyzed with ``learn(token)``, which numbers it."""

    def __init__(self, learn):
        super().__init__()
        self.learn = learn

    def __missing__(self, raw: str) -> int:
        self.learn(raw)
        return self[raw]


class _Vocabulary:
    """The distinct lower-case tokens a pipeline has seen, numbered, with what each one gives.

    ``index`` numbers the tokens; per number, ``term`` (a number in ``terms``;
    -1 for none), ``words`` (running words: 0 for a number), ``flag``
    (``_BEGINS``, ``_SEVERAL_FORMS``) and ``form`` (its one form, else None).
    ``table`` numbers the short ASCII tokens by their packed bytes
    (:class:`~discourselab.bytetokens.KeyTable`, filled by :meth:`TextPipeline._token_numbers`).
    """

    def __init__(self, learn):
        self.index = _Index(learn)
        self.table = KeyTable()  # numbers of short ASCII tokens, by their packed bytes
        self.term: list[int] = []
        self.words: list[int] = []
        self.flag: list[int] = []
        self.form: list[str | None] = []
        self.terms: list[str] = []
        self._term_index: dict[str, int] = {}
        self._arrays: tuple[np.ndarray, ...] = ()

    def term_number(self, term: str | None) -> int:
        """The number of a term (a new one gets the next); -1 for None."""
        if term is None:
            return -1
        number = self._term_index.get(term)
        if number is None:
            number = self._term_index[term] = len(self.terms)
            self.terms.append(term)
        return number

    def add(self, raw: str, term: str | None, words: int, flag: int, form: str | None) -> None:
        self.index[raw] = len(self.index)
        self.term.append(-1 if term is None else self.term_number(term))
        self.words.append(words)
        self.flag.append(flag)
        self.form.append(form)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``term``, ``words`` and ``flag`` as int32 arrays (made again only when tokens were added)."""
        if not self._arrays or len(self._arrays[0]) != len(self.term):
            self._arrays = tuple(np.array(v, dtype=np.int32) for v in (self.term, self.words, self.flag))
        return self._arrays


#: The pipeline of the forked workers of :meth:`TextPipeline.count_by` and :meth:`TextPipeline.count_texts`
#: (set in the parent just before forking).
_WORKER_PIPELINE: TextPipeline | None = None


#: The texts of :meth:`TextPipeline.count_texts`' forked workers.
_WORKER_TEXTS: list | None = None


@contextmanager
def _forked_workers(context, processes: int, pipeline: TextPipeline, texts: list | None = None):
    """A pool of forked worker processes that inherit ``pipeline`` and ``texts``: neither is pickled per task."""
    global _WORKER_PIPELINE, _WORKER_TEXTS
    _WORKER_PIPELINE, _WORKER_TEXTS = pipeline, texts  # set just before the pool forks its workers
    try:
        with context.Pool(processes) as pool:
            yield pool
    finally:
        _WORKER_PIPELINE, _WORKER_TEXTS = None, None


def _count_batch_in_worker(pairs: list) -> dict:
    return _WORKER_PIPELINE._count_batch(pairs)


def _count_texts_in_worker(bounds: tuple[int, int]):
    return _WORKER_PIPELINE.count_texts(_WORKER_TEXTS[bounds[0]:bounds[1]])


def _joint_vocabulary(term_lists) -> tuple[np.ndarray, dict[str, int]]:
    """The sorted union of several parts' terms (an object array), and each term's column in it."""
    vocabulary = np.array(sorted(set().union(*term_lists)), dtype=object)
    return vocabulary, {term: i for i, term in enumerate(vocabulary)}


def _even_parts(lengths: list[int], parts: int) -> list[int]:
    """Bounds of at most ``parts`` contiguous, non-empty runs of items, of about equal total length.

    ``[0, b1, ..., len(lengths)]``: run ``k`` is ``lengths[bounds[k]:bounds[k + 1]]``.
    Texts differ in length (at 1x of the benchmark, the first half of the
    paragraphs held twice the words of the second), so equal numbers of texts
    are not equal work.
    """
    ends = np.cumsum(lengths)
    if not len(ends):
        return [0]
    cuts = np.searchsorted(ends, ends[-1] * np.arange(1, parts) / parts) + 1
    return sorted({0, *cuts.tolist(), len(lengths)})


def fork_context():
    """multiprocessing's fork context, or None where the platform cannot fork."""
    import multiprocessing

    return multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None


def _fork_context(n_jobs: int):
    """``(fork context, processes)``, or ``(None, 1)`` for one process.

    One process when ``n_jobs`` (-1: one per core) comes to one, or where the platform cannot fork.
    """
    import os

    jobs = (os.cpu_count() or 1) if n_jobs == -1 else max(1, n_jobs)
    context = fork_context() if jobs > 1 else None
    return (context, jobs) if context is not None else (None, 1)


def doc_texts(texts) -> Iterator[tuple[str, str]]:
    """``(doc_id, text)`` pairs from a table with ``doc_id`` and ``text`` columns, or from such pairs.

    So that a function of whole texts takes a pieces table that holds them, or
    :meth:`discourselab.corpus.Corpus.piece_texts`, which makes one at a time.
    """
    if isinstance(texts, pd.DataFrame):
        return texts[["doc_id", "text"]].itertuples(index=False, name=None)
    return iter(texts)


def word_tokens(text: str) -> list[str]:
    """Lower-cased running words of a text (no stop list, no lemmas): for lexical diversity."""
    return [w.lower() for w in _WORD.findall(normalize_typography(text))]


def word_codes(text: str, codes: dict, size: int = CHUNK_CHARACTERS) -> np.ndarray:
    """:func:`word_tokens` of a text as int32 codes, found a slice of about ``size`` characters at a time.

    ``codes`` maps each word to its code; a word new to it gets the next
    integer, so one dict numbers the words of many texts alike. A slice ends
    just after a white-space character (no word holds one), so the codes are
    those of the whole text's words, while only one slice's words are held as
    strings: a piece of half a million words takes 2 MB instead of about 30 MB.
    """
    found, start = [], 0
    while start < len(text):
        gap = _SPACE.search(text, start + size) if start + size < len(text) else None
        stop = gap.end() if gap else len(text)
        found.append(np.array(_codes(codes, word_tokens(text[start:stop])), dtype=np.int32))
        start = stop
    return np.concatenate(found) if found else np.empty(0, dtype=np.int32)


def _codes(codes: dict, values) -> list[int]:
    """The code of each value; a value without one gets the next integer (a ``None`` key, if any, is not counted)."""
    found = [codes.get(v, -2) for v in values]
    if -2 in found:  # a new value: rare once the common words have been seen
        for i, value in enumerate(values):
            if found[i] == -2:  # (a value new in this paragraph may come twice)
                code = codes.get(value)
                if code is None:
                    code = codes[value] = len(codes) - (None in codes)
                found[i] = code
    return found


def run_pair_keys(paragraph: np.ndarray, term: np.ndarray) -> np.ndarray:
    """Each term in a run of two or more with the term after it in its run, as one int64 key per token.

    A run is a stretch of consecutive counted terms (codes >= 0) in one
    paragraph: a stop word, number (-1) or new paragraph ends it. A key is
    ``first << 32 | (second + 1)``, with ``second`` -1 at the run's end (see
    :func:`split_pair_keys`).
    """
    term = np.asarray(term, dtype=np.int64)
    paragraph = np.asarray(paragraph)
    link = (term[:-1] >= 0) & (term[1:] >= 0) & (paragraph[:-1] == paragraph[1:])  # i and i + 1 in one run
    has_next, has_previous = np.r_[link, False], np.r_[False, link]
    member = has_next | has_previous
    second = np.where(has_next, np.r_[term[1:], -1], -1)
    return (term[member] << 32) | (second[member] + 1)


def split_pair_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first and second term codes (int32; -1 at a run's end) of :func:`run_pair_keys` keys."""
    return (keys >> 32).astype(np.int32), ((keys & 0xFFFFFFFF) - 1).astype(np.int32)


def _sorted_pairs(pairs: pd.DataFrame) -> pd.DataFrame:
    """Run pairs sorted by first term, then second (the end of a run first)."""
    order = np.lexsort((pairs["second"].cat.codes, pairs["first"].cat.codes))
    return pairs.take(order).reset_index(drop=True)


def _sorted_categorical(codes: np.ndarray, categories: list[str], in_place: bool = False) -> pd.Categorical:
    """Codes into ``categories`` (in first-seen order, -1 missing) as a categorical with sorted categories.

    With ``in_place`` the int32 ``codes`` are overwritten with the new ones, a
    slice at a time, instead of being copied whole.
    """
    rank, dtype = _sorting(categories)
    if in_place:
        return _remapped(codes, rank, dtype)
    return pd.Categorical.from_codes(rank[codes], dtype=dtype)


def _sorting(categories: list[str]) -> tuple[np.ndarray, pd.CategoricalDtype]:
    """Each code's new code, categories sorted (its last entry, for -1, stays -1), and the sorted categories' dtype."""
    order = np.argsort(np.asarray(categories, dtype=object), kind="stable") if categories else np.zeros(0, np.intp)
    rank = np.empty(len(categories) + 1, dtype=np.int32)
    rank[order] = np.arange(len(categories), dtype=np.int32)
    rank[-1] = -1  # code -1 (missing) indexes the last slot
    return rank, pd.CategoricalDtype([categories[i] for i in order])


def _remapped(codes: np.ndarray, rank: np.ndarray, dtype: pd.CategoricalDtype) -> pd.Categorical:
    """int32 ``codes`` renumbered by :func:`_sorting`'s ``rank`` in place, a slice at a time, as a categorical."""
    for start in range(0, len(codes), REMAP_ROWS):
        codes[start:start + REMAP_ROWS] = rank[codes[start:start + REMAP_ROWS]]
    return pd.Categorical.from_codes(codes, dtype=dtype)


def _no_bar(total: int | None):
    """A progress bar that shows nothing (when no ``progress`` is given)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=True)


def paragraph_chunks(parts, size: int) -> Iterator[pd.DataFrame]:
    """The rows of paragraph tables, one after another, in chunks of at most ``size`` rows and ``CHUNK_CHARACTERS`` of text.

    A chunk may hold the ends of two parts (:func:`~discourselab.chunks.regrouped`);
    a paragraph longer than ``CHUNK_CHARACTERS`` is a chunk alone.
    """
    return regrouped(table_parts(parts), size, pd.concat, weights=lambda table: table["text"].str.len(),
                     budget=CHUNK_CHARACTERS)


def table_parts(table) -> Iterable[pd.DataFrame]:
    """A table, or tables one after another (e.g. :meth:`~discourselab.corpus.Corpus.paragraph_parts`), as parts."""
    return [table] if isinstance(table, pd.DataFrame) else table


def part_ends(ends: list[int], rows: int | None) -> list[int]:
    """Which pieces end a part: parts of whole pieces, each of at least ``rows`` rows but the last (None: one part).

    ``ends`` are the pieces' end rows, in order (one past each piece's last
    row). Returns the indexes in ``ends`` of the pieces that end a part; the
    last piece always does, and pieces without rows at the end join the part before.
    """
    chosen, start = [], 0
    for i, end in enumerate(ends):
        if chosen and i == len(ends) - 1 and end == start:  # last pieces without rows: in the part before
            chosen[-1] = i
        elif (rows is not None and end - start >= rows) or i == len(ends) - 1:
            chosen.append(i)
            start = end
    return chosen


class _SpilledColumns:
    """int32 columns written a chunk of rows at a time to a temporary file, and read back by rows.

    A chunk's columns follow one another in the file; ``read`` fills each
    column of a range of rows straight from the chunks that hold it. The file
    is in the cache folder (on disk: a system's temporary folder may be held
    in memory), or the temporary folder without a cache, and is deleted when
    closed (it has no name in the folder).
    """

    def __init__(self, names: list[str]):
        folder = cache_dir()
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        self.names, self.file = names, tempfile.TemporaryFile(dir=folder)
        self.starts, self.offsets = [0], []  # each chunk's first row (then the end) and place in the file

    @property
    def rows(self) -> int:
        return self.starts[-1]

    def add(self, columns: dict[str, np.ndarray]) -> None:
        self.offsets.append(self.file.tell())
        for name in self.names:
            self.file.write(np.ascontiguousarray(columns[name], dtype=np.int32).data)
        self.starts.append(self.starts[-1] + len(columns[self.names[0]]))

    def read(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """Rows ``start`` to ``stop`` (excluded) of each column."""
        table = {name: np.empty(stop - start, dtype=np.int32) for name in self.names}
        first = max(int(np.searchsorted(self.starts, start, side="right")) - 1, 0)
        for chunk in range(first, len(self.offsets)):
            begin, end = self.starts[chunk], self.starts[chunk + 1]
            if begin >= stop:
                break
            low, high = max(start, begin), min(stop, end)
            for i, name in enumerate(self.names):
                self.file.seek(self.offsets[chunk] + 4 * (i * (end - begin) + low - begin))
                self.file.readinto(table[name][low - start:high - start])
        return table

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.file.close()


class _PairTotals:
    """Run-pair keys and counts added a chunk at a time, summed by key whenever ``PAIR_ROWS`` are held unsummed."""

    def __init__(self):
        self.keys, self.counts, self.held = [], [], 0

    def add(self, keys: np.ndarray, counts: np.ndarray) -> None:
        self.keys.append(keys)
        self.counts.append(counts)
        self.held += len(keys)
        if self.held > PAIR_ROWS and len(self.keys) > 1:
            self.keys, self.counts = ([a] for a in self.totals())
            self.held = len(self.keys[0])

    def totals(self) -> tuple[np.ndarray, np.ndarray]:
        """The distinct keys (sorted) and the sum of each one's counts."""
        from .frequency import sum_by_key

        keys = np.concatenate(self.keys) if self.keys else np.zeros(0, np.int64)
        counts = np.concatenate(self.counts) if self.counts else np.zeros(0, np.int64)
        keys, _, counts = sum_by_key(keys, counts)
        return keys, counts


def join_count_parts(parts) -> pd.DataFrame:
    """:meth:`TextPipeline.count_parts`' parts as one table: :meth:`~TextPipeline.count_table`'s, index included.

    Their ``paragraph_id`` categories (each part's own paragraphs) are joined, sorted.
    """
    from pandas.api.types import union_categoricals

    parts = list(parts)
    if not parts:
        raise ValueError("no parts to join")
    paragraphs = union_categoricals([part["paragraph_id"] for part in parts], sort_categories=True)
    table = pd.concat([part.drop(columns="paragraph_id") for part in parts])
    table.insert(COUNT_COLUMNS.index("paragraph_id"), "paragraph_id", paragraphs)
    return table


def rereadable(tables):
    """A table, or tables one after another that can be read more than once: a one-pass iterator is made a list.

    For a function that goes over its parts twice: the study's parts (e.g.
    :meth:`~discourselab.study.Study.count_parts`) are read again from the
    cache each time, a generator is held.
    """
    return tables if isinstance(tables, pd.DataFrame) or iter(tables) is not tables else list(tables)
