"""Figures. Plot functions draw and return a Figure; they never save or show.

Save with :func:`discourselab.io.save_figure`.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import ScaledTranslation

PALETTE = plt.get_cmap("tab10").colors
#: Above this many pieces, heatmaps and dendrograms leave out piece labels (they could not be read).
MAX_LABELLED = 60
#: The glossary-variant figure draws at most this many groups (those with the most uses).
MAX_VARIANT_GROUPS = 25
#: Inches between the bottom of a glossary-variant panel and the top of its key (room for the axis label).
VARIANT_KEY_GAP = 0.45
#: A heatmap of more pieces than this shows block means (the figure has about this many pixels a side).
MAX_CELLS = 1000
#: A heatmap of block means is drawn as this many bands of rows, each an image of its own.
IMAGE_BANDS = 8
#: A key of more groups than this goes under the figure, not inside the axes.
MAX_LEGEND_IN_AXES = 10


def group_colors(values) -> dict[str, tuple]:
    """A stable colour for each distinct value, in sorted order; no two values share one.

    Up to ten values take matplotlib's ``tab10``, up to twenty ``tab20`` (its
    ten hues, each dark and light); beyond that, hues evenly spaced around
    ``hsv``: each value keeps a colour of its own, though neighbours in sorted
    order differ less (read such a figure with its key, or group more coarsely).
    """
    distinct = sorted(set(values))
    if len(distinct) <= len(PALETTE):
        colors = PALETTE
    elif len(distinct) <= 20:
        colors = plt.get_cmap("tab20").colors
    else:
        colors = [tuple(c[:3]) for c in plt.get_cmap("hsv")(np.arange(len(distinct)) / len(distinct))]
    return dict(zip(distinct, colors))


def wrap(label: str, width: int = 28) -> str:
    """Wrap a long label on word boundaries."""
    return "\n".join(textwrap.wrap(str(label), width)) or str(label)


def _axes(ax, figsize):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def _swatches(colors: dict) -> list[Line2D]:
    """A square of each group's colour, for a legend of ``colors`` (group -> colour)."""
    return [Line2D([], [], marker="s", ls="", color=c, markersize=9) for c in colors.values()]


def _legend(ax, colors: dict, title: str, loc="lower right") -> None:
    """The groups' colours in the axes; more than ``MAX_LEGEND_IN_AXES`` as the figure's key under it instead.

    Only a figure laid out by constrained layout (as the plot functions make
    them) makes room under its axes; on another (an ``ax`` given by the
    caller), the key stays in the axes.
    """
    if len(colors) > MAX_LEGEND_IN_AXES and isinstance(ax.figure.get_layout_engine(), ConstrainedLayoutEngine):
        _group_key(ax.figure, colors, title)  # inside, a long key would cover the data or run off the figure
    else:
        ax.legend(_swatches(colors), list(colors), title=title, loc=loc, frameon=False)


def _group_key(fig: plt.Figure, colors: dict, title: str) -> None:
    """The groups' colours as a legend under the figure's axes, up to six to a row."""
    fig.legend(_swatches(colors), list(colors), title=title, loc="outside lower center", ncol=min(len(colors), 6),
               frameon=False, fontsize=8)


def plot_piece_sizes(pieces: pd.DataFrame, *, color_by: str = "role", label: str = "doc_id",
                     ax=None) -> plt.Figure:
    """Words per piece as horizontal bars coloured by a group, paragraphs annotated.

    Parameters
    ----------
    pieces : DataFrame
        With ``words``, ``paragraphs``, ``label`` and ``color_by`` columns.
    """
    table = pieces.sort_values("words")
    colors = group_colors(table[color_by])
    labelled = len(table) <= MAX_LABELLED
    fig, ax = _axes(ax, (8, 0.38 * len(table) + 1.4 if labelled else 9))
    if labelled:
        ax.barh(table[label].map(wrap), table["words"], color=table[color_by].map(colors))
        for y, (words, paras) in enumerate(zip(table["words"], table["paragraphs"])):
            ax.text(words, y, f"  {paras} para.", va="center", fontsize=8, color="#444")
    else:  # one thin bar per piece; names and paragraph counts would not be legible
        ax.barh(np.arange(len(table)), table["words"], height=1.0, color=table[color_by].map(colors))
        ax.set_yticks([])
        ax.set_ylim(-0.5, len(table) - 0.5)
        ax.set_ylabel(f"{len(table)} pieces, smallest at the bottom (labels left out; see tables/pieces.csv)")
    ax.set_xlabel("words")
    ax.set_xlim(0, table["words"].max() * 1.18)
    ax.spines[["top", "right"]].set_visible(False)
    _legend(ax, colors, color_by)
    return fig


