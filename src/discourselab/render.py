"""The study's front page, ``DIR/notebooks/index.html``: plain, offline, escaped."""

from __future__ import annotations

from html import escape
from pathlib import Path

import nbformat

from . import config
from .corpus import Corpus

#: Figures whose name starts with this prefix are shown on the front page.
HEADLINE_PREFIX = "headline-"

_STYLE = """
body { font-family: Georgia, 'Times New Roman', serif; max-width: 52rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.5; color: #222; }
h1 { font-size: 1.8rem; margin-bottom: .2rem; } h2 { margin-top: 2rem; }
.meta { color: #555; } li { margin: .5rem 0; } figure { margin: 1.5rem 0; }
figure img { max-width: 100%; border: 1px solid #ddd; } figcaption { color: #444; font-size: .95rem; }
"""


def notebook_summary(path: Path) -> tuple[str, str]:
    """Title (first heading) and one-line description (first plain line) of a notebook."""
    notebook = nbformat.read(path, as_version=4)
    title, line = path.stem, ""
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        for text in cell.source.splitlines():
            text = text.strip()
            if text.startswith("#") and title == path.stem:
                title = text.lstrip("#").strip()
            elif text and not text.startswith("#") and not line:
                line = text
        if line:
            break
    return title, line


def write_index(out_dir: str | Path, corpus: Corpus, title: str = "Comparative discourse study",
                abstract: str = "") -> Path:
    """Write ``OUT/notebooks/index.html`` linking the rendered notebooks in order.

    Parameters
    ----------
    out_dir : str or Path
        The run's output folder (with ``notebooks/`` and ``figures/``).
    corpus : Corpus
        For the one-line description of the corpus.
    title, abstract : str
        Page title and an optional abstract (plain text; escaped).
    """
    folders = config.out_paths(out_dir)
    pieces = corpus.pieces
    facts = (f"{len(pieces)} pieces by {pieces['author'].nunique()} authors, "
             f"{int(pieces['words'].sum()):,} words; manifest {corpus.manifest_path.name}.")
    items = []
    for path in sorted(folders[config.NOTEBOOKS].glob("*.ipynb")):
        name, line = notebook_summary(path)
        items.append(f'<li><a href="{escape(path.stem)}.html">{escape(name)}</a>'
                     f"{' — ' + escape(line) if line else ''}</li>")
    figures = []
    for png in sorted(folders[config.FIGURES].glob(f"{HEADLINE_PREFIX}*.png")):
        caption = png.stem.removeprefix(HEADLINE_PREFIX).replace("-", " ")
        figures.append(f'<figure><img src="../{config.FIGURES}/{escape(png.name)}" alt="{escape(caption)}">'
                       f"<figcaption>{escape(caption.capitalize())}</figcaption></figure>")
    html = "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f"<title>{escape(title)}</title>", f"<style>{_STYLE}</style>", "</head>", "<body>",
        f"<h1>{escape(title)}</h1>", f'<p class="meta">{escape(facts)}</p>',
        f"<p>{escape(abstract)}</p>" if abstract else "",
        "<h2>Notebooks</h2>", "<ol>", *items, "</ol>",
        *(["<h2>Headline figures</h2>", *figures] if figures else []),
        "</body>", "</html>", "",
    ])
    target = folders[config.NOTEBOOKS] / "index.html"
    target.write_text(html, encoding="utf-8")
    return target
