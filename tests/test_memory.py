"""Memory handed back to the system: large blocks mapped on their own, the heap trimmed after each notebook cell."""

import subprocess
import sys
from pathlib import Path

import pytest

from discourselab import memory

# Twenty 20 MB arrays, each followed by a small one that stays, so that the large ones freed would be holes in
# the heap. A 30 MB array freed first raises glibc's own bound for mapping a block apart to 30 MB.
FREED_ARRAYS = """
import resource, sys
import numpy as np
from pathlib import Path
from discourselab.memory import return_large_blocks

def resident_mb():
    return int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize() / 2**20

if sys.argv[1] == "fixed":
    assert return_large_blocks()
first = np.ones(30 * 2**20 // 8)
del first
large, small = [], []
for _ in range(20):
    large.append(np.ones(20 * 2**20 // 8))
    small.append(np.ones(8192))
before = resident_mb()
del large
print(before - resident_mb())
"""


def _returned_mb(mode: str) -> float:
    done = subprocess.run([sys.executable, "-c", FREED_ARRAYS, mode], capture_output=True, text=True, check=True)
    return float(done.stdout)


@pytest.mark.skipif(not Path("/proc/self/statm").exists() or memory._libc() is None
                    or not hasattr(memory._libc(), "mallopt"), reason="glibc's mallopt; the resident size from /proc")
def test_large_blocks_freed_go_back_to_the_system():
    # glibc's default: the 400 MB stay resident as holes between the small arrays
    assert _returned_mb("default") < 50
    # with the bound fixed at 4 MB, each 20 MB array has its own pages, returned when it is freed
    assert _returned_mb("fixed") > 350


def test_the_heap_is_trimmed_after_every_cell_of_a_notebook(monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    trims = []

    class Library:
        def malloc_trim(self, pad):
            trims.append(pad)

    monkeypatch.setattr(memory, "_libc", Library)
    shell = InteractiveShell()
    try:
        assert memory.trim_after_each_cell(shell) and memory.trim_after_each_cell(shell)  # registered once
        shell.run_cell("x = 1")
        shell.run_cell("raise ValueError('a failed cell is trimmed after too')")
        assert trims == [0, 0]
    finally:
        shell.events.unregister("post_run_cell", memory.trim_heap_after_cell)


def test_no_notebook_no_hook(monkeypatch):
    import IPython

    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    assert memory.trim_after_each_cell() is False
