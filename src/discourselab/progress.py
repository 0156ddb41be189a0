"""Progress bars (tqdm) that show in a terminal and in an interactive notebook.

When ``discourselab run`` executes the notebooks, their kernels get
``DISCOURSELAB_PROGRESS=0`` so that the bars do not end up in the rendered
notebooks; the command line shows its own bar over the notebooks and cells.
"""

from __future__ import annotations

import os

from tqdm.auto import tqdm

ENV = "DISCOURSELAB_PROGRESS"


def enabled() -> bool:
    """False when ``DISCOURSELAB_PROGRESS`` is ``0`` (set for notebooks executed by ``discourselab run``)."""
    return os.environ.get(ENV, "1") != "0"


def bar(iterable=None, *, desc: str = "", total: int | None = None, unit: str = "it"):
    """A tqdm bar over ``iterable`` that disappears when done (and is off when :func:`enabled` is False)."""
    return tqdm(iterable, desc=desc, total=total, unit=unit, leave=False, disable=not enabled())
