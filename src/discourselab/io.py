"""Writing tables and figures with stable names and stable bytes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import config
from .text import table_parts

if TYPE_CHECKING:  # matplotlib is imported where a figure is saved: the run's own process writes tables only (27 MB)
    import matplotlib.pyplot as plt

#: The salt of the SVG files' element ids (matplotlib's ``svg.hashsalt``), so that they do not change from run to run.
SVG_SALT = "discourselab"

#: Resolution of the PNG files (pixels per inch).
PNG_DPI = 150
#: Rows formatted and written at a time by :func:`write_csv`.
CHUNK_ROWS = 100_000


def write_table(table, name: str, out_dir: str | Path) -> Path:
    """Write ``table`` to ``OUT/tables/NAME.csv`` (UTF-8, ``\\n`` line ends, no index).

    Floats are written with 10 significant digits, so that two runs on the same
    input give byte-identical files. ``table`` may also be an iterable of
    tables with the same columns (e.g. :meth:`~discourselab.study.Study.frequency_tables`),
    written one after the other as one table, each let go once written.
    """
    return write_csv(table, config.out_paths(out_dir)[config.TABLES] / f"{name}.csv")


def write_csv(table, path: str | Path) -> Path:
    """Write ``table`` (or an iterable of tables) to ``path`` as :func:`write_table` does, whole or not at all.

    The rows go to ``PATH.partial``, which then replaces ``path``: a reader
    never sees a half-written file, and an error leaves the old one in place.
    The text is that of ``to_csv(index=False, lineterminator="\\n",
    float_format="%.10g")``: pandas writes through the standard library's
    ``csv`` module too; given each column's values as text, each distinct
    float formatted once, its writer is faster (2.8 to 3.6 s against 9.2 to
    11.9 s of CPU for a keyness table of 520,750 rows and 25 columns).
    """
    import csv
    import os

    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            columns = None
            for part in table_parts(table):
                if columns is None:
                    columns = list(part.columns)
                    writer.writerow(columns)
                elif list(part.columns) != columns:
                    raise ValueError(f"{path.name}: a part has the columns {list(part.columns)}, not {columns}")
                # a chunk of rows at a time: the values' text is made for one chunk, not for the whole table
                for start in range(0, len(part), CHUNK_ROWS):
                    writer.writerows(zip(*_columns_as_text(part.iloc[start:start + CHUNK_ROWS])))
                del part  # before the iterable makes the next one
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path


def _columns_as_text(table: pd.DataFrame) -> list[list]:
    """Each column's values as ``to_csv`` writes them: floats as ``"%.10g"``, missing values as empty text."""
    columns = []
    for number in range(table.shape[1]):
        series = table.iloc[:, number]
        if series.dtype.kind == "f":
            values = np.ascontiguousarray(series.to_numpy(dtype=float, na_value=np.nan))
            # each distinct value (told apart by its bits, so -0.0 stays "-0") formatted once: a keyness
            # table's float columns hold 1-18% distinct values
            where, bits = pd.factorize(values.view(np.int64))
            distinct = bits.view(np.float64)
            words = np.array([f"{v:.10g}" for v in distinct.tolist()], dtype=object)
            words[np.isnan(distinct)] = ""
            text = words[where].tolist()
        else:
            values = series.to_numpy(dtype=object)
            text = values.tolist()
            for i in np.flatnonzero(series.isna().to_numpy()):
                text[i] = ""
        columns.append(text)
    return columns


def read_table(name: str, out_dir: str | Path) -> pd.DataFrame:
    """Read back a table written by :func:`write_table`."""
    return pd.read_csv(Path(out_dir) / config.TABLES / f"{name}.csv", keep_default_na=False, na_values=[""])


def save_figure(fig: plt.Figure, name: str, out_dir: str | Path) -> list[Path]:
    """Write a figure as ``OUT/figures/NAME.png`` (150 dpi) and ``NAME.svg``.

    Metadata that changes from run to run (dates, software versions) is left
    out, so the files depend on the figure only. The SVG keeps the layout the
    PNG's save computed (the layout engine is off while it is written, then
    put back): the two files show the same layout, and the SVG is written in
    about two thirds of the time.
    """
    import matplotlib

    folder = config.out_paths(out_dir)[config.FIGURES]
    png, svg = folder / f"{name}.png", folder / f"{name}.svg"
    fig.savefig(png, dpi=PNG_DPI, bbox_inches="tight", metadata={"Software": None})
    engine = fig.get_layout_engine()
    fig.set_layout_engine("none")
    try:
        with matplotlib.rc_context({"svg.hashsalt": SVG_SALT}):
            fig.savefig(svg, bbox_inches="tight", metadata={"Date": None, "Creator": None})
    finally:
        fig.set_layout_engine(engine)
    return [png, svg]


def show_figure(fig: plt.Figure, name: str, out_dir: str | Path, dpi: float = 100) -> None:
    """:func:`save_figure`, then show the saved PNG in the notebook, and close and clear the figure.

    Like IPython's ``display``, it returns nothing, so that a cell ending with
    it shows the figure and not also the list of files (``save_figure`` gives them).

    The notebook shows exactly the file in ``figures/``, at the size of
    matplotlib's own display (``dpi`` pixels per inch) and sharper on a fine
    screen; the figure is drawn once for the file instead of once more for the
    notebook. A closed pyplot figure still holds the canvas it was saved with,
    and the pixels of its PNG (11 MB for 16 x 12 inches): its axes observer
    keeps pyplot's manager of the canvas. A notebook's ``fig`` would hold them
    through the cells after it; cleared, the figure lets them go.
    """
    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    paths = save_figure(fig, name, out_dir)
    data = paths[0].read_bytes()
    width = int.from_bytes(data[16:20], "big")  # pixels, from the PNG header
    display(Image(data=data, format="png", width=round(width * dpi / PNG_DPI)))
    plt.close(fig)
    fig.clear()  # its artists, and the observer that holds the canvas
