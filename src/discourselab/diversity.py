"""Lexical diversity that is fair across texts of very different lengths.

The raw type/token ratio falls as a text grows, so it cannot compare a 300-word
piece with a 3,000-word one. The moving-average type/token ratio (MATTR;
Covington and McFall 2010) averages the TTR of every window of ``window``
consecutive tokens, which does not depend on the text's length.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .text import doc_texts, word_codes

DEFAULT_WINDOW = 50
#: Positions of a text that :func:`mattr` works on at a time.
MATTR_BLOCK = 1 << 16


def mattr(tokens: Sequence[str] | np.ndarray, window: int = DEFAULT_WINDOW) -> float:
    """Moving-average type/token ratio of a token sequence.

    Parameters
    ----------
    tokens : sequence of str, or int array
        The words, or their codes (e.g. :func:`~discourselab.text.word_codes`:
        one non-negative code per word). Codes are read ``MATTR_BLOCK``
        positions at a time, so that only the codes are held whole (and an
        array of each word's last position).
    window : int
        Window length in tokens (Covington and McFall use 500 for long texts;
        50 suits pieces of a few hundred words).

    Returns
    -------
    float
        Mean TTR over all ``len(tokens) - window + 1`` windows; when the text is
        shorter than the window, the plain TTR of the whole text; NaN when empty.
    """
    n = len(tokens)
    if n == 0:
        return float("nan")
    if n <= window:
        return len(set(tokens)) / n
    # Summed over windows, the number of types equals, summed over positions j,
    # the number of windows in which token j is its type's first occurrence:
    # windows starting at s with prev(j) < s <= j and s <= n - window, where
    # prev(j) is the position of the type's occurrence before j (-1 if none).
    if isinstance(tokens, np.ndarray) and tokens.dtype.kind in "iu":
        small = 0 <= tokens.min() and tokens.max() < max(4 * n, 1 << 20)  # else `last` below would be large
        ids = tokens if small else pd.factorize(tokens)[0]
    else:
        ids = pd.factorize(np.asarray(tokens, dtype=object))[0]
    last = np.full(int(ids.max()) + 1, -1, dtype=np.int64)  # each type's last position so far
    total = 0
    for start in range(0, n, MATTR_BLOCK):  # a block of positions at a time: arrays of a block, not of the text
        block = ids[start:start + MATTR_BLOCK]
        order = np.argsort(block, kind="stable")  # each type's positions together, in order
        same = block[order[1:]] == block[order[:-1]]
        prev = np.empty(len(block), dtype=np.int64)
        prev[order[1:][same]] = order[:-1][same] + start
        firsts, lasts = np.append(True, ~same), np.append(~same, True)  # (of each type in the block)
        prev[order[firsts]] = last[block[order[firsts]]]  # from the blocks before, or -1
        last[block[order[lasts]]] = order[lasts] + start
        position = np.arange(start, start + len(block))
        first = np.maximum(prev + 1, position - window + 1)
        stop = np.minimum(position, n - window)
        total += int(np.clip(stop - first + 1, 0, None).sum())
    return total / ((n - window + 1) * window)


def measure_diversity(texts, window: int = DEFAULT_WINDOW) -> pd.DataFrame:
    """Type/token ratio and MATTR of each piece.

    Parameters
    ----------
    texts : DataFrame or iterable
        A table with ``doc_id`` and ``text``, or ``(doc_id, text)`` pairs
        (e.g. :meth:`~discourselab.corpus.Corpus.piece_texts`, one at a time).
    window : int
        MATTR window.

    Returns
    -------
    DataFrame
        ``doc_id``, ``tokens``, ``types``, ``ttr``, ``mattr``, ``window`` and
        ``short`` (True where the piece is no longer than the window, so that
        MATTR falls back to the plain TTR).
    """
    rows, vocabulary = [], {}  # one code per word, in every piece
    for doc_id, text in doc_texts(texts):
        tokens = word_codes(text, vocabulary)  # not a string per word
        types = len(np.unique(tokens))
        rows.append({
            "doc_id": doc_id,
            "tokens": len(tokens),
            "types": types,
            "ttr": types / len(tokens) if len(tokens) else float("nan"),
            "mattr": mattr(tokens, window),
            "window": window,
            "short": len(tokens) <= window,
        })
    return pd.DataFrame(rows)
