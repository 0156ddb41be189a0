"""What a notebook needs to open a study from its parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from . import config
from .corpus import Corpus, load_corpus
from .report import check_by, default_by
from .text import Settings, TextPipeline


@dataclass
class Study:
    """A corpus with the run's parameters: output folder, grouping columns, seed, text settings."""

    corpus: Corpus
    out_dir: Path
    by: list[str]
    seed: int = 0
    settings: Settings = field(default_factory=Settings)

    @cached_property
    def pipeline(self) -> TextPipeline:
        return TextPipeline(self.settings)

    @cached_property
    def tokens(self) -> pd.DataFrame:
        """The token table of every paragraph (see :meth:`TextPipeline.token_table`)."""
        return self.pipeline.token_table(self.corpus.paragraphs)

    @property
    def pieces(self) -> pd.DataFrame:
        return self.corpus.pieces


def open_study(manifest: str | Path | None = None, out_dir: str | Path | None = None,
               by: list[str] | None = None, seed: int = 0, **settings) -> Study:
    """Open a study from a notebook's parameters (None means the project's default).

    Parameters
    ----------
    manifest : str or Path, optional
        Corpus manifest; default ``data/corpus.csv``.
    out_dir : str or Path, optional
        Where tables and figures go; default ``build/interactive``.
    by : list of str, optional
        Grouping columns; default ``author`` and ``role``.
    seed : int
    **settings
        Fields of :class:`~discourselab.text.Settings`.
    """
    corpus = load_corpus(config.resolve(manifest, config.DEFAULT_MANIFEST))
    by = check_by(list(by), corpus) if by else default_by(corpus)
    out = config.resolve(out_dir, config.DEFAULT_OUT)
    config.out_paths(out)
    return Study(corpus, out, by, int(seed), Settings(**settings))