def plot_group_sizes(pieces: pd.DataFrame, *, by: str = "role", ax=None) -> plt.Figure:
    """Words and paragraphs per group, side by side, with the number of pieces."""
    table = (pieces.groupby(by).agg(pieces=("words", "size"), words=("words", "sum"),
                                    paragraphs=("paragraphs", "sum")).sort_values("words"))
    fig, axes = plt.subplots(1, 2, figsize=(9, 0.45 * len(table) + 1.4), sharey=True, layout="constrained")
    labels = [wrap(f"{g} (n={n})", 30) for g, n in zip(table.index, table["pieces"])]
    for ax_, column in zip(axes, ["words", "paragraphs"]):
        ax_.barh(labels, table[column], color="#4c72b0")
        ax_.set_xlabel(column)
        ax_.spines[["top", "right"]].set_visible(False)
        for y, v in enumerate(table[column]):
            ax_.text(v, y, f" {v:,}", va="center", fontsize=8)
        ax_.set_xlim(0, table[column].max() * 1.2)
    axes[0].set_ylabel(by)
    return fig


def plot_diversity(diversity: pd.DataFrame, *, color_by: pd.Series | None = None) -> plt.Figure:
    """Lexical diversity: the length effect on TTR, and pieces ranked by MATTR.

    Left: TTR (hollow) and MATTR (filled) against length, with least-squares
    lines; TTR falls with length, MATTR should not. Right: MATTR per piece.

    Parameters
    ----------
    diversity : DataFrame
        From :func:`discourselab.measure_diversity` (``doc_id``, ``tokens``,
        ``ttr``, ``mattr``, ``window``).
    color_by : Series, optional
        Group of each row, for colour.
    """
    groups = color_by if color_by is not None else pd.Series(["piece"] * len(diversity), index=diversity.index)
    colors = group_colors(groups)
    labelled = len(diversity) <= MAX_LABELLED
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 0.3 * len(diversity) + 3 if labelled else 9),
                                      layout="constrained", gridspec_kw={"width_ratios": [1, 1.1]})
    window = int(diversity["window"].iloc[0])
    point_colors = [colors[g] for g in groups]
    for column, filled, name in [("ttr", False, "type/token ratio"), ("mattr", True, f"MATTR (window {window})")]:
        left.scatter(diversity["tokens"], diversity[column], s=40, zorder=3, label=name,
                     facecolors=point_colors if filled else "none", edgecolors=point_colors)
        if len(diversity) > 2:
            slope, intercept = np.polyfit(diversity["tokens"], diversity[column], 1)
            xs = np.array([diversity["tokens"].min(), diversity["tokens"].max()])
            left.plot(xs, intercept + slope * xs, ls="--", color="#888", lw=1)
    left.set_xlabel("length (words)")
    left.set_ylabel("ratio")
    left.set_title("Length effect: TTR (hollow) falls, MATTR (filled) does not", fontsize=10)
    left.grid(alpha=0.3)
    ranked = diversity.assign(group=groups.values).sort_values("mattr")
    if labelled:
        right.scatter(ranked["mattr"], ranked["doc_id"].map(wrap), c=[colors[g] for g in ranked["group"]], s=50,
                      zorder=3)
    else:
        right.scatter(ranked["mattr"], np.arange(len(ranked)), c=[colors[g] for g in ranked["group"]], s=12, zorder=3)
        right.set_yticks([])
        right.set_ylabel(f"{len(ranked)} pieces, lowest at the bottom (labels left out; see tables/diversity.csv)")
    right.set_xlabel(f"MATTR (window {window})")
    right.set_title("Pieces ranked by MATTR", fontsize=10)
    right.grid(axis="x", alpha=0.3)
    right.spines[["top", "right"]].set_visible(False)
    _legend(right, colors, groups.name or "group", loc="lower right")
    return fig


def _grid(n_panels: int, ncols: int, panel_size: tuple[float, float]):
    ncols = max(1, min(ncols, n_panels))
    nrows = int(np.ceil(n_panels / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size[0] * ncols, panel_size[1] * nrows),
                             layout="constrained", squeeze=False)
    for ax in axes.flat[n_panels:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n_panels])


def plot_top_terms(frequencies: pd.DataFrame, *, n: int = 10, ncols: int = 3) -> plt.Figure:
    """Small multiples: the ``n`` most frequent terms of each group, as rates per 1,000 words.

    Parameters
    ----------
    frequencies : DataFrame
        From :func:`discourselab.frequency.count_terms` for one ``by`` column.
    """
    groups = sorted(frequencies["group"].unique())
    fig, axes = _grid(len(groups), ncols, (4.2, 0.24 * n + 1.1))
    for ax, group in zip(axes, groups):
        rows = frequencies[frequencies["group"] == group].nlargest(n, "per_1000").iloc[::-1]
        ax.barh(rows["term"], rows["per_1000"], color="#4c72b0")
        ax.set_title(wrap(group, 40), fontsize=10)
        ax.tick_params(axis="y", labelsize=8)
        ax.set_xlabel("per 1,000 words", fontsize=8)
        ax.spines[["top", "right"]].set_visible(False)
    return fig


