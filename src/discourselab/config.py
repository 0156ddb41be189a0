"""Every path the package uses, in one place.

The package knows the project's layout (``data/``, ``notebooks/``, ``figures/``)
but nothing about any particular corpus: a corpus is whatever manifest it is
given.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
#: Word lists and glossaries shipped with the package (editable copies).
PACKAGE_DATA = PACKAGE_DIR / "data"
#: Root of the source checkout (``src`` layout: two levels above the package).
PROJECT_ROOT = PACKAGE_DIR.parents[1]

DATA_DIR = PROJECT_ROOT / "data"
RAW_DIR = DATA_DIR / "raw"
#: The manifest the study's notebooks use when no other is given.
DEFAULT_MANIFEST = DATA_DIR / "corpus.csv"
#: Notebook sources (jupytext percent format) and their executed copies.
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
FIGURES_DIR = PROJECT_ROOT / "figures"
#: Where ``make report`` writes the full study, and interactive runs their tables.
BUILD_DIR = PROJECT_ROOT / "build"
DEFAULT_OUT = BUILD_DIR / "interactive"
#: Content-addressed cache of processed texts.
CACHE_DIR = PROJECT_ROOT / ".cache"

#: Name of the optional exclusion-rules file looked for beside a manifest.
RULES_FILENAME = "exclusions.csv"

#: Sub-folders of a run's output folder.
TABLES = "tables"
FIGURES = "figures"
NOTEBOOKS = "notebooks"


def out_paths(out_dir: str | Path) -> dict[str, Path]:
    """The sub-folders of an output folder, created if missing.

    Parameters
    ----------
    out_dir : str or Path
        A run's output folder.

    Returns
    -------
    dict
        ``{"tables": ..., "figures": ..., "notebooks": ...}``.
    """
    out = Path(out_dir)
    paths = {name: out / name for name in (TABLES, FIGURES, NOTEBOOKS)}
    for path in paths.values():
        path.mkdir(parents=True, exist_ok=True)
    return paths


def resolve(path: str | Path | None, default: Path) -> Path:
    """``path`` as a ``Path``, or ``default`` when it is None or empty."""
    if path is None or str(path) == "":
        return default
    return Path(path)
