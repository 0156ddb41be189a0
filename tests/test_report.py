"""The report pipeline end to end, its atomic output, and the command line."""

from __future__ import annotations

import json

import nbformat
import pytest

from conftest import PROJECT, SEED_MANIFEST, edit_manifest
from discourselab import CorpusError, load_corpus
from discourselab.cli import main
from discourselab.render import write_index
from discourselab.report import check_by, find_notebooks, run_study

NOTEBOOKS = [p.stem for p in find_notebooks()]


@pytest.fixture(scope="module")
def mini_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "mini"
    manifest = PROJECT / "tests" / "fixtures" / "mini" / "corpus.csv"
    run_study(manifest, out, seed=3, progress=False)
    return out


def test_run_writes_everything(mini_run):
    for name in ("pieces", "paragraphs", "audit"):
        assert (mini_run / "tables" / f"{name}.csv").is_file()
    for stem in NOTEBOOKS:
        notebook = nbformat.read(mini_run / "notebooks" / f"{stem}.ipynb", as_version=4)
        errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
        assert not errors
        assert (mini_run / "notebooks" / f"{stem}.html").is_file()
    pngs = sorted(p.stem for p in (mini_run / "figures").glob("*.png"))
    assert pngs and pngs == sorted(p.stem for p in (mini_run / "figures").glob("*.svg"))
    assert not list(mini_run.parent.glob(".mini.*")), "temporary folder left behind"


def test_index_links_notebooks_in_order(mini_run):
    index = (mini_run / "notebooks" / "index.html").read_text()
    positions = [index.index(f'href="{stem}.html"') for stem in NOTEBOOKS]
    assert positions == sorted(positions)


def test_html_is_offline(mini_run):
    for page in (mini_run / "notebooks").glob("*.html"):
        html = page.read_text()
        assert "<script src=\"http" not in html and "cdnjs" not in html, page.name


def test_run_json(mini_run):
    record = json.loads((mini_run / "run.json").read_text())
    assert set(record["inputs"]) == {"corpus.csv", "exclusions.csv", "texts/a.txt", "texts/b.txt", "texts/c.txt"}
    assert all(len(digest) == 64 for digest in record["inputs"].values())
    assert record["parameters"]["by"] == ["author", "role"]
    assert record["parameters"]["seed"] == 3
    assert {"pandas", "scikit-learn", "discourselab", "python"} <= set(record["versions"])
    assert "corpus tables" in record["steps_seconds"]
    assert all(f"notebook {stem}" in record["steps_seconds"] for stem in NOTEBOOKS)


def test_seed_study_runs(tmp_path):
    out = run_study(SEED_MANIFEST, tmp_path / "seed", progress=False)
    assert (out / "notebooks" / "index.html").is_file()
    assert len((out / "tables" / "pieces.csv").read_text().splitlines()) > 11


@pytest.fixture
def failing_notebooks(tmp_path):
    folder = tmp_path / "nbs"
    folder.mkdir()
    (folder / "01-fail.py").write_text('# %% tags=["parameters"]\nmanifest = None\n\n# %%\nraise RuntimeError("boom")\n')
    return folder


def test_failed_run_leaves_nothing(tmp_path, mini_manifest, failing_notebooks):
    out = tmp_path / "runs" / "study"
    with pytest.raises(Exception, match="boom"):
        run_study(mini_manifest, out, notebooks_dir=failing_notebooks, progress=False)
    assert not (tmp_path / "runs").exists()


def test_failed_run_keeps_previous_output(tmp_path, mini_manifest, failing_notebooks):
    out = tmp_path / "study"
    out.mkdir()
    (out / "previous.txt").write_text("earlier complete run")
    with pytest.raises(Exception, match="boom"):
        run_study(mini_manifest, out, notebooks_dir=failing_notebooks, progress=False)
    assert (out / "previous.txt").read_text() == "earlier complete run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nbs", "study"]


def test_bad_manifest_writes_nothing(tmp_path, mini_copy):
    edit_manifest(mini_copy, 0, start="not there")
    with pytest.raises(CorpusError, match="start marker"):
        run_study(mini_copy, tmp_path / "out" / "study", progress=False)
    assert not (tmp_path / "out").exists()


def test_unknown_group_column(mini_manifest):
    with pytest.raises(CorpusError, match="no column 'gender' to group by"):
        check_by(["gender"], load_corpus(mini_manifest))


def test_index_escapes_text(tmp_path, mini_manifest):
    (tmp_path / "notebooks").mkdir()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# <script>alert(1)</script>\nA & B")])
    nbformat.write(notebook, tmp_path / "notebooks" / "01-x.ipynb")
    html = write_index(tmp_path, load_corpus(mini_manifest)).read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "A &amp; B" in html


def test_cli_manifest_and_errors(tmp_path, capsys):
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "one.txt").write_text("A title\nSome text.\n")
    assert main(["manifest", str(folder)]) == 0
    assert (folder / "corpus.csv").is_file()
    assert main(["run", "--corpus", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "manifest not found" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
