"""Figures. Plot functions draw and return a Figure; they never save or show.

Save with :func:`discourselab.io.save_figure`.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

PALETTE = plt.get_cmap("tab10").colors


def group_colors(values) -> dict[str, tuple]:
    """A stable colour for each distinct value, in sorted order."""
    return {v: PALETTE[i % len(PALETTE)] for i, v in enumerate(sorted(set(values)))}


def wrap(label: str, width: int = 28) -> str:
    """Wrap a long label on word boundaries."""
    return "\n".join(textwrap.wrap(str(label), width)) or str(label)


def _axes(ax, figsize):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def _legend(ax, colors: dict, title: str, loc="lower right") -> None:
    handles = [Line2D([], [], marker="s", ls="", color=c, markersize=9) for c in colors.values()]
    ax.legend(handles, list(colors), title=title, loc=loc, frameon=False)


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
    fig, ax = _axes(ax, (8, 0.38 * len(table) + 1.4))
    ax.barh(table[label].map(wrap), table["words"], color=table[color_by].map(colors))
    for y, (words, paras) in enumerate(zip(table["words"], table["paragraphs"])):
        ax.text(words, y, f"  {paras} para.", va="center", fontsize=8, color="#444")
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
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 0.3 * len(diversity) + 3), layout="constrained",
                                      gridspec_kw={"width_ratios": [1, 1.1]})
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
    right.scatter(ranked["mattr"], ranked["doc_id"].map(wrap), c=[colors[g] for g in ranked["group"]], s=50, zorder=3)
    right.set_xlabel(f"MATTR (window {window})")
    right.set_title("Pieces ranked by MATTR", fontsize=10)
    right.grid(axis="x", alpha=0.3)
    right.spines[["top", "right"]].set_visible(False)
    _legend(right, colors, groups.name or "group", loc="lower right")
    return fig
