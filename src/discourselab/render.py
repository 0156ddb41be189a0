"""The study's front page, ``DIR/notebooks/index.html``: plain, offline, escaped."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from . import config
from .corpus import Corpus

#: Figures whose name starts with this prefix are shown on the front page.
HEADLINE_PREFIX = "headline-"
#: Optional file beside the manifest: a ``# title`` line, then the study's questions (Markdown).
STUDY_FILE = "study.md"
#: Written by the findings notebook into the run's folder: title, abstract, headline captions.
SUMMARY_FILE = "summary.json"
DEFAULT_TITLE = "Comparative discourse study"
DEFAULT_QUESTIONS = ("Which concepts distinguish each group and each author, which topics each emphasizes, "
                     "and how far are apparent differences a matter of translation rather than of the authors?")


def read_study_text(folder: str | Path) -> tuple[str, str]:
    """The study's title and questions from ``study.md`` in ``folder`` (defaults when there is none)."""
    path = Path(folder) / STUDY_FILE
    if not path.is_file():
        return DEFAULT_TITLE, DEFAULT_QUESTIONS
    title, body = DEFAULT_TITLE, []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# ") and title == DEFAULT_TITLE and not body:
            title = line[2:].strip()
        else:
            body.append(line)
    return title, "\n".join(body).strip() or DEFAULT_QUESTIONS


def write_summary(out_dir: str | Path, title: str, abstract: str, headlines: list[tuple[str, str]]) -> Path:
    """Write ``OUT/summary.json``: the title, abstract and (figure name, caption) pairs of the headline figures."""
    path = Path(out_dir) / SUMMARY_FILE
    data = {"title": title, "abstract": abstract,
            "headlines": [{"figure": name, "caption": caption} for name, caption in headlines]}
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def read_summary(out_dir: str | Path) -> dict:
    """``OUT/summary.json`` if the findings notebook wrote one, else an empty summary."""
    path = Path(out_dir) / SUMMARY_FILE
    if not path.is_file():
        return {"title": DEFAULT_TITLE, "abstract": "", "headlines": []}
    return json.loads(path.read_text(encoding="utf-8"))


def _plain(markdown: str) -> str:
    """Markdown emphasis marks removed, for plain-text captions."""
    return markdown.replace("**", "").replace("*", "")

_STYLE = """
body { font-family: Georgia, 'Times New Roman', serif; max-width: 52rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.5; color: #222; }
h1 { font-size: 1.8rem; margin-bottom: .2rem; } h2 { margin-top: 2rem; }
.meta { color: #555; } li { margin: .5rem 0; } figure { margin: 1.5rem 0; }
figure img { max-width: 100%; border: 1px solid #ddd; } figcaption { color: #444; font-size: .95rem; }
"""


def notebook_summary(path: Path) -> tuple[str, str]:
    """Title (first heading) and one-line description (first plain line) of a notebook."""
    import nbformat  # here, so that notebooks importing this module do not pay for it

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


def write_index(out_dir: str | Path, corpus: Corpus, title: str | None = None,
                abstract: str | None = None) -> Path:
    """Write ``OUT/notebooks/index.html``: title, abstract, the notebooks in order, the headline figures.

    Parameters
    ----------
    out_dir : str or Path
        The run's output folder (with ``notebooks/`` and ``figures/``).
    corpus : Corpus
        For the one-line description of the corpus.
    title, abstract : str, optional
        Default: those of ``OUT/summary.json`` (written by the findings
        notebook). Plain text; escaped.

    The headline figures are the ``headline-*.png`` figures, captioned from the
    summary where it has a caption for them.
    """
    folders = config.out_paths(out_dir)
    summary = read_summary(out_dir)
    title = title or summary["title"]
    abstract = _plain(abstract if abstract is not None else summary["abstract"])
    captions = {h["figure"]: _plain(h["caption"]) for h in summary["headlines"]}
    pieces = corpus.pieces
    facts = (f"{len(pieces)} pieces by {pieces['author'].nunique()} authors, "
             f"{int(pieces['words'].sum()):,} words; manifest {corpus.manifest_path.name}.")
    items = []
    for path in sorted(folders[config.NOTEBOOKS].glob("*.ipynb")):
        name, line = notebook_summary(path)
        items.append(f'<li><a href="{escape(path.stem)}.html">{escape(name)}</a>'
                     f"{' — ' + escape(_plain(line)) if line else ''}</li>")
    figures = []
    for png in sorted(folders[config.FIGURES].glob(f"{HEADLINE_PREFIX}*.png")):
        caption = captions.get(png.stem, png.stem.removeprefix(HEADLINE_PREFIX).replace("-", " ").capitalize())
        figures.append(f'<figure><img src="../{config.FIGURES}/{escape(png.name)}" alt="{escape(caption)}">'
                       f"<figcaption>{escape(caption)}.</figcaption></figure>")
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


README_START = "<!-- findings:start -->"
README_END = "<!-- findings:end -->"


def replace_between(path: str | Path, start: str, end: str, body: str) -> bool:
    """Replace the text between the marker lines ``start`` and ``end`` of a file with ``body``.

    Returns False (and changes nothing) when the file lacks either marker.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if start not in text or end not in text:
        return False
    head, rest = text.split(start, 1)
    path.write_text(f"{head}{start}\n{body}\n{end}{rest.split(end, 1)[1]}", encoding="utf-8")
    return True


def update_readme(readme: str | Path, out_dir: str | Path, figures_path: str = "figures") -> bool:
    """Replace the part of a README between the findings markers with the run's abstract and headline figures.

    Returns False (and changes nothing) when the README has no markers or the run no summary.
    """
    summary = read_summary(out_dir)
    if not summary["abstract"]:
        return False
    lines = ["", summary["abstract"], ""]
    for h in summary["headlines"]:
        lines += [f"![{_plain(h['caption'])}]({figures_path}/{h['figure']}.png)", "", f"*{_plain(h['caption'])}.*", ""]
    return replace_between(readme, README_START, README_END, "\n".join(lines))
