"""Pieces of one sequence (rows of tables, values of arrays, items of a stream) regrouped into pieces of a bounded size."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np


def regrouped(pieces: Iterable, size: int, join: Callable[[list], object], *,
              weights: Callable[[object], object] | None = None, budget: int = 0) -> Iterator:
    """The rows of ``pieces``, one piece after another, as pieces of ``size`` rows (the last one may be shorter).

    ``pieces`` are tables (cut by ``iloc``) or arrays (cut by slicing);
    ``join`` makes one piece of a list of two or more consecutive cuts
    (``pd.concat``, ``np.concatenate``); a piece within one of ``pieces`` is
    its cut, not a copy. The same pieces as slices of ``size`` rows of all of
    them joined, but only one piece's rows are held at a time.

    With ``weights`` (a piece's rows' weights, e.g. the lengths of a table's
    texts), a piece also ends before the row that would take its weight past
    ``budget`` (a row heavier than that is a piece alone), so pieces have at
    most ``size`` rows.
    """
    held, n, load = [], 0, 0
    for piece in pieces:
        rows = getattr(piece, "iloc", piece)  # a table's rows by position; an array's by slicing
        running = None if weights is None else np.cumsum(np.asarray(weights(piece), dtype=np.int64))
        at, end = 0, len(piece)
        while at < end:
            take = min(size - n, end - at)
            if running is not None:
                before = int(running[at - 1]) if at else 0
                fits = int(np.searchsorted(running[at:at + take], before + budget - load, side="right"))
                take = fits if fits or n else 1
                load += int(running[at + take - 1]) - before if take else 0
            if take:
                held.append(rows[at:at + take])
                n, at = n + take, at + take
            if n == size or at < end:  # full: by its rows, or by its weight (the next row does not fit)
                yield held[0] if len(held) == 1 else join(held)
                held, n, load = [], 0, 0
    if held:
        yield held[0] if len(held) == 1 else join(held)


def batched(items: Iterable, size: int, budget: int, weight: Callable[[object], int] = len) -> Iterator[list]:
    """The items of a stream in lists of at most ``size`` items and at most ``budget`` of their ``weight`` in all.

    A list ends before the item that would take it past either; an item
    heavier than ``budget`` is a list alone. Only one list is held at a time.
    """
    held, load = [], 0
    for item in items:
        heavy = weight(item)
        if held and (len(held) == size or load + heavy > budget):
            yield held
            held, load = [], 0
        held.append(item)
        load += heavy
    if held:
        yield held
