"""Writing tables: stable text, the same as pandas' own float formatting."""

from __future__ import annotations

import numpy as np
import pandas as pd

from discourselab.io import read_table, write_table


def mixed_table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "term": ["a", "b, c", 'say "d"', None, "e"],
        "count": [1, 2, 3, 4, 5],
        "share": rng.random(5) * 10.0 ** rng.integers(-320, 300, 5),
        "odd": [np.nan, np.inf, -np.inf, -0.0, 1 / 3],
        "whole": [1.0, 2.0, 1e16, 123456789012.0, 0.1 + 0.2],
        "single": np.array([0.1, 1 / 3, 2.5, np.nan, 7.0], dtype=np.float32),
        "nullable": pd.array([0.5, None, 2.0, 1e-300, 3.0], dtype="Float64"),
        "weak": [True, False, True, False, True],
        "kind": pd.Categorical(["x", "y", None, "x", "y, z"]),
        "whole_or_missing": pd.array([1, None, 3, -4, 5], dtype="Int64"),
        "mixed": [1, "two", None, 3.5, np.nan],
        "signed_zeros": [0.0, -0.0, 0.0, -0.0, 2.5],  # distinct values are formatted once: -0.0 is not 0.0
    })


def test_tables_are_written_as_pandas_writes_them_with_ten_digits(tmp_path):
    table = mixed_table()
    path = write_table(table, "t", tmp_path)
    expected = table.to_csv(index=False, lineterminator="\n", float_format="%.10g")
    assert path.read_text() == expected
    assert "0.3333333333" in expected and ",inf," in expected and ",-inf," in expected
    assert [line.rsplit(",", 1)[1] for line in expected.splitlines()[1:]] == ["0", "-0", "0", "-0", "2.5"]
    # the table itself is not changed, and reads back
    assert table["share"].dtype == float
    back = read_table("t", tmp_path)
    assert back["term"].tolist()[:3] == ["a", "b, c", 'say "d"']
    np.testing.assert_allclose(back["odd"].iloc[4], 1 / 3, rtol=1e-9)


def test_tables_written_in_chunks_are_the_same_bytes(tmp_path, monkeypatch):
    from discourselab import io

    table = mixed_table()
    expected = table.to_csv(index=False, lineterminator="\n", float_format="%.10g")
    for rows in (1, 2, 5):
        monkeypatch.setattr(io, "CHUNK_ROWS", rows)
        assert write_table(table, f"chunks-{rows}", tmp_path).read_text() == expected
    empty = write_table(table.iloc[:0], "empty", tmp_path).read_text()
    assert empty == table.iloc[:0].to_csv(index=False, lineterminator="\n")


def test_a_failed_write_leaves_the_old_file_and_no_partial_one(tmp_path, monkeypatch):
    from discourselab import io

    path = write_table(pd.DataFrame({"v": [1.5]}), "t", tmp_path)
    monkeypatch.setattr(io, "CHUNK_ROWS", 1)
    calls = []

    def failing(table):  # the second chunk fails
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return table

    monkeypatch.setattr(io, "_columns_as_text", failing)
    try:
        write_table(pd.DataFrame({"v": [1.0, 2.0, 3.0]}), "t", tmp_path)
    except RuntimeError:
        pass
    assert path.read_text() == "v\n1.5\n" and list(path.parent.iterdir()) == [path]


def test_show_figure_saves_shows_the_file_and_closes(tmp_path, monkeypatch):
    import IPython.display
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from discourselab.io import show_figure

    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [1, 0])
    assert show_figure(fig, "line", tmp_path) is None  # a cell ending with it echoes no list of paths
    paths = [tmp_path / "figures" / f"line.{ext}" for ext in ("png", "svg")]
    assert all(p.is_file() for p in paths)
    assert not plt.fignum_exists(fig.number)  # closed: the notebook does not show it a second time
    assert not fig.axes  # and cleared
    (image,) = shown
    assert image.data == paths[0].read_bytes()  # the very file
    pixels = int.from_bytes(image.data[16:20], "big")
    assert image.width == round(pixels * 100 / 150) and 350 < image.width < 450  # about 4 inches at 100 dpi


def test_save_figure_writes_the_svg_with_the_pngs_layout(tmp_path):
    import io as bytes_io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from discourselab.io import PNG_DPI, save_figure

    def figure():
        fig, ax = plt.subplots(figsize=(4, 3), layout="constrained")
        ax.plot([0, 1], [0, 1000])
        ax.set(title="A title", ylabel="count")
        return fig, ax

    fig, ax = figure()
    fig.savefig(bytes_io.BytesIO(), format="png", dpi=PNG_DPI, bbox_inches="tight")
    png_layout = ax.get_position().bounds
    fig.savefig(bytes_io.BytesIO(), format="svg", bbox_inches="tight")
    assert ax.get_position().bounds != png_layout  # laid out again for the SVG, the axes move a little
    plt.close(fig)

    fig, ax = figure()
    engine = fig.get_layout_engine()
    png, svg = save_figure(fig, "line", tmp_path)
    assert ax.get_position().bounds == png_layout  # the SVG was written with the PNG's layout
    assert fig.get_layout_engine() is engine  # and the figure keeps its engine
    assert svg.read_text().startswith("<?xml") and png.read_bytes()[1:4] == b"PNG"
    plt.close(fig)
    # the same figure gives the same bytes (the SVG's element ids are salted, not random), and the
    # salt is set for the save alone
    fig, ax = figure()
    again = save_figure(fig, "again", tmp_path)
    plt.close(fig)
    assert again[0].read_bytes() == png.read_bytes() and again[1].read_bytes() == svg.read_bytes()
    assert 'id="' in svg.read_text() and matplotlib.rcParams["svg.hashsalt"] is None


def test_the_run_command_imports_no_plotting():
    # its own process runs the notebooks and writes tables: matplotlib (27 MB) only in the kernels
    import subprocess
    import sys

    code = "import sys, discourselab.cli, discourselab.report; print('matplotlib' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "False\n"


def test_an_iterable_of_tables_is_written_as_one_table(tmp_path, monkeypatch):
    from discourselab import io

    table = mixed_table()
    expected = table.to_csv(index=False, lineterminator="\n", float_format="%.10g")
    monkeypatch.setattr(io, "CHUNK_ROWS", 2)
    parts = (table.iloc[a:b] for a, b in ((0, 3), (3, 3), (3, 5)))  # an empty part in the middle
    assert write_table(parts, "parts", tmp_path).read_text() == expected
    path = write_table(table, "other", tmp_path)
    bad = iter([table, table.drop(columns="share")])
    try:
        write_table(bad, "other", tmp_path)
    except ValueError as error:
        assert "other.csv" in str(error) and "share" in str(error)
    else:
        raise AssertionError("parts with other columns were written")
    assert path.read_text() == expected and not (path.parent / "other.csv.partial").exists()


def test_show_figure_lets_go_of_the_canvas_and_its_pixels(tmp_path, monkeypatch):
    # a closed pyplot figure still holds the canvas it was saved with, and its pixels, while it lives
    import gc

    import IPython.display
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from discourselab.io import show_figure

    def renderers():
        gc.collect()
        return sum(type(o).__name__ == "RendererAgg" for o in gc.get_objects())

    monkeypatch.setattr(IPython.display, "display", lambda image: None)
    before = renderers()
    fig, ax = plt.subplots(figsize=(4, 3), layout="constrained")
    ax.plot([0, 1], [1, 0])
    show_figure(fig, "line", tmp_path)
    assert renderers() == before  # though the caller still names the figure
