"""The pipeline's tokens of lower-case ASCII text, found and numbered with array operations.

:class:`discourselab.text.TextPipeline` tokenizes with a regular expression
(``_ASCII_TOKEN`` on ASCII text) and numbers each token by looking its string
up in a dict. For millions of tokens the dict look-ups (a new string, hashed,
per token) cost about as much as the regular expression. Here the same tokens
are found on the text's bytes with NumPy, and each token of up to
``KEY_BYTES`` bytes is numbered by its bytes packed into two integers, looked up
in a table. The packing is exact (no two tokens share it), so a token is
numbered from the table only when its packed bytes equal those the table holds;
any other token (longer, or new) is numbered by its string, as before.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Tokens of up to this many bytes are numbered by their packed bytes; longer ones by their string.
KEY_BYTES = 16

_LETTER, _DIGIT, _JOINS_LETTERS, _JOINS_DIGITS, _PERCENT = 1, 2, 3, 4, 5
_CLASS = np.zeros(256, dtype=np.uint8)
_CLASS[ord("a"):ord("z") + 1] = _LETTER
_CLASS[ord("0"):ord("9") + 1] = _DIGIT
_CLASS[[ord("'"), ord("-")]] = _JOINS_LETTERS
_CLASS[[ord("."), ord(",")]] = _JOINS_DIGITS
_CLASS[ord("%")] = _PERCENT

# odd constants that mix the two packed integers into one key for the hash table (multiplication wraps modulo 2**64)
_MIX_LOW, _MIX_HIGH = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F)


def _shifted(values: np.ndarray, by: int, fill: int = 0) -> np.ndarray:
    """``values`` moved ``by`` places (positive: later), ``fill`` where nothing moved in."""
    out = np.full_like(values, fill)
    if by > 0:
        out[by:] = values[:-by]
    else:
        out[:by] = values[-by:]
    return out


def ascii_spans(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the tokens of lower-case ASCII bytes begin and end: ``_ASCII_TOKEN.finditer``'s spans.

    A word is a run of ``a-z`` in which a single ``'`` or ``-`` may stand
    between two letters; a number is a run of ``0-9`` in which a single ``.``
    or ``,`` may stand between two digits, with a ``%`` straight after a digit
    ending it. Anything else ends a token.

    Parameters
    ----------
    data : uint8 array
        The text's bytes (lower-case: ``A-Z`` are not letters here).

    Returns
    -------
    starts, ends : int64 arrays
        Each token's first byte and one past its last.
    """
    kind = _CLASS[data]
    before, after = _shifted(kind, 1), _shifted(kind, -1)
    in_word = (kind == _LETTER) | ((kind == _JOINS_LETTERS) & (before == _LETTER) & (after == _LETTER))
    in_number = ((kind == _DIGIT) | ((kind == _JOINS_DIGITS) & (before == _DIGIT) & (after == _DIGIT))
                 | ((kind == _PERCENT) & (before == _DIGIT)))
    token = in_word.view(np.uint8) + 2 * in_number.view(np.uint8)  # 0 none, 1 word, 2 number
    percent = kind == _PERCENT
    begins = (token != 0) & ((token != _shifted(token, 1)) | _shifted(percent, 1, False))
    finishes = (token != 0) & ((token != _shifted(token, -1)) | percent)
    return np.flatnonzero(begins), np.flatnonzero(finishes) + 1


def packed(data: bytes, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each token's first 16 bytes as two integers: ``(low, high)``, equal only for equal tokens of up to 16 bytes.

    ``low`` is the first 8 bytes (fewer for a shorter token) read as a
    big-endian number, ``high`` the next 8 (0 for a token of up to 8 bytes).
    Token bytes are never 0, so a number's length in bytes gives the token's
    length: the packing of tokens of up to ``KEY_BYTES`` bytes is one to one.
    """
    padded = np.frombuffer(data + bytes(KEY_BYTES), dtype=np.uint8)
    # the 8 bytes from every position, as big-endian integers (a view: no copy)
    windows = np.ndarray(shape=(len(data) + KEY_BYTES // 2 + 1,), dtype=">u8", buffer=padded, strides=(1,))
    lengths = ends - starts
    low = windows[starts].astype(np.uint64) >> (8 * (8 - np.minimum(lengths, 8))).astype(np.uint64)
    rest = np.clip(lengths, 9, KEY_BYTES)  # the second word's shift, valid for tokens of 9 to 16 bytes
    high = windows[starts + 8].astype(np.uint64) >> (8 * (KEY_BYTES - rest)).astype(np.uint64)
    high[lengths <= 8] = 0
    return low, high


class KeyTable:
    """Numbers of tokens, found by their packed bytes (:func:`packed`) through a hash table of their keys.

    The keys are held in a ``pandas.Index`` (unique), whose hash table finds
    many keys at once about six times as fast as ``np.searchsorted`` in a
    sorted array.
    """

    def __init__(self):
        self.keys = pd.Index(np.empty(0, dtype=np.uint64))
        self.low = np.empty(0, dtype=np.uint64)
        self.high = np.empty(0, dtype=np.uint64)
        self.numbers = np.empty(0, dtype=np.int32)

    def __len__(self) -> int:
        return len(self.keys)

    @staticmethod
    def key(low: np.ndarray, high: np.ndarray) -> np.ndarray:
        return low * _MIX_LOW + high * _MIX_HIGH

    def find(self, low: np.ndarray, high: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Each token's number, -1 where the table does not hold its exact bytes (or it is longer than KEY_BYTES)."""
        if not len(self.keys):
            return np.full(len(low), -1, dtype=np.int32)
        at = self.keys.get_indexer(self.key(low, high))  # -1: not held (read as the last entry, then ruled out)
        exact = (at >= 0) & (self.low[at] == low) & (self.high[at] == high) & (lengths <= KEY_BYTES)
        return np.where(exact, self.numbers[at], -1).astype(np.int32, copy=False)

    def add(self, low: np.ndarray, high: np.ndarray, numbers: np.ndarray) -> None:
        """Hold these tokens' numbers (tokens of at most KEY_BYTES bytes, all different from each other).

        A token whose key the table already holds for other bytes is left out:
        it stays numbered by its string.
        """
        key = self.key(low, high)
        new = self.keys.get_indexer(key) < 0
        key, first = np.unique(key[new], return_index=True)  # two new tokens of one key: the first is held
        if not len(key):
            return
        self.keys = self.keys.append(pd.Index(key))
        self.low = np.concatenate([self.low, low[new][first]])
        self.high = np.concatenate([self.high, high[new][first]])
        self.numbers = np.concatenate([self.numbers, numbers[new][first].astype(np.int32)])
