"""Writing tables and figures with stable names and stable bytes."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import config

matplotlib.rcParams["svg.hashsalt"] = "discourselab"

#: Rows formatted and written at a time by :func:`write_csv`.
CHUNK_ROWS = 100_000


def write_table(table: pd.DataFrame, name: str, out_dir: str | Path) -> Path:
    """Write ``table`` to ``OUT/tables/NAME.csv`` (UTF-8, ``\\n`` line ends, no index).

    Floats are written with 10 significant digits, so that two runs on the same
    input give byte-identical files.
    """
    return write_csv(table, config.out_paths(out_dir)[config.TABLES] / f"{name}.csv")


def write_csv(table: pd.DataFrame, path: str | Path) -> Path:
    """Write ``table`` to ``path`` as :func:`write_table` does, whole or not at all.

    The rows go to ``PATH.partial``, which then replaces ``path``: a reader
    never sees a half-written file, and an error leaves the old one in place.
    """
    import os

    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "w", encoding="utf-8", newline="") as handle:
            # a chunk of rows at a time: the floats' text is made for one chunk, not for the whole table
            for start in range(0, max(len(table), 1), CHUNK_ROWS):
                _floats_as_text(table.iloc[start:start + CHUNK_ROWS]).to_csv(
                    handle, index=False, header=start == 0, lineterminator="\n")
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path


def _floats_as_text(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with its float columns written out as ``"%.10g"`` text (missing values as empty text).

    The same text as ``to_csv(float_format="%.10g")``, about three times
    faster on a table of hundreds of thousands of rows.
    """
    floats = {}
    for number, column in enumerate(table.columns):
        series = table.iloc[:, number]
        if series.dtype.kind == "f":
            values = series.to_numpy(dtype=float, na_value=np.nan)
            text = [f"{v:.10g}" for v in values.tolist()]
            for i in np.flatnonzero(np.isnan(values)):
                text[i] = ""
            floats[number] = text
    if not floats:
        return table
    table = table.copy(deep=False)
    for number, text in floats.items():
        table.isetitem(number, text)
    return table


def read_table(name: str, out_dir: str | Path) -> pd.DataFrame:
    """Read back a table written by :func:`write_table`."""
    return pd.read_csv(Path(out_dir) / config.TABLES / f"{name}.csv", keep_default_na=False, na_values=[""])


def save_figure(fig: plt.Figure, name: str, out_dir: str | Path) -> list[Path]:
    """Write a figure as ``OUT/figures/NAME.png`` (150 dpi) and ``NAME.svg``.

    Metadata that changes from run to run (dates, software versions) is left
    out, so the files depend on the figure only.
    """
    folder = config.out_paths(out_dir)[config.FIGURES]
    png, svg = folder / f"{name}.png", folder / f"{name}.svg"
    fig.savefig(png, dpi=150, bbox_inches="tight", metadata={"Software": None})
    fig.savefig(svg, bbox_inches="tight", metadata={"Date": None, "Creator": None})
    return [png, svg]


def show_figure(fig: plt.Figure, name: str, out_dir: str | Path, dpi: float = 100) -> list[Path]:
    """:func:`save_figure`, then show the saved PNG in the notebook and close the figure.

    The notebook shows exactly the file in ``figures/``, at the size of
    matplotlib's own display (``dpi`` pixels per inch) and sharper on a fine
    screen; the figure is drawn once for the file instead of once more for the
    notebook.
    """
    from IPython.display import Image, display

    paths = save_figure(fig, name, out_dir)
    data = paths[0].read_bytes()
    width = int.from_bytes(data[16:20], "big")  # pixels, from the PNG header
    display(Image(data=data, format="png", width=round(width * dpi / 150)))
    plt.close(fig)
    return paths
