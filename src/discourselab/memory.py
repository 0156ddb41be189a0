"""Memory the process has let go of, handed back to the system; the cyclic garbage collector paused for bulk work."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from contextlib import contextmanager
from functools import lru_cache


@lru_cache(maxsize=1)
def _libc():
    """The C library, or None where it cannot be loaded (looked up once: ``find_library`` may start a program)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def trim_heap() -> None:
    """Hand the free pages of the process's heap back to the system (glibc's ``malloc_trim``), where it can.

    What a process has let go of stays in its resident memory otherwise:
    freed but not returned, for as long as it runs. After writing the corpus
    tables of 31M words, ``discourselab run`` held 328 MB of which this returns
    158 MB for the rest of the run. Elsewhere than glibc it does nothing.
    """
    try:
        _libc().malloc_trim(0)
    except (AttributeError, TypeError):  # no C library, or one without malloc_trim
        pass


#: Blocks at least this large get pages of their own, which go back to the system when freed
#: (see :func:`return_large_blocks`).
LARGE_BLOCK = 4 << 20
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number


def return_large_blocks(threshold: int = LARGE_BLOCK) -> bool:
    """Have every block of at least ``threshold`` bytes mapped on its own, so that freeing it returns its pages.

    glibc maps blocks of 128 kB and more on their own at first. But each
    time such a block is freed, it raises that bound to the block's size (up
    to 32 MB), so that later arrays of up to that size come from the heap.
    Freed there, they stay in the process's resident memory as holes until
    the heap's top is free. Notebook 03 at 3,792 pieces, run cell by cell,
    thus held 575 MB after its permutation tests. With the bound fixed at
    4 MB it held 447 MB, and the tests took as long (13.4 s against 12.8 s).
    A bound of 128 kB held 439 MB, but the tests took 20.3 s: the pages of
    every fresh mapping must be zeroed.

    Returns whether the C library took the setting (False elsewhere than glibc).
    Forked worker processes keep it.
    """
    try:
        return bool(_libc().mallopt(_M_MMAP_THRESHOLD, int(threshold)))
    except (AttributeError, TypeError):  # no C library, or one without mallopt
        return False


def trim_after_each_cell(shell=None) -> bool:
    """In a notebook's kernel, :func:`trim_heap` after every cell it runs (registered once).

    A cell that analyses many paragraphs leaves the heap full of holes where
    their texts were: at 3,792 pieces the concordance cell left its kernel at
    447 MB, of which the trim returns 84 MB (in 8 ms), to the end of the
    notebook. ``shell`` is the IPython shell (default: the running one).
    Returns whether a shell was found.
    """
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
    if shell is None:
        return False
    if trim_heap_after_cell not in shell.events.callbacks["post_run_cell"]:
        shell.events.register("post_run_cell", trim_heap_after_cell)
    return True


def trim_heap_after_cell(result=None) -> None:
    """:func:`trim_heap`, as IPython's ``post_run_cell`` event calls it (with the cell's result)."""
    trim_heap()


@contextmanager
def gc_paused():
    """Python's cyclic garbage collector paused (reference counting still frees), then restored as it was.

    For bulk work that makes many lasting containers and no reference cycles,
    such as learning each distinct token of a corpus. Each such container counts
    towards the collector's next pass, and a full pass walks every object of the
    process: with simplemma's dictionaries loaded, about 0.1 s a pass. Counting
    the 1x benchmark corpus (2M words) made passes that took 0.3 s of its 1.5 s.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
