"""Reading the optional list of central concepts (``concepts.txt`` beside a manifest)."""

from __future__ import annotations

from pathlib import Path

from .errors import CorpusError

FILENAME = "concepts.txt"


def read_concepts(path: str | Path) -> dict[str, list[str]]:
    """Themes and their terms from lines ``theme: term, term, ...`` (``#`` comments).

    A missing file gives no themes. A line without a colon or without terms
    stops with an error naming the file and line.
    """
    path = Path(path)
    if not path.is_file():
        return {}
    themes: dict[str, list[str]] = {}
    for lineno, raw in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        theme, sep, terms = line.partition(":")
        words = [t.strip() for t in terms.split(",") if t.strip()]
        if not sep or not theme.strip() or not words:
            raise CorpusError(f"{path}, line {lineno}: expected 'theme: term, term, ...', got {raw!r}")
        themes[theme.strip()] = words
    return themes