def _keyness_panel(ax, rows: pd.DataFrame, measure: str, title: str) -> None:
    rows = rows.iloc[::-1]
    colors = np.where(rows[measure] > 0, "#c44e52", "#4c72b0")
    alphas = np.where(rows["significant"] & ~rows["weak"], 1.0, np.where(rows["significant"], 0.6, 0.25))
    labels = [f"{t}{' †' if w else ''}" for t, w in zip(rows["term"], rows["weak"])]
    for y, (value, color, alpha) in enumerate(zip(rows[measure], colors, alphas)):
        ax.barh(y, value, color=color, alpha=alpha, edgecolor=color, linewidth=0.8)
    ax.set_yticks(range(len(rows)), labels, fontsize=8)
    ax.axvline(0, color="#333", lw=0.8)
    ax.set_title(title, fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)


def plot_keyness(keyness: pd.DataFrame, *, groups: list[str] | None = None, reference: str = "rest",
                 n: int = 6, measure: str = "log_ratio", ncols: int = 3, alpha: float = 0.05) -> plt.Figure:
    """Small multiples of diverging bars: each group's most over- and under-used terms.

    Bars are ranked by ``measure`` (Log Ratio by default) among the terms with
    the strongest G2. Solid: q < ``alpha`` and not weak; half-tone: q <
    ``alpha`` but weak evidence (†); faint: not significant.

    Parameters
    ----------
    keyness : DataFrame
        From :func:`discourselab.keyness.compare_groups` for one ``by`` column.
    """
    from .keyness import key_terms

    groups = groups or sorted(keyness.loc[keyness["reference"] == reference, "group"].unique())
    fig, axes = _grid(len(groups), ncols, (4.3, 0.22 * 2 * n + 1.2))
    for ax, group in zip(axes, groups):
        rows = key_terms(keyness, group, reference, n=n, measure=measure, alpha=alpha)
        vs = "the rest" if reference == "rest" else reference
        _keyness_panel(ax, rows, measure, wrap(f"{group} vs {vs}", 42))
        ax.set_xlabel(measure.replace("_", " "), fontsize=8)
    fig.suptitle(f"Key terms ({measure.replace('_', ' ')}): red = used more, blue = used less; "
                 f"solid q < {alpha}, half-tone q < {alpha} but weak (†), faint not significant", fontsize=9)
    return fig


def _spread(values: np.ndarray, gap: float, direction: int) -> np.ndarray:
    """Label positions near ``values`` at least ``gap`` apart, moving away from the extreme.

    For direction +1 the highest value keeps its place and the others move down
    as needed; for -1 the lowest keeps its place and the others move up.
    """
    order = np.argsort(-direction * values, kind="stable")
    placed = values[order].astype(float)
    for i in range(1, len(placed)):
        limit = placed[i - 1] - direction * gap
        placed[i] = min(placed[i], limit) if direction > 0 else max(placed[i], limit)
    result = np.empty_like(placed)
    result[order] = placed
    return result


