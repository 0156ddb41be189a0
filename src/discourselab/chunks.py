"""Pieces of one sequence (rows of tables, values of arrays) regrouped into pieces of a fixed size."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator


def regrouped(pieces: Iterable, size: int, join: Callable[[list], object]) -> Iterator:
    """The rows of ``pieces``, one piece after another, as pieces of ``size`` rows (the last one may be shorter).

    ``pieces`` are tables (cut by ``iloc``) or arrays (cut by slicing);
    ``join`` makes one piece of a list of consecutive cuts (``pd.concat``,
    ``np.concatenate``). The same pieces as slices of ``size`` rows of all of
    them joined, but only one piece's rows are held at a time.
    """
    held, n = [], 0
    for piece in pieces:
        while len(piece):
            rows = getattr(piece, "iloc", piece)  # a table's rows by position; an array's by slicing
            taken, piece = rows[:size - n], rows[size - n:]
            held.append(taken)
            n += len(taken)
            if n == size:
                yield join(held)
                held, n = [], 0
    if held:
        yield join(held)
