"""A small on-disk cache of text-processing results, keyed by content hash.

The key covers the texts (with their ids) and the text settings' fingerprint,
which includes the contents of every word list, so rerunning a notebook or
changing a plotting parameter reuses the term counts, while editing a glossary,
stop-word or phrase file, or a text, builds it anew.

Each entry also records a fingerprint of the package's code and is rebuilt
when the code has changed (:func:`code_fingerprint`).

The cache lives in ``.cache/`` at the project root, or in the folder named by
the ``DISCOURSELAB_CACHE`` environment variable (``off`` turns it off). Only the
newest ``KEEP`` entries of each kind are kept (``KEEP_LARGE`` for token and count tables and corpora).
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd

from . import config
from .chunks import regrouped

ENV = "DISCOURSELAB_CACHE"
#: Entries kept per kind (the newest); token and count tables and corpora are large, so fewer of them.
KEEP = 24
KEEP_LARGE = {"tokens": 4, "corpus": 4, "paragraphs": 4, "count-parts": 4, "pairs": 4}
#: Values per part of an array stored with :func:`store_array` (8 MB of float64).
ARRAY_PART = 1 << 20


def cache_dir() -> Path | None:
    """The cache folder, or None when caching is off."""
    value = os.environ.get(ENV, "")
    if value.lower() == "off":
        return None
    return Path(value) if value else config.CACHE_DIR


def digest(*parts) -> str:
    """sha256 over ``parts``: strings, bytes, NumPy arrays, or anything JSON can write (e.g. parameters)."""
    import json

    hasher = hashlib.sha256()
    for part in parts:
        if isinstance(part, bytes):
            data = part
        elif isinstance(part, str):
            data = part.encode("utf-8", "surrogatepass")
        elif isinstance(part, np.ndarray) and part.dtype != object:
            # the array's own bytes, read in place (a copy would be as large: 94 MB for the count matrix of 31M words)
            data = np.ascontiguousarray(part).reshape(-1).view(np.uint8)
        elif isinstance(part, np.ndarray):
            data = "\x1f".join(map(str, part)).encode("utf-8", "surrogatepass")
        else:
            data = json.dumps(part, sort_keys=True, default=str).encode()
        hasher.update(len(data).to_bytes(8, "little"))
        hasher.update(data)
    return hasher.hexdigest()


def content_key(paragraphs: pd.DataFrame, fingerprint: str) -> str:
    """sha256 of the settings' fingerprint and of every paragraph's ids and text."""
    digest = hashlib.sha256(fingerprint.encode())
    add_content(digest, paragraphs)
    return digest.hexdigest()


def add_content(digest, paragraphs: pd.DataFrame) -> None:
    """Add every paragraph's ids and text to a sha256 ``digest``, as :func:`content_key` does (so a table can come in parts)."""
    for doc_id, paragraph_id, text in paragraphs[["doc_id", "paragraph_id", "text"]].itertuples(index=False):
        digest.update(f"{doc_id}\x1f{paragraph_id}\x1f{len(text)}\x1f".encode())
        digest.update(text.encode("utf-8", "surrogatepass"))


@functools.cache
def code_fingerprint() -> str:
    """sha256 of the package's own source files.

    Stored with every entry and checked when it is read, so that results
    cached by one version of the code (an older release, or a file edited
    since) are never served to another.
    """
    package = Path(__file__).parent
    hasher = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        hasher.update(path.relative_to(package).as_posix().encode())
        hasher.update(path.read_bytes())
    return hasher.hexdigest()


