"""The report pipeline end to end, its atomic output, and the command line."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from conftest import PROJECT, SEED_MANIFEST, edit_manifest
from discourselab import CorpusError, load_corpus
from discourselab.cli import main
from discourselab.render import (README_END, README_START, read_study_text, read_summary, update_readme, write_index,
                                 write_summary)
from discourselab.report import check_by, find_notebooks, publish, run_study

NOTEBOOKS = [p.stem for p in find_notebooks()]


@pytest.fixture(scope="module")
def mini_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "mini"
    manifest = PROJECT / "tests" / "fixtures" / "mini" / "corpus.csv"
    run_study(manifest, out, seed=3, progress=False, jobs=2)  # notebooks two at a time
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
    assert record["parameters"]["seed"] == 3 and record["parameters"]["jobs"] == 2
    assert 0 < record["total_seconds"] <= sum(record["steps_seconds"].values()) + 60  # wall time, not a sum
    assert {"pandas", "scikit-learn", "discourselab", "python"} <= set(record["versions"])
    assert "corpus tables" in record["steps_seconds"]
    assert all(f"notebook {stem}" in record["steps_seconds"] for stem in NOTEBOOKS)
    # when each step began: a notebook only after what it needs (the findings after keyness, similarity and topics)
    began, took = record["steps_started"], record["steps_seconds"]
    assert list(began) == list(took) and min(began.values()) >= 0
    for needed in ("02-term-frequencies", "03-distinctive-vocabulary", "04-topics"):
        assert began["notebook 00-findings"] >= began[f"html {needed}"] + took[f"html {needed}"] - 0.002  # rounding


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


def test_a_run_parses_the_corpus_in_another_process(tmp_path, mini_copy, monkeypatch):
    import pandas as pd

    from discourselab import report

    monkeypatch.setenv("DISCOURSELAB_CACHE", str(tmp_path / "cache"))
    corpus = report.load_apart(mini_copy)
    assert not corpus._store.holds("paragraphs")  # its pieces came back; the rest is read from the cache
    assert any((tmp_path / "cache").glob("paragraphs-*"))
    monkeypatch.setenv("DISCOURSELAB_CACHE", "off")
    here = load_corpus(mini_copy)
    pd.testing.assert_frame_equal(corpus.pieces, here.pieces)
    pd.testing.assert_frame_equal(corpus.paragraphs, here.paragraphs)
    pd.testing.assert_frame_equal(corpus.audit, here.audit)
    assert report.load_apart(mini_copy)._store.holds("paragraphs")  # without a cache: loaded here, kept
    # bad input: the same error, from the other process
    monkeypatch.setenv("DISCOURSELAB_CACHE", str(tmp_path / "cache"))
    edit_manifest(mini_copy, 0, start="not there")
    with pytest.raises(CorpusError, match="start marker") as apart:
        report.load_apart(mini_copy)
    with pytest.raises(CorpusError) as here:
        load_corpus(mini_copy)
    assert str(apart.value) == str(here.value)


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


def test_cli_count(tmp_path, mini_manifest, mini_copy, capsys):
    import pandas as pd

    out = tmp_path / "counts.csv"
    assert main(["count", "--corpus", str(mini_manifest), "--out", str(out), "--by", "role", "--quiet"]) == 0
    table = pd.read_csv(out)
    assert list(table.columns) == ["by", "group", "term", "count", "per_1000"] and set(table["by"]) == {"role"}
    assert "wrote" in capsys.readouterr().out
    # a bad text file: one clear message, and the earlier file is left as it was
    before = out.read_bytes()
    (mini_copy.parent / "texts" / "c.txt").write_bytes(b"Cy Scholar\nGovernance \xff\xfe here\n")
    assert main(["count", "--corpus", str(mini_copy), "--out", str(out), "--quiet"]) == 2
    assert "c.txt" in capsys.readouterr().err
    assert out.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["counts.csv", "mini"]


def test_two_runs_give_identical_tables(mini_run, tmp_path, monkeypatch):
    monkeypatch.setenv("DISCOURSELAB_CACHE", "off")  # recompute everything: the same tables must come out
    # ... and one notebook at a time, where the first run had two at once
    again = run_study(PROJECT / "tests" / "fixtures" / "mini" / "corpus.csv", tmp_path / "again", seed=3,
                      progress=False, jobs=1)
    first = sorted(p.name for p in (mini_run / "tables").glob("*.csv"))
    assert first == sorted(p.name for p in (again / "tables").glob("*.csv"))
    assert {"keyness.csv", "topics.csv", "topic_prevalence.csv", "similarity.csv"} <= set(first)
    for name in first:
        assert (mini_run / "tables" / name).read_bytes() == (again / "tables" / name).read_bytes(), name
    assert (mini_run / "summary.json").read_bytes() == (again / "summary.json").read_bytes()


def test_findings_summary_feeds_the_front_page(mini_run):
    summary = read_summary(mini_run)
    assert summary["title"] == "Comparative discourse study"  # the fixture has no study.md
    assert "4 pieces by 4 authors" in summary["abstract"]
    assert {h["figure"] for h in summary["headlines"]} == {p.stem for p in (mini_run / "figures").glob("headline-*.png")}
    index = (mini_run / "notebooks" / "index.html").read_text()
    assert "4 pieces by 4 authors" in index and "<figcaption>" in index
    assert "*" not in index.split("<body>")[1].split("<h2>")[0]  # Markdown emphasis removed from the abstract
    findings = nbformat.read(mini_run / "notebooks" / "00-findings.ipynb", as_version=4)
    text = " ".join(str(o.get("data", {}).get("text/markdown", "")) for c in findings.cells
                    if c.cell_type == "code" for o in c.outputs)
    assert "too few for a topic model" in text or "below the minimum" in text
    assert "of these rests on weak evidence" in text and "0 of these" not in text  # "none", not "0"; one rests


def test_study_text(tmp_path):
    assert read_study_text(tmp_path)[0] == "Comparative discourse study"
    (tmp_path / "study.md").write_text("# My study\n\nWhat do they say?\n", encoding="utf-8")
    assert read_study_text(tmp_path) == ("My study", "What do they say?")


def test_readme_section_and_publish(mini_run, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Project\n\n{README_START}\nold text\n{README_END}\n\n## Rest\n", encoding="utf-8")
    publish(mini_run, notebooks_dir=tmp_path / "notebooks", figures_dir=tmp_path / "figures", readme=readme)
    text = readme.read_text(encoding="utf-8")
    assert "old text" not in text and text.startswith("# Project") and text.endswith("## Rest\n")
    assert read_summary(mini_run)["abstract"] in text
    linked = [line.split("](")[1].rstrip(")") for line in text.splitlines() if line.startswith("![")]
    assert linked and all((tmp_path / link).is_file() for link in linked)
    for stem in NOTEBOOKS:
        notebook = nbformat.read(tmp_path / "notebooks" / f"{stem}.ipynb", as_version=4)
        assert not [c for c in notebook.cells if "injected-parameters" in c.metadata.get("tags", [])]
    # no markers: nothing changes
    plain = tmp_path / "PLAIN.md"
    plain.write_text("# Nothing to replace\n", encoding="utf-8")
    assert update_readme(plain, mini_run) is False and plain.read_text() == "# Nothing to replace\n"


def test_summary_round_trip(tmp_path):
    write_summary(tmp_path, "T <1>", "An abstract.", [("headline-x", "A caption")])
    assert read_summary(tmp_path) == {"title": "T <1>", "abstract": "An abstract.",
                                      "headlines": [{"figure": "headline-x", "caption": "A caption"}]}


def test_summary_notebook_runs_last():
    from pathlib import Path

    from discourselab.report import execution_order

    names = [Path(n) for n in ("00-findings.py", "01-corpus.py", "02-terms.py")]
    assert [p.name for p in execution_order(names)] == ["01-corpus.py", "02-terms.py", "00-findings.py"]
    assert execution_order(names[1:]) == names[1:]
    assert execution_order(names[:1]) == names[:1]


def test_notebook_cost_from_the_header(tmp_path):
    from discourselab.report import notebook_cost

    costly = tmp_path / "02-costly.py"
    costly.write_text("# ---\n# jupyter:\n#   discourselab:\n#     cost: 3\n# ---\n\n# %%\nx = 1\n", encoding="utf-8")
    plain = tmp_path / "01-plain.py"
    plain.write_text("# %%\nx = 1\n", encoding="utf-8")
    assert notebook_cost(costly) == 3 and notebook_cost(plain) == 1
    assert notebook_cost(tmp_path / "missing.py") == 1
    costs = {p.stem: notebook_cost(p) for p in find_notebooks()}
    assert costs["04-topics"] > costs["01-corpus"]  # the project's long notebooks say so


def test_kernel_environment_and_nothing_left_behind(mini_run):
    import os

    from discourselab.report import kernel_environment

    env = kernel_environment(1)
    assert env["LOKY_MAX_CPU_COUNT"] == "1" and env["DISCOURSELAB_PROGRESS"] == "0"
    assert "LOKY_MAX_CPU_COUNT" not in kernel_environment()
    # the run (mini_run, two notebooks at a time) set the limit for its kernels only
    assert "LOKY_MAX_CPU_COUNT" not in os.environ


def test_prerequisites_from_headers(tmp_path):
    from discourselab.report import execution_order, prerequisites

    def source(name, header=""):
        path = tmp_path / f"{name}.py"
        path.write_text((f"# ---\n# jupyter:\n#   discourselab:\n{header}# ---\n\n" if header else "")
                        + "# %%\nx = 1\n", encoding="utf-8")
        return path

    summary = source("00-summary", "#     after:\n#     - 02-slow\n")
    plain, slow = source("01-plain"), source("02-slow", "#     cost: 5\n")
    needs = prerequisites([summary, plain, slow])
    assert needs == {summary: {slow}, plain: set(), slow: set()}
    # the costly one first; the summary as soon as what it needs is done
    assert execution_order([summary, plain, slow]) == [slow, summary, plain]
    # with the project's notebooks: the findings after the keyness, similarity tests and topics they read
    project = {p.stem: p for p in find_notebooks()}
    assert {p.stem for p in prerequisites(list(project.values()))[project["00-findings"]]} == {
        "02-term-frequencies", "03-distinctive-vocabulary", "04-topics"}
    # notebooks that wait on each other stop with a clear error
    a, b = source("01-a", "#     after:\n#     - 02-b\n"), source("02-b", "#     after:\n#     - 01-a\n")
    with pytest.raises(CorpusError, match="wait on each other"):
        execution_order([a, b])


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads the resident size from /proc")
def test_trim_heap_returns_freed_memory_to_the_system():
    import resource

    from discourselab.memory import trim_heap

    def resident_mb() -> float:
        return int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize() / 2**20

    # 150 MB of paragraph-sized texts, every hundredth kept, so the freed ones are holes in the heap
    # (a free block at its top would go back to the system by itself)
    texts = [("x" * 1500) + str(i) for i in range(100_000)]
    kept = texts[::100]
    del texts
    before = resident_mb()
    trim_heap()
    assert resident_mb() < before - 50 and len(kept) == 1000


def test_a_notebook_runs_in_its_folder_without_changing_the_process_directory(tmp_path, monkeypatch):
    # notebooks run side by side in threads: an os.chdir for one would move the other's kernel
    import os

    from discourselab.report import _execute

    source = tmp_path / "nb.py"
    source.write_text('# %% tags=["parameters"]\nx = 1\n\n# %%\nopen("here.txt", "w").write(str(x))\n')
    out = tmp_path / "out"
    out.mkdir()

    here, moves, chdir = os.getcwd(), [], os.chdir

    def recorded(path):
        moves.append(os.path.abspath(path))
        chdir(path)

    monkeypatch.setattr(os, "chdir", recorded)
    _execute(source, out, {"x": 2})
    assert (out / "here.txt").read_text() == "2"  # the kernel ran in out
    assert set(moves) <= {here}  # papermill's file writes step into the process's own directory, no other


def test_a_notebooks_kernel_writes_no_log_lines_to_the_terminal(tmp_path, capfd):
    from discourselab.report import _execute

    source = tmp_path / "nb.py"
    source.write_text('# %% tags=["parameters"]\nx = 1\n\n# %%\nprint(x)\n')
    out = tmp_path / "out"
    out.mkdir()
    _execute(source, out, {"x": 2})
    err = capfd.readouterr().err
    assert "IPKernelApp" not in err and "without encryption" not in err, err  # ipykernel's warning of local TCP
    assert '"2\\n"' in (out / "notebooks" / "nb.ipynb").read_text()  # what the cell prints is in the notebook