def plot_log_odds(keyness: pd.DataFrame, group: str, reference: str = "rest", *, n_labels: int = 8,
                  z: float = 1.96, ax=None) -> plt.Figure:
    """"Fightin' Words" plot: weighted log-odds z-score against frequency (Monroe et al. 2008).

    Each point is a term; x is its count in group and reference together (log
    scale), y its z-score. Terms beyond +/- ``z`` are coloured; the ``n_labels``
    strongest each way are labelled, with labels spread so they do not overlap.
    """
    rows = keyness[(keyness["group"] == group) & (keyness["reference"] == reference)]
    total = rows["count_group"] + rows["count_reference"]
    fig, ax = _axes(ax, (9, 6.5))
    color = np.where(rows["log_odds_z"] > z, "#c44e52", np.where(rows["log_odds_z"] < -z, "#4c72b0", "#bbbbbb"))
    ax.scatter(total, rows["log_odds_z"], c=color, s=14, alpha=0.8, lw=0)
    ax.set_xscale("log")
    ax.axhline(0, color="#555", lw=0.6)
    for bound in (z, -z):
        ax.axhline(bound, color="#999", lw=0.6, ls=":")
    ymin, ymax = rows["log_odds_z"].min(), rows["log_odds_z"].max()
    span = max(ymax - ymin, 1e-9)
    xmax = total.max() * 3
    low_label = ymin
    for direction in (1, -1):
        side = rows[direction * rows["log_odds_z"] > 0].copy()
        side = side.reindex((direction * side["log_odds_z"]).sort_values(ascending=False).index).head(n_labels)
        if side.empty:
            continue
        ys = _spread(side["log_odds_z"].to_numpy(), gap=span * 0.04, direction=direction)
        low_label = min(low_label, ys.min())
        for (_, row), y in zip(side.iterrows(), ys):
            x = row["count_group"] + row["count_reference"]
            ax.annotate(row["term"], (x, row["log_odds_z"]), xytext=(xmax, y), textcoords="data",
                        fontsize=8, va="center", arrowprops={"arrowstyle": "-", "color": "#aaa", "lw": 0.5})
    ax.set_xlim(right=xmax * 4)
    ax.set_ylim(min(ymin, low_label) - span * 0.05, ymax + span * 0.05)
    ax.set_xlabel("frequency in both (log scale)")
    ax.set_ylabel("weighted log-odds z-score")
    vs = "the rest" if reference == "rest" else reference
    ax.set_title(f"{group} vs {vs}: red above +{z}, blue below -{z}", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def plot_variants(usage: pd.DataFrame, *, ncols: int = 3, max_groups: int | None = None) -> plt.Figure:
    """Stacked bars: how each group renders each glossary concept (share of the concept's uses).

    Parameters
    ----------
    usage : DataFrame
        From :func:`discourselab.study.variant_usage`: ``concept``, ``variant``, ``group``, ``count``.
    max_groups : int, optional
        Draw only this many groups, those with the most uses of the concepts
        (ties alphabetically); default ``MAX_VARIANT_GROUPS``.
    """
    shown = usage.groupby("group")["count"].sum().sort_index().sort_values(ascending=False, kind="stable")
    usage = usage[usage["group"].isin(shown.index[:max_groups or MAX_VARIANT_GROUPS])]
    concepts = sorted(usage["concept"].unique())
    fig, axes = _grid(len(concepts), ncols, (4.3, 0.3 * usage["group"].nunique() + 1.4))
    for ax, concept in zip(axes, concepts):
        table = usage[usage["concept"] == concept].pivot_table(index="group", columns="variant", values="count",
                                                               aggfunc="sum", fill_value=0)
        shares = table.div(table.sum(axis=1), axis=0)
        left = np.zeros(len(shares))
        for i, variant in enumerate(shares.columns):
            ax.barh([wrap(g, 30) for g in shares.index], shares[variant], left=left, label=variant,
                    color=PALETTE[i % len(PALETTE)])
            left += shares[variant].to_numpy()
        for y, n in enumerate(table.sum(axis=1)):
            ax.text(1.01, y, f"n={n}", va="center", fontsize=7)
        ax.set_xlim(0, 1.15)
        ax.set_xlabel("share of the concept's uses", fontsize=8)
        ax.set_title(f"“{concept}”", fontsize=10)
        ax.tick_params(axis="y", labelsize=8)
        # under the axis label at a fixed distance, however tall the panel (a fraction of it grew with the groups)
        below = ax.transAxes + ScaledTranslation(0, -VARIANT_KEY_GAP, fig.dpi_scale_trans)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, 0), bbox_transform=below, ncol=3,
                  frameon=False)
    return fig


