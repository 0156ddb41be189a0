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
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
import simplemma
from nltk.tokenize import MWETokenizer

from . import config
from .errors import CorpusError

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
_SEP = " "


def normalize_typography(text: str) -> str:
    """Fold typographic quotes, apostrophes, hyphens and dashes to ASCII, one character for one.

    En and em dashes become a space (a separator); hyphen characters inside
    words become ``-``. The result has the same length as the input.
    """
    return text.translate(_TYPOGRAPHY)


def count_words(text: str) -> int:
    """Number of running words (letters, with inner hyphens or apostrophes) in ``text``."""
    return len(_WORD.findall(normalize_typography(text)))


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
        named = [self.phrase_file, self.glossary_file, self.spelling_file, self.lemma_file]
        return [*self.stopword_files, *[f for f in named if f]]

    def fingerprint(self) -> str:
        """sha256 of the settings and of the contents of every data file they read."""
        digest = hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode())
        for name in self.files():
            digest.update(Path(name).read_bytes())
        return digest.hexdigest()


#: Columns of the token table, in order.
TOKEN_COLUMNS = ["doc_id", "paragraph_id", "position", "token", "term", "words", "start", "end"]
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
        self._cache: dict[str, list[str]] = {}
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
        self._mwe = MWETokenizer([tuple(p.split(_SEP)) for p in sorted(multiword)], separator=_SEP)

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
        if word in self._lemmas:
            return self._lemmas[word]
        if not self.settings.lemmatize or "'" in word:
            return word
        return simplemma.lemmatize(word, lang=self.settings.language).lower()

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
        for match in _TOKEN.finditer(normalize_typography(text)):
            surface = text[match.start():match.end()]
            if match.lastgroup == "number":
                surfaces.append(surface)
                forms.append(_NUMBER)
                words.append(0)
                spans.append(match.span())
                continue
            low = match.group().lower()
            low = low[:-2] if low.endswith("'s") else low
            for k, form in enumerate(self._forms(low)):
                surfaces.append(surface)
                forms.append(form)
                words.append(0 if k else 1)
                spans.append(match.span())
        return self._merge(surfaces, forms, words, spans)

    def _merge(self, surfaces, forms, words, spans):
        """Merge multiword expressions, map glossary variants, drop stop words."""
        s = self.settings
        out, i = [], 0
        for form in self._mwe.tokenize(forms):
            n = form.count(_SEP) + 1
            parts = surfaces[i:i + n]
            surface = _SEP.join(p for k, p in enumerate(parts) if k == 0 or p != parts[k - 1])
            term = self.glossary.get(form, form)
            if form == _NUMBER:
                term = surface if s.keep_numbers else None
            elif s.remove_stopwords and (term in self.stopwords or (n == 1 and surface.lower() in self.stopwords)):
                term = None
            elif len(term) < s.min_length:
                term = None
            out.append((surface, term, sum(words[i:i + n]), spans[i][0], spans[i + n - 1][1]))
            i += n
        return out

    def terms(self, text: str) -> list[str]:
        """The counted terms of a text, in order (an ``analyzer`` for scikit-learn)."""
        return [token[1] for token in self.analyze(text) if token[1] is not None]

    def __call__(self, text: str) -> list[str]:
        return self.terms(text)

    def token_table(self, paragraphs: pd.DataFrame) -> pd.DataFrame:
        """One row per token of every paragraph.

        Parameters
        ----------
        paragraphs : DataFrame
            With ``doc_id``, ``paragraph_id`` and ``text`` (as from ``load_corpus``).

        Returns
        -------
        DataFrame
            ``doc_id``, ``paragraph_id``, ``position`` (0-based, running through
            the piece), ``token`` (surface form), ``term`` (normalized; missing
            for stop words and numbers), ``words`` (running words spanned), and
            ``start``, ``end`` (character offsets in the paragraph's text).
        """
        columns: dict[str, list] = {c: [] for c in TOKEN_COLUMNS}
        position: dict[str, int] = {}
        for doc_id, para_id, text in paragraphs[["doc_id", "paragraph_id", "text"]].itertuples(index=False):
            start = position.get(doc_id, 0)
            tokens = self.analyze(text)
            columns["doc_id"] += [doc_id] * len(tokens)
            columns["paragraph_id"] += [para_id] * len(tokens)
            columns["position"] += range(start, start + len(tokens))
            for surface, term, words, start_char, end_char in tokens:
                columns["token"].append(surface)
                columns["term"].append(term)
                columns["words"].append(words)
                columns["start"].append(start_char)
                columns["end"].append(end_char)
            position[doc_id] = start + len(tokens)
        table = pd.DataFrame(columns)
        for column in ("position", "words", "start", "end"):
            table[column] = table[column].astype("int64")
        return table


def word_tokens(text: str) -> list[str]:
    """Lower-cased running words of a text (no stop list, no lemmas): for lexical diversity."""
    return [w.lower() for w in _WORD.findall(normalize_typography(text))]