def cached_table(kind: str, key: str, build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """The table stored under ``kind`` and ``key``, or ``build()`` stored there first."""
    return cached_object(kind, key, build)


def cached_object(kind: str, key: str, build: Callable[[], object]):
    """Any picklable result stored under ``kind`` and ``key``, or ``build()`` stored there first."""
    if cache_dir() is None:
        return build()
    found = stored_object(kind, key, _MISSING)
    if found is not _MISSING:
        return found
    value = build()
    store_object(kind, key, value)
    return value


_MISSING = object()


def stored_object(kind: str, key: str, default=None):
    """What :func:`cached_object` or :func:`store_object` stored under ``kind`` and ``key``, else ``default``.

    ``default`` also when the cache is off, or the entry is damaged or made
    by other code (it is then deleted).
    """
    path = _existing_entry(kind, key)
    if path is None:
        return default
    try:
        with path.open("rb") as handle:
            entry = pickle.load(handle)
        if isinstance(entry, dict) and entry.get("code") == code_fingerprint():
            return entry["value"]
    except Exception:  # a damaged entry is made again
        pass
    path.unlink(missing_ok=True)  # damaged, or made by other code: made again
    return default


def store_object(kind: str, key: str, value) -> None:
    """Store a picklable ``value`` under ``kind`` and ``key`` (nothing when the cache is off)."""
    folder = cache_dir()
    if folder is not None:
        _write_entry(folder, kind, key, lambda handle: pickle.dump({"code": code_fingerprint(), "value": value}, handle,
                                                                   protocol=pickle.HIGHEST_PROTOCOL))


def store_parts(kind: str, key: str, parts: Iterable) -> int:
    """Store ``parts`` (picklable objects, e.g. tables) as one entry, so that each can be read alone.

    For something too large to hold whole where it is used (a corpus's
    paragraphs), read back a part at a time with :func:`cached_part`. The
    parts are pickled one after the other, then their offsets; the file's
    last 8 bytes say where the offsets begin. Each part is let go once written.

    Returns
    -------
    int
        How many parts were stored (also when the cache is off, when nothing is).
    """
    folder = cache_dir()
    stored = 0

    def write(handle) -> None:
        nonlocal stored
        offsets = []
        for part in parts:
            offsets.append(handle.tell())
            pickle.dump(part, handle, protocol=pickle.HIGHEST_PROTOCOL)
            del part
        end = handle.tell()
        pickle.dump({"code": code_fingerprint(), "offsets": offsets}, handle, protocol=pickle.HIGHEST_PROTOCOL)
        handle.write(end.to_bytes(8, "little"))
        stored = len(offsets)

    if folder is None:
        return sum(1 for _ in parts)
    _write_entry(folder, kind, key, write)
    return stored


def stored_parts(kind: str, key: str) -> int | None:
    """How many parts :func:`store_parts` stored under ``kind`` and ``key``; None when the cache does not have them."""
    return _read_parts(kind, key, lambda handle, index: len(index["offsets"]))


def parts_stored(kind: str, key: str, make: Callable[[], Iterable]) -> int:
    """How many parts are stored under ``kind`` and ``key``: :func:`stored_parts`, or ``make()``'s stored first."""
    stored = stored_parts(kind, key)
    return store_parts(kind, key, make()) if stored is None else stored


def cached_part(kind: str, key: str, number: int):
    """Part ``number`` (from 0) of what :func:`store_parts` stored under ``kind`` and ``key``.

    Returns None when the cache does not have it (caching off, the entry lost
    or damaged, or stored by other code): the caller makes it again.
    """
    def part(handle, index):
        if not 0 <= number < len(index["offsets"]):
            return None
        handle.seek(index["offsets"][number])
        return pickle.load(handle)

    return _read_parts(kind, key, part)


def cached_parts(kind: str, key: str, count: int, remake: Callable[[], Iterable]) -> Iterator:
    """The ``count`` parts stored under ``kind`` and ``key``, each read when it is reached and let go after.

    When one is missing (the entry lost or damaged meanwhile), ``remake()``
    gives all the parts again, and the rest come from those.
    """
    for number in range(count):
        part = cached_part(kind, key, number)
        if part is None:
            yield from islice(remake(), number, None)
            return
        yield part
        del part


def store_array(kind: str, key: str, values, part: int | None = None) -> None:
    """Store a 1-D array under ``kind`` and ``key`` as parts of ``part`` values (:data:`ARRAY_PART`), so that a range
    of it can be read alone.

    ``values`` is an array, or 1-D arrays of one dtype that joined make it,
    given one at a time (e.g. :func:`~discourselab.similarity.cosine_pair_runs`):
    the whole is then never held. Read back with :class:`StoredArray`. The
    parts are slices of ``values`` (of a single array, no copy is made); a
    last part says the array's length, dtype and part size.
    """
    part = part or ARRAY_PART
    chunks = [values] if isinstance(values, np.ndarray) else values
    header = {"length": 0, "dtype": None, "part": part}

    def checked() -> Iterator[np.ndarray]:
        for chunk in chunks:
            chunk = np.asarray(chunk)
            if chunk.ndim != 1:
                raise ValueError(f"store_array stores 1-D arrays, not {chunk.ndim}-D")
            if header["dtype"] not in (None, chunk.dtype.str):
                raise ValueError(f"store_array: a {chunk.dtype} chunk after {np.dtype(header['dtype'])} ones")
            header["dtype"] = chunk.dtype.str
            header["length"] += len(chunk)
            yield chunk

    def parts() -> Iterator:
        yield from regrouped(checked(), part, np.concatenate)  # a part within one chunk: a slice of it, not a copy
        header["dtype"] = header["dtype"] or np.dtype(float).str  # no chunk: an empty float array
        yield header

    store_parts(kind, key, parts())


class StoredArray:
    """An array that :func:`store_array` stored, read a range at a time: ``stored[start:stop]`` reads only its parts.

    For values too many to hold twice where they are used (the condensed
    similarity of every pair of thousands of pieces). Sliced (step 1), it
    gives a NumPy array; ``stored[:]`` is the whole. If a part is lost
    meanwhile (the entry pruned or damaged), ``remake()`` gives the whole
    array again, and it serves the rest.
    """

    def __init__(self, kind: str, key: str, header: dict, remake: Callable[[], np.ndarray] | None = None):
        self.kind, self.key, self.remake = kind, key, remake
        self.dtype, self.part = np.dtype(header["dtype"]), header["part"]
        self._length = header["length"]
        self._remade: np.ndarray | None = None

    @classmethod
    def of(cls, kind: str, key: str, remake: Callable[[], np.ndarray] | None = None) -> StoredArray | None:
        """The array stored under ``kind`` and ``key``, or None when the cache does not have it."""
        count = stored_parts(kind, key)
        header = cached_part(kind, key, count - 1) if count else None  # the last part
        if not isinstance(header, dict) or not {"length", "dtype", "part"} <= header.keys():
            return None
        return cls(kind, key, header, remake)

    def __len__(self) -> int:
        return self._length

    @property
    def shape(self) -> tuple[int]:
        return (self._length,)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """The whole array (``np.asarray(stored)``), read part by part into one array."""
        values = self[:]
        return values if dtype is None else values.astype(dtype, copy=False)

    def __getitem__(self, rows: slice) -> np.ndarray:
        if not isinstance(rows, slice):
            raise TypeError(f"a StoredArray is read by ranges (a slice), not by {type(rows).__name__}")
        start, stop, step = rows.indices(self._length)
        if step != 1:
            raise ValueError("a StoredArray is read by ranges of step 1")
        if self._remade is not None:
            return self._remade[start:stop]
        values = np.empty(max(stop - start, 0), dtype=self.dtype)
        for number in range(start // self.part, -(-stop // self.part) if stop > start else 0):
            part = cached_part(self.kind, self.key, number)
            if part is None:
                if self.remake is None:
                    raise LookupError(f"part {number} of the cache entry {self.kind}-{self.key[:32]} is lost")
                self._remade = np.asarray(self.remake())
                return self._remade[start:stop]
            begin = number * self.part
            low, high = max(start, begin), min(stop, begin + len(part))
            values[low - start:high - start] = part[low - begin:high - begin]
            del part
        return values


def _read_parts(kind: str, key: str, read: Callable):
    """``read(handle, index)`` on the entry :func:`store_parts` wrote, or None when the cache does not have it."""
    path = _existing_entry(kind, key)
    if path is None:
        return None
    try:
        with path.open("rb") as handle:
            handle.seek(-8, os.SEEK_END)
            handle.seek(int.from_bytes(handle.read(8), "little"))
            index = pickle.load(handle)
            if not isinstance(index, dict) or index.get("code") != code_fingerprint():
                return None
            return read(handle, index)
    except Exception:  # damaged: made again by the caller
        return None


def _existing_entry(kind: str, key: str) -> Path | None:
    """The file of the entry under ``kind`` and ``key``, or None when there is none (or the cache is off)."""
    folder = cache_dir()
    path = None if folder is None else _entry_path(folder, kind, key)
    return path if path is not None and path.is_file() else None


def _entry_path(folder: Path, kind: str, key: str) -> Path:
    return folder / f"{kind}-{key[:32]}.pkl"


def _write_entry(folder: Path, kind: str, key: str, write: Callable) -> None:
    """Write an entry with ``write(handle)``, whole or not at all, and keep only the newest of its kind."""
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{kind}-", suffix=".tmp")
    os.close(handle)
    try:
        with open(temporary, "wb") as handle:
            write(handle)
        os.replace(temporary, _entry_path(folder, kind, key))  # atomic: a reader never sees half a file
    finally:
        Path(temporary).unlink(missing_ok=True)
    entries = sorted(folder.glob(f"{kind}-*.pkl"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[KEEP_LARGE.get(kind, KEEP):]:
        old.unlink(missing_ok=True)