def plot_tfidf(distinct: pd.DataFrame, *, n: int = 8, ncols: int = 4) -> plt.Figure:
    """Small multiples: each group's top TF-IDF terms, labelled with raw count and paragraphs.

    A term found in one paragraph only is drawn faint: it is one passage, not a habit.

    Parameters
    ----------
    distinct : DataFrame
        From :func:`discourselab.similarity.distinctive_terms` for one ``by`` column.
    """
    groups = sorted(distinct["group"].unique())
    fig, axes = _grid(len(groups), ncols, (3.9, 0.26 * n + 1.0))
    for ax, group in zip(axes, groups):
        rows = distinct[distinct["group"] == group].nsmallest(n, "rank").iloc[::-1]
        single = rows["paragraphs"].fillna(0) <= 1
        ax.barh(range(len(rows)), rows["tfidf"], color=np.where(single, "#c9d3e6", "#4c72b0"))
        ax.set_yticks(range(len(rows)), [f"{t} ({c:.0f}, {p:.0f}¶)" for t, c, p in
                                         zip(rows["term"], rows["count"].fillna(0), rows["paragraphs"].fillna(0))],
                      fontsize=7.5)
        ax.set_title(wrap(group, 36), fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
        # at most five round ticks: small weights' labels (0.000 to 0.035 by 0.005) would run together
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
        ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle("TF-IDF: term (count, paragraphs ¶); faint = found in one paragraph only", fontsize=9)
    return fig


def block_means(values: np.ndarray, most: int, order: np.ndarray | None = None,
                diagonal: bool = True) -> tuple[np.ndarray, int]:
    """A square array shrunk to at most ``most`` rows and columns by averaging ``step`` x ``step`` blocks.

    Missing values (NaN) are left out of each mean, and so is the diagonal
    when ``diagonal`` is False; the last block of a side may be smaller.
    With ``order`` (positions), rows and columns are taken in that order.
    The blocks are averaged a band of ``step`` rows at a time, so no reordered
    or padded copy of the whole array is made (at 3,792 pieces, 115 MB each).
    Returns the array (unchanged when small enough and neither option is
    given) and ``step``.
    """
    size = len(values)
    step = -(-size // most)
    if step == 1 and order is None and diagonal:
        return values, 1
    at = np.arange(size) if order is None else np.asarray(order)
    cells = -(-size // step)
    sums, counts = np.zeros((cells, cells)), np.zeros((cells, cells))
    for band in range(cells):
        rows = at[band * step:(band + 1) * step]
        part = np.full((len(rows), cells * step), np.nan)
        part[:, :size] = values[rows][:, at]
        if not diagonal:  # the band's own pieces: row k is the piece at column band * step + k
            part[np.arange(len(rows)), band * step + np.arange(len(rows))] = np.nan
        blocks = part.reshape(len(rows), cells, step)
        sums[band] = np.nansum(blocks, axis=(0, 2))
        counts[band] = (~np.isnan(blocks)).sum(axis=(0, 2))
    with np.errstate(invalid="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan), step


def plot_similarity(table, *, order: list[str] | None = None, groups: pd.Series | None = None,
                    title: str = "cosine similarity", cmap: str = "viridis") -> plt.Figure:
    """Heatmap of a square similarity (or distance) table, rows in ``order``, group colours on the labels.

    ``table`` is a square DataFrame, or a column of the pairs of pieces seen as
    one (:class:`~discourselab.similarity.PairSquare`: no square is held).
    """
    order = order or list(table.index)
    at = table.index.get_indexer(order)
    if (at < 0).any():
        raise KeyError(f"not in the table: {[o for o, i in zip(order, at) if i < 0]}")
    square = table.to_numpy(dtype=float) if isinstance(table, pd.DataFrame) else table  # rows taken as needed
    # the diagonal (each piece with itself) is left out: it would swamp the scale
    if len(order) > MAX_LABELLED:
        values, step = block_means(square, MAX_CELLS, order=at, diagonal=False)
        fig, ax = plt.subplots(figsize=(10, 9), layout="constrained")
        image = _heatmap(ax, values, cmap, np.nanmin(values), np.nanmax(values))
        ax.set_xticks([])
        ax.set_yticks([])
        cells = f"; each cell the mean of {step} x {step} pairs" if step > 1 else ""
        strip = ""
        if groups is not None:
            name = groups.name or "group"
            _group_key(fig, _group_strip(ax, groups.loc[order].astype(str), step), name)
            strip = (f"\nleft: the {name} of most pieces in each row of cells" if step > 1
                     else f"\nleft: each piece's {name}")
        ax.set_xlabel(f"{len(order)} pieces in clustering order{cells} (labels left out; see tables/similarity.csv)"
                      + strip)
        fig.colorbar(image, ax=ax, shrink=0.7, label=title)
        ax.set_title(title, fontsize=10)
        return fig
    values = square[at][:, at]  # a copy, in order
    np.fill_diagonal(values, np.nan)
    size = 0.45 * len(order) + 2.5
    fig, ax = plt.subplots(figsize=(size + 1.2, size), layout="constrained")
    image = _heatmap(ax, values, cmap, np.nanmin(values), np.nanmax(values))
    ax.set_xticks(range(len(order)), order, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(order)), order, fontsize=8)
    if len(order) <= 20:
        middle = np.nanmean(values)
        for i in range(len(order)):
            for j in range(len(order)):
                if i != j:
                    ax.text(j, i, f"{values[i, j]:.2f}", ha="center", va="center", fontsize=6.5,
                            color="white" if values[i, j] < middle else "black")
    if groups is not None:
        colors = group_colors(groups.loc[order])
        for label in [*ax.get_xticklabels(), *ax.get_yticklabels()]:
            label.set_color(colors[groups[label.get_text()]])
        _group_key(fig, colors, groups.name or "group")  # below: beside the heatmap it pushed the colour bar away
    fig.colorbar(image, ax=ax, shrink=0.7, label=title)
    ax.set_title(title, fontsize=10)
    return fig


def _group_strip(ax: plt.Axes, groups: pd.Series, step: int, below: bool = False) -> dict:
    """A strip of colours beside an axes of pieces in a row: the group most of each block's ``step`` pieces have.

    ``groups`` holds the pieces' groups in the axes' order (top to bottom for
    a strip on the left, the heatmap's rows; left to right for one ``below``,
    a dendrogram's leaves); a tie goes to the group first in sorted order.
    Returns the colours of the groups shown (for :func:`_group_key`).
    """
    colors = group_colors(groups)
    codes, names = pd.factorize(groups, sort=True)
    blocks = [colors[names[np.bincount(codes[start:start + step], minlength=len(names)).argmax()]]
              for start in range(0, len(codes), step)]
    strip = ax.inset_axes([0, -0.035, 1, 0.025] if below else [-0.035, 0, 0.025, 1])
    strip.imshow(np.array([blocks] if below else [[b] for b in blocks]), aspect="auto", interpolation="nearest")
    strip.set_axis_off()
    seen = set(blocks)
    return {g: c for g, c in colors.items() if c in seen}


def _heatmap(ax: plt.Axes, values: np.ndarray, cmap, vmin: float, vmax: float, aspect: str = "equal") -> ScalarMappable:
    """``ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, aspect=aspect)`` with the same pixels, in less memory.

    The values are coloured here, as bytes, and drawn in bands of rows
    (:func:`_show_in_bands`): matplotlib would scale them to the figure's
    pixels as floats first (at 948 x 948 blocks, 181 MB traced to save the PNG
    instead of 96 MB; for a tall heatmap of 40 groups, about 90 MB). Returns
    the mapping of values to colours, for a colour bar.
    """
    image = ScalarMappable(Normalize(vmin, vmax), cmap)
    _show_in_bands(ax, image.to_rgba(values, bytes=True), IMAGE_BANDS)
    ax.set_aspect(aspect)
    return image


def _show_in_bands(ax: plt.Axes, rgba: np.ndarray, bands: int) -> None:
    """``ax.imshow(rgba, interpolation="nearest")``, drawn as ``bands`` images of a band of rows each.

    The same pixels. matplotlib resamples an image to the figure's pixels in
    float32 arrays of the whole image's size on the page (about 100 MB for a
    10 x 9 inch heatmap at 150 dpi, whatever the image's own size); a band
    needs only its own share.
    """
    rows, columns = rgba.shape[:2]
    bounds = np.unique(np.linspace(0, rows, bands + 1).round().astype(int))
    for top, bottom in zip(bounds[:-1], bounds[1:]):
        ax.imshow(rgba[top:bottom], interpolation="nearest", extent=(-0.5, columns - 0.5, bottom - 0.5, top - 0.5))
    ax.set_xlim(-0.5, columns - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)


def plot_dendrograms(linkages: list[tuple[np.ndarray, str]], labels: list[str], *, color_by: pd.Series,
                     mark_by: pd.Series | None = None) -> plt.Figure:
    """Dendrograms side by side (e.g. topic vs style), leaf labels coloured by a group.

    Of more than ``MAX_LABELLED`` pieces, the labels are left out and a strip
    under the leaves shows each piece's group (of more than ``MAX_CELLS``, the
    group of most of each few neighbouring leaves), with the groups' key below.

    Parameters
    ----------
    linkages : list of (linkage matrix, title)
    labels : list of str
        Leaf names, in the row order the linkages were computed on.
    color_by : Series
        Group of each leaf (indexed by label), for colour.
    mark_by : Series, optional
        A second grouping (e.g. source file), shown as a short tag after each label.
    """
    from scipy.cluster.hierarchy import dendrogram

    if len(labels) > MAX_LABELLED:  # each leaf's group as a strip of colours under the leaves, not as labels
        fig, axes = plt.subplots(1, len(linkages), figsize=(6.2 * len(linkages), 6), layout="constrained",
                                 squeeze=False)
        name, step, shown = color_by.name or "group", -(-len(labels) // MAX_CELLS), {}
        for ax, (matrix, title) in zip(axes[0], linkages):
            leaves = dendrogram(matrix, no_labels=True, ax=ax, color_threshold=0, above_threshold_color="#555")["leaves"]
            shown.update(_group_strip(ax, color_by.loc[np.asarray(labels)[leaves]].astype(str), step, below=True))
            strip = f"the {name} of most of each {step} neighbouring pieces" if step > 1 else f"each piece's {name}"
            ax.set_title(f"{title}\n({len(labels)} pieces; labels left out)\nunder the leaves: {strip}", fontsize=10)
            ax.spines[["top", "right"]].set_visible(False)
        _group_key(fig, dict(sorted(shown.items())), name)
        return fig
    colors = group_colors(color_by.loc[labels])
    tags = {}
    if mark_by is not None:
        codes = {v: chr(ord("A") + i) for i, v in enumerate(sorted(mark_by.unique()))}
        tags = {label: f" [{codes[mark_by[label]]}]" for label in labels}
    fig, axes = plt.subplots(1, len(linkages), figsize=(6.2 * len(linkages), 0.38 * len(labels) + 1.8),
                             layout="constrained", squeeze=False)
    for ax, (matrix, title) in zip(axes[0], linkages):
        dendrogram(matrix, labels=[f"{label}{tags.get(label, '')}" for label in labels], orientation="left",
                   ax=ax, color_threshold=0, above_threshold_color="#555", leaf_font_size=8)
        for text in ax.get_yticklabels():
            name = text.get_text().split(" [")[0]
            text.set_color(colors[color_by[name]])
        ax.set_title(title, fontsize=10)
        ax.spines[["top", "right", "left"]].set_visible(False)
    _group_key(fig, colors, color_by.name or "group")
    if mark_by is not None:
        key = "; ".join(f"[{c}] {v}" for v, c in codes.items())
        fig.suptitle(f"{mark_by.name or 'tag'} in brackets: {key}", fontsize=7)
    return fig


def plot_rates(rates: pd.DataFrame, *, title: str = "per 1,000 words") -> plt.Figure:
    """Annotated heatmap of rates: rows are terms, columns groups (a missing rate is 0)."""
    data = rates.fillna(0.0)
    values = data.to_numpy()
    fig, ax = plt.subplots(figsize=(1.3 * data.shape[1] + 3, 0.4 * data.shape[0] + 1.6), layout="constrained")
    image = _heatmap(ax, values, "Blues", values.min(), values.max(), aspect="auto")
    ax.set_xticks(range(data.shape[1]), [wrap(c, 16) for c in data.columns], fontsize=8)
    ax.set_yticks(range(data.shape[0]), data.index, fontsize=8)
    top = values.max() or 1.0
    for i in range(data.shape[0]):
        for j in range(data.shape[1]):
            value = data.iat[i, j]
            ax.text(j, i, f"{value:.1f}", ha="center", va="center", fontsize=7,
                    color="white" if value > top * 0.6 else "black")
    fig.colorbar(image, ax=ax, shrink=0.8, label=title)
    return fig


def plot_topic_diagnostics(diagnostics: pd.DataFrame, chosen: tuple[str, int] | None = None) -> plt.Figure:
    """Coherence, exclusivity and stability against k: one line per model, mean over seeds with its range.

    ``chosen`` (model, k) is ringed in every panel.
    """
    measures = [("coherence", "coherence (NPMI)"), ("exclusivity", "exclusivity"),
                ("stability", "stability (top-term overlap)")]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), layout="constrained")
    colors = group_colors(diagnostics["model"])
    for ax, (measure, title) in zip(axes, measures):
        for model, rows in diagnostics.groupby("model", sort=True):
            stats = rows.groupby("k")[measure].agg(["mean", "min", "max"])
            ax.plot(stats.index, stats["mean"], marker="o", color=colors[model], label=model.upper())
            ax.fill_between(stats.index, stats["min"], stats["max"], color=colors[model], alpha=0.18, lw=0)
            if chosen is not None and chosen[0] == model and chosen[1] in stats.index:
                ax.plot([chosen[1]], [stats.loc[chosen[1], "mean"]], marker="o", ms=15, mfc="none",
                        mec="black", mew=1.5, ls="")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("number of topics k")
        ax.set_xticks(sorted(diagnostics["k"].unique()))
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].legend(frameon=False, title="model (band: range over seeds)", fontsize=8, title_fontsize=8)
    if chosen is not None:
        fig.suptitle(f"chosen: {chosen[0].upper()} with k = {chosen[1]} (ringed)", fontsize=10)
    return fig


def plot_topic_heatmap(prevalence: pd.DataFrame, labels: dict[int, str], *, title: str = "") -> plt.Figure:
    """Groups by topics: the share of each group's text given to each topic, values printed."""
    table = prevalence.pivot(index="group", columns="topic", values="share").sort_index()
    values = table.to_numpy()
    width = max(6.0, 1.25 * values.shape[1] + 3)
    fig, ax = plt.subplots(figsize=(width, 0.42 * values.shape[0] + 2.4), layout="constrained")
    image = _heatmap(ax, values, "Blues", 0, max(values.max(), 1e-9), aspect="auto")
    ax.set_xticks(range(values.shape[1]), [wrap(labels.get(t, f"T{t}"), 16) for t in table.columns], fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks(range(values.shape[0]), table.index, fontsize=8)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            ax.text(j, i, f"{values[i, j]:.0%}", ha="center", va="center", fontsize=7.5,
                    color="white" if values[i, j] > 0.6 * values.max() else "black")
    fig.colorbar(image, ax=ax, shrink=0.7, label="share of the group's words")
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def plot_topic_prevalence(prevalence: pd.DataFrame, labels: dict[int, str], *, ncols: int | None = None) -> plt.Figure:
    """One panel per topic: each group's share as a point with its bootstrap interval.

    Groups are labelled with their number of documents (n); a group of one
    document has no interval.
    """
    topics = sorted(prevalence["topic"].unique())
    ncols = ncols or (2 if len(topics) <= 4 else 3)
    groups = sorted(prevalence["group"].unique(), key=str)
    colors = group_colors(groups)
    fig, axes = _grid(len(topics), min(ncols, len(topics)), (3.6, 0.35 * len(groups) + 1.3))
    top = np.nanmax([prevalence["ci_high"].max(), prevalence["share"].max()])
    for ax, topic in zip(axes, topics):
        rows = prevalence[prevalence["topic"] == topic].set_index("group").loc[groups]
        y = np.arange(len(groups))
        spans = rows.dropna(subset=["ci_low", "ci_high"])
        ax.hlines(y[rows.index.get_indexer(spans.index)], spans["ci_low"], spans["ci_high"], color="#888", lw=1.4)
        ax.scatter(rows["share"], y, c=[colors[g] for g in groups], s=30, zorder=3)
        ax.set_yticks(y, [f"{wrap(g, 22)} (n={n})" for g, n in zip(groups, rows["documents"])], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, top * 1.05)
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
        ax.set_title(wrap(labels.get(topic, f"T{topic}"), 40), fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
    fig.supxlabel("share of the group's words (line: 95% bootstrap interval over its n documents)", fontsize=9)
    return fig


def plot_key_term_intervals(rows: pd.DataFrame, *, robust: str = "robust",
                            title: str = "Log Ratio against the rest of the corpus (95% CI)") -> plt.Figure:
    """Key terms of each group as Log Ratio points with confidence intervals, grouped and coloured by group.

    ``rows`` has ``group``, ``term``, ``log_ratio``, ``log_ratio_low``,
    ``log_ratio_high`` and a boolean column ``robust``: filled markers for
    robust terms, hollow for the others.
    """
    groups = list(dict.fromkeys(rows["group"]))
    colors = group_colors(groups)
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(rows) + 0.45 * len(groups) + 1.2), layout="constrained")
    y, ticks, labels = 0.0, [], []
    for g in groups:
        part = rows[rows["group"] == g].sort_values("log_ratio", ascending=False)
        ax.text(-0.02, y - 0.1, g, transform=ax.get_yaxis_transform(), ha="right", va="bottom",
                fontsize=9, fontweight="bold", color=colors[g])
        y -= 0.55
        for r in part.itertuples(index=False):
            ax.hlines(y, r.log_ratio_low, r.log_ratio_high, color=colors[g], lw=1.6)
            filled = bool(getattr(r, robust))
            ax.plot(r.log_ratio, y, "o", ms=7, mec=colors[g], mfc=colors[g] if filled else "white", mew=1.5)
            ticks.append(y)
            labels.append(r.term)
            y -= 1
        y -= 0.35
    ax.set_yticks(ticks, labels, fontsize=8.5)
    ax.axvline(0, color="#999", lw=0.8)
    ax.set_xlabel("Log Ratio (binary log of the ratio of rates; 1 = twice as frequent)")
    ax.set_ylim(y + 0.5, 0.3)
    ax.spines[["top", "right", "left"]].set_visible(False)
    ax.tick_params(axis="y", length=0, pad=4)
    handles = [Line2D([], [], marker="o", ls="", mec="#333", mfc="#333", label="robust"),
               Line2D([], [], marker="o", ls="", mec="#333", mfc="white", label="not robust, or untestable")]
    ax.legend(handles=handles, frameon=False, loc="lower right", fontsize=8,
              title="evidence, leaving out any piece,\nglossary off", title_fontsize=8)
    ax.set_title(title, fontsize=10)
    return fig


def plot_grouping_tests(tests: pd.DataFrame) -> plt.Figure:
    """Within-group against between-group similarity for each grouping, one panel per measure.

    ``tests`` is the output of :func:`~discourselab.similarity.grouping_test`
    rows, with a ``p`` column: the one-sided permutation p-value for "more alike
    within groups".
    """
    measures = [("cosine", "TF-IDF cosine (higher = more alike)"), ("delta", "Burrows' Delta (lower = more alike)")]
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.5 * tests["column"].nunique() + 1.6), layout="constrained")
    for ax, (value, title) in zip(axes, measures):
        part = tests[tests["value"] == value].reset_index(drop=True)
        y = np.arange(len(part))
        ax.hlines(y, part["within"], part["between"], color="#bbb", lw=2)
        ax.plot(part["between"], y, "o", ms=8, mfc="white", mec="#555", mew=1.5, label="pairs in different groups")
        ax.plot(part["within"], y, "o", ms=8, color="#1f77b4", label="pairs in the same group")
        for yi, r in zip(y, part.itertuples(index=False)):
            ax.annotate(f"p = {r.p:.3f}", (max(r.within, r.between), yi), xytext=(8, 0),
                        textcoords="offset points", va="center", fontsize=8)
        ax.set_yticks(y, [f"same {c}" for c in part["column"]], fontsize=9)
        ax.set_ylim(len(part) - 0.4, -0.6)
        low, high = part[["within", "between"]].min().min(), part[["within", "between"]].max().max()
        ax.set_xlim(low - 0.1 * (high - low), high + 0.35 * (high - low))
        ax.set_title(title, fontsize=10)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].legend(frameon=False, fontsize=8, loc="lower left", bbox_to_anchor=(0, 1.08), ncols=2)
    return fig
