"""Plot functions return figures with the panels and labels a reader needs."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from discourselab import plots
from discourselab.study import open_study


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    from conftest import MINI
    return open_study(MINI / "corpus.csv", tmp_path_factory.mktemp("out"))


def test_keyness_small_multiples(study):
    keyness = study.keyness(by=["author"])
    fig = plots.plot_keyness(keyness[keyness["reference"] == "rest"], n=3)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 4  # one panel per author
    assert all(ax.get_title().endswith("vs the rest") for ax in visible)


def test_log_odds_labels_do_not_overlap(study):
    keyness = study.keyness(by=["role"])
    fig = plots.plot_log_odds(keyness, "academic", n_labels=5)
    ys = sorted(text.xyann[1] for text in fig.axes[0].texts)
    span = fig.axes[0].get_ylim()
    assert all(b - a >= 0.039 * (span[1] - span[0]) * 0.9 for a, b in zip(ys, ys[1:]))


def test_spread_keeps_extreme_and_gap():
    import numpy as np
    placed = plots._spread(np.array([3.0, 2.95, 2.9, 1.0]), gap=0.5, direction=1)
    assert placed.tolist() == [3.0, 2.5, 2.0, 1.0]


def test_large_heatmap_and_dendrogram_stay_readable_size():
    from scipy.cluster.hierarchy import linkage

    names = [f"p{i}" for i in range(plots.MAX_LABELLED + 5)]
    rng = np.random.default_rng(0)
    points = rng.random((len(names), 3))
    table = pd.DataFrame(1 - np.abs(points[:, None, 0] - points[None, :, 0]), index=names, columns=names)
    fig = plots.plot_similarity(table)
    assert max(fig.get_size_inches()) <= 12 and not fig.axes[0].get_xticklabels()
    fig = plots.plot_dendrograms([(linkage(points), "t")], names, color_by=pd.Series("g", index=names, name="g"))
    assert max(fig.get_size_inches()) <= 13


def test_a_labelled_heatmaps_group_key_sits_below_it_and_its_colour_bar_beside_it():
    names = [f"p{i}" for i in range(8)]
    square = pd.DataFrame(np.random.default_rng(1).random((8, 8)), index=names, columns=names)
    groups = pd.Series(["a", "b"] * 4, index=names, name="role")
    fig = plots.plot_similarity(square, groups=groups)
    fig.canvas.draw()
    heat, bar = fig.axes
    (key,) = fig.legends
    assert key.get_title().get_text() == "role" and [t.get_text() for t in key.get_texts()] == ["a", "b"]
    renderer = fig.canvas.get_renderer()
    heat_box, bar_box = heat.get_window_extent(renderer), bar.get_window_extent(renderer)
    assert key.get_window_extent(renderer).y1 < heat_box.y0  # under the heatmap (and its labels)
    assert 0 < bar_box.x0 - heat_box.x1 < 0.05 * fig.bbox.width  # the colour bar next to the heatmap
    plt.close(fig)


@pytest.mark.parametrize("n", [3, 10, 11, 20, 21, 45])
def test_each_group_has_a_colour_of_its_own_however_many_groups(n):
    names = [f"group {i:02d}" for i in range(n)]
    colors = plots.group_colors(names[::-1] + names[:2])  # any order, repeats: one colour per distinct value
    assert list(colors) == names
    assert len(set(colors.values())) == n
    if n <= 10:  # the seed's few groups keep tab10, in sorted order
        assert list(colors.values()) == list(plt.get_cmap("tab10").colors[:n])
    elif n <= 20:
        assert list(colors.values()) == list(plt.get_cmap("tab20").colors[:n])
    else:
        assert all(len(c) == 3 for c in colors.values())  # RGB, as the palettes give


@pytest.mark.parametrize("n", [3, 12])
def test_a_key_of_many_groups_goes_under_the_figure_not_over_the_data(n):
    pieces = pd.DataFrame({"doc_id": [f"p{i}" for i in range(24)], "words": np.arange(24) * 10 + 5,
                           "paragraphs": 2, "role": [f"g{i % n:02d}" for i in range(24)]})
    fig = plots.plot_piece_sizes(pieces)
    ax = fig.axes[0]
    if n <= plots.MAX_LEGEND_IN_AXES:
        assert ax.get_legend() is not None and not fig.legends
    else:
        assert ax.get_legend() is None
        (key,) = fig.legends
        assert [t.get_text() for t in key.get_texts()] == sorted(pieces["role"].unique())
        fig.canvas.draw()
        assert key.get_window_extent().y1 <= ax.get_window_extent().y0  # below the bars, not on them
    plt.close(fig)
    fig, ax = plt.subplots()  # a caller's axes, no layout engine to make room below: the key stays inside
    plots.plot_piece_sizes(pieces, ax=ax)
    assert ax.get_legend() is not None and not fig.legends
    plt.close(fig)


def test_tfidf_panels_tick_labels_do_not_run_together():
    rows = [{"group": g, "term": f"t{i}", "tfidf": top * (1 - i / 20), "rank": i + 1, "count": 5, "paragraphs": 3}
            for g, top in [("a", 0.037), ("b", 0.31), ("c", 0.0021)] for i in range(8)]
    fig = plots.plot_tfidf(pd.DataFrame(rows))
    fig.canvas.draw()
    for ax in fig.axes:
        boxes = sorted((t.get_window_extent() for t in ax.get_xticklabels() if t.get_visible() and t.get_text()),
                       key=lambda b: b.x0)
        assert len(boxes) >= 2
        assert all(left.x1 < right.x0 for left, right in zip(boxes, boxes[1:])), ax.get_title()
    plt.close(fig)


def test_block_means_by_hand():
    values = np.arange(25, dtype=float).reshape(5, 5)
    values[0, 0] = np.nan
    shrunk, step = plots.block_means(values, 3)  # 5 rows in at most 3: blocks of 2, the last of 1
    assert step == 2 and shrunk.shape == (3, 3)
    assert shrunk[0, 0] == (1 + 5 + 6) / 3  # the NaN left out
    assert shrunk[0, 2] == (4 + 9) / 2 and shrunk[2, 2] == 24
    same, step = plots.block_means(values, 5)
    assert step == 1 and same is values


@pytest.mark.parametrize("size, most", [(10, 3), (11, 4), (9, 9), (7, 20)])
def test_block_means_in_an_order_without_the_diagonal_equal_those_of_the_reordered_copy(size, most):
    rng = np.random.default_rng(size)
    values = rng.random((size, size))
    values[rng.random((size, size)) < 0.1] = np.nan
    order = rng.permutation(size)
    copy = values[np.ix_(order, order)]
    np.fill_diagonal(copy, np.nan)
    expected, step = plots.block_means(copy, most)
    got, got_step = plots.block_means(values, most, order=order, diagonal=False)
    assert got_step == step and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert np.isnan(got).tolist() == np.isnan(expected).tolist()


def test_a_heatmap_of_thousands_of_pieces_shows_block_means(monkeypatch):
    monkeypatch.setattr(plots, "MAX_CELLS", 40)
    names = [f"p{i}" for i in range(100)]
    table = pd.DataFrame(np.random.default_rng(2).random((100, 100)), index=names, columns=names)
    fig = plots.plot_similarity(table)
    ax = fig.axes[0]
    bands = ax.get_images()
    assert len(bands) == plots.IMAGE_BANDS  # drawn a band of rows at a time
    stacked = np.concatenate([band.get_array() for band in bands])
    assert stacked.shape == (34, 34, 4)  # blocks of 3, coloured
    assert "mean of 3 x 3 pairs" in ax.get_xlabel()
    means, _ = plots.block_means(table.to_numpy(), 40, order=np.arange(100), diagonal=False)
    scale = plt.Normalize(np.nanmin(means), np.nanmax(means))
    np.testing.assert_array_equal(stacked, plt.get_cmap("viridis")(scale(means), bytes=True))
    assert_drawn_as_one_image(fig, ax, means, cmap="viridis", norm=scale, interpolation="nearest")


def test_a_heatmap_of_thousands_of_pieces_marks_the_main_group_of_each_row_of_cells(monkeypatch):
    monkeypatch.setattr(plots, "MAX_CELLS", 40)  # 100 pieces: blocks of 3, the last of 1
    names = [f"p{i}" for i in range(100)]
    table = pd.DataFrame(np.random.default_rng(3).random((100, 100)), index=names, columns=names)
    roles = ["c", "a", "b"] + ["a"] * 46 + ["b"] * 51  # a tie in the first block; pieces 48 to 50 are a, b, b
    fig = plots.plot_similarity(table, order=names, groups=pd.Series(roles, index=names, name="role"))
    (strip,) = fig.axes[0].child_axes
    colors = plots.group_colors(roles)
    main = ["a"] + ["a"] * 15 + ["b"] * 18  # the tie to the first in sorted order; block 16 mostly b
    np.testing.assert_array_equal(strip.get_images()[0].get_array()[:, 0], [colors[g] for g in main])
    (key,) = fig.legends
    assert [t.get_text() for t in key.get_texts()] == ["a", "b"]  # c is the main group of no row
    assert "role of most pieces" in fig.axes[0].get_xlabel()
    plt.close(fig)


def assert_drawn_as_one_image(fig, ax, values, **imshow):
    """The pixels drawn are those of ``ax.imshow(values, **imshow)`` (the layout kept as drawn), at two sizes."""
    bands = ax.get_images()
    for dpi in (150, 40):  # the size saved, and a small one
        fig.set_dpi(dpi)
        fig.canvas.draw()
        fig.set_layout_engine("none")
        fig.canvas.draw()
        drawn = np.asarray(fig.canvas.buffer_rgba()).copy()
        for band in bands:
            band.set_visible(False)
        whole = ax.imshow(values, **imshow)
        fig.canvas.draw()
        assert (np.asarray(fig.canvas.buffer_rgba()) == drawn).all()
        whole.remove()
        for band in bands:
            band.set_visible(True)
    plt.close(fig)


def test_annotated_heatmaps_are_drawn_as_bands_with_matplotlibs_own_pixels():
    # coloured as bytes and drawn in bands, so that matplotlib does not scale the values to the page as floats
    rng = np.random.default_rng(4)
    groups = [f"group {i}" for i in range(40)]
    shares = pd.DataFrame([(g, t, s) for g in groups for t, s in zip(range(1, 6), rng.dirichlet(np.ones(5)))],
                          columns=["group", "topic", "share"])
    fig = plots.plot_topic_heatmap(shares, {t: f"T{t}" for t in range(1, 6)})
    ax = fig.axes[0]
    assert len(ax.get_images()) == plots.IMAGE_BANDS
    values = shares.pivot(index="group", columns="topic", values="share").to_numpy()
    assert_drawn_as_one_image(fig, ax, values, cmap="Blues", vmin=0, vmax=values.max(), aspect="auto")
    rates = pd.DataFrame(rng.random((6, 3)) * 4, index=list("abcdef"), columns=["x", "y", "z"])
    fig = plots.plot_rates(rates)
    assert_drawn_as_one_image(fig, fig.axes[0], rates.to_numpy(), cmap="Blues", aspect="auto")
    names = [f"p{i}" for i in range(12)]
    square = pd.DataFrame(rng.random((12, 12)), index=names, columns=names)
    fig = plots.plot_similarity(square, order=names)
    values = square.to_numpy().copy()
    np.fill_diagonal(values, np.nan)
    assert_drawn_as_one_image(fig, fig.axes[0], values, cmap="viridis", vmin=np.nanmin(values),
                              vmax=np.nanmax(values))


def test_many_pieces_give_figures_of_readable_size():
    n = plots.MAX_LABELLED + 40
    rng = np.random.default_rng(1)
    pieces = pd.DataFrame({"doc_id": [f"piece-{i}" for i in range(n)], "words": rng.integers(100, 5000, n),
                           "paragraphs": rng.integers(1, 40, n), "role": rng.choice(["a", "b"], n)})
    fig = plots.plot_piece_sizes(pieces, color_by="role")
    assert max(fig.get_size_inches()) <= 12 and not fig.axes[0].get_yticklabels()
    assert f"{n} pieces" in fig.axes[0].get_ylabel()
    diversity = pd.DataFrame({"doc_id": pieces["doc_id"], "tokens": pieces["words"], "ttr": rng.random(n),
                              "mattr": rng.random(n), "window": 50})
    fig = plots.plot_diversity(diversity, color_by=pieces["role"])
    assert max(fig.get_size_inches()) <= 12 and not fig.axes[1].get_yticklabels()
    # a small corpus keeps a labelled bar per piece
    fig = plots.plot_piece_sizes(pieces.head(5), color_by="role")
    assert len(fig.axes[0].get_yticklabels()) == 5


def test_variant_figure_draws_the_groups_with_most_uses():
    groups = [f"file-{i:02d}" for i in range(40)]
    usage = pd.DataFrame({"concept": "grassroots", "variant": ["grassroots", "primary-level"] * 40,
                          "group": [g for g in groups for _ in range(2)],
                          "count": [c for i in range(40) for c in (i + 1, 1)]})
    fig = plots.plot_variants(usage, max_groups=5)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert sorted(labels) == groups[-5:]  # the five files with the most uses
    assert max(fig.get_size_inches()) < 12
    matplotlib.pyplot.close(fig)
    fig = plots.plot_variants(usage)
    assert len(fig.axes[0].get_yticklabels()) == plots.MAX_VARIANT_GROUPS
    matplotlib.pyplot.close(fig)


@pytest.mark.parametrize("n", [4, 25])
def test_a_variant_panels_key_sits_just_under_its_axis_label_however_many_groups(n):
    usage = pd.DataFrame({"concept": "grassroots", "variant": ["grassroots", "primary-level"] * n,
                          "group": [f"file-{i:02d}" for i in range(n) for _ in range(2)], "count": 2})
    fig = plots.plot_variants(usage)
    fig.canvas.draw()
    ax = fig.axes[0]
    label, key = ax.xaxis.label.get_window_extent(), ax.get_legend().get_window_extent()
    gap = (label.y0 - key.y1) / fig.dpi  # inches
    assert 0 <= gap < 0.2, gap  # below the label, not on it, and not far off
    plt.close(fig)


def test_dendrograms_of_many_pieces_show_each_leafs_group_under_the_leaves(monkeypatch):
    from scipy.cluster.hierarchy import dendrogram, linkage

    n = 90
    names = [f"p{i:02d}" for i in range(n)]
    rng = np.random.default_rng(4)
    roles = pd.Series(rng.choice(["x", "y", "z"], n), index=names, name="role")
    trees = [(linkage(rng.random((n, 3)), "average"), "topic"), (linkage(rng.random((n, 3)), "average"), "style")]
    fig = plots.plot_dendrograms(trees, names, color_by=roles)
    colors = plots.group_colors(roles)
    for ax, (matrix, _) in zip(fig.axes, trees):
        (strip,) = ax.child_axes
        leaves = dendrogram(matrix, no_plot=True)["leaves"]
        np.testing.assert_array_equal(strip.get_images()[0].get_array()[0], [colors[roles.iloc[i]] for i in leaves])
        assert "each piece's role" in ax.get_title()
    (key,) = fig.legends
    assert [t.get_text() for t in key.get_texts()] == ["x", "y", "z"]
    plt.close(fig)
    monkeypatch.setattr(plots, "MAX_CELLS", 30)  # 90 leaves: blocks of 3, each coloured by its main group
    fig = plots.plot_dendrograms(trees[:1], names, color_by=roles)
    (strip,) = fig.axes[0].child_axes
    leaves = roles.iloc[dendrogram(trees[0][0], no_plot=True)["leaves"]].to_numpy()
    main = [pd.Series(leaves[i:i + 3]).value_counts().sort_index().idxmax() for i in range(0, n, 3)]
    np.testing.assert_array_equal(strip.get_images()[0].get_array()[0], [colors[g] for g in main])
    assert "most of each 3 neighbouring pieces" in fig.axes[0].get_title()
    plt.close(fig)
