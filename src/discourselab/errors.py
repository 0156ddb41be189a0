"""The one exception the package raises for bad input."""

from __future__ import annotations


class CorpusError(ValueError):
    """Bad input: a manifest, rules file, text file or word list that cannot be used.

    The message names the file and, where there is one, the row or line.
    """
