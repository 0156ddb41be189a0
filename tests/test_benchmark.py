"""The benchmark script runs end to end on a tiny corpus (three addresses); timings are not checked here."""

from __future__ import annotations

import csv
import importlib.util

import numpy as np
import pandas as pd

from conftest import PROJECT
from discourselab.corpus import load_corpus


def load_benchmark():
    spec = importlib.util.spec_from_file_location("run_benchmark", PROJECT / "benchmarks" / "run_benchmark.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def test_peak_memory_is_measured_even_for_an_instant_step():
    # A step far shorter than the 50 ms sampling interval once reported 0 MB,
    # because the sampling thread had not run yet (a failed CI run).
    bench = load_benchmark()
    for _ in range(20):
        row = bench.measure("nothing", 1, lambda: None)
        assert row["peak_mb"] > 0


def test_benchmark_runs_on_a_tiny_corpus(tmp_path):
    bench = load_benchmark()
    assert bench.main(["--docs", "3", "--scales", "1", "2", "--run-scales", "--longer-scales", "2", "--within-scales",
                       "--cut-scales", "--repeats", "2", "--out", str(tmp_path)]) == 0
    with (tmp_path / "results.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    steps = [(r["step"], r["scale"]) for r in rows]
    assert len(steps) == len(set(steps))  # one row per step and scale: the fastest of its runs
    detail = {step: r["detail"] for step, r in zip(steps, rows)}
    assert "; fastest of 2 runs (" in detail[("scikit-learn CountVectorizer", "1")]
    assert "fastest of" not in detail[("NLTK word_tokenize + FreqDist", "1")]
    assert ("discourselab text processing", "2") in steps and ("scikit-learn CountVectorizer", "1") in steps
    assert ("discourselab run (first run, empty cache, each paragraph 2 times as long)", "2") in steps
    assert not any(step.startswith("discourselab run (rerun") for step, _ in steps)  # none with the longer paragraphs
    assert all(float(r["seconds"]) >= 0 and float(r["peak_mb"]) > 0 for r in rows)
    run = next(r for r in rows if r["step"].startswith("discourselab run"))
    assert float(run["seconds"]) > 1 and "; peak memory " in run["detail"]
    manifest = (tmp_path / "corpus-2x" / "corpus.csv").read_text(encoding="utf-8").splitlines()
    assert len(manifest) == 1 + 6  # three addresses, twice
    # the same paragraphs, each its text twice over: twice the words
    assert (tmp_path / "run-1x-longer-2x" / "tables" / "keyness.csv").is_file()
    once = load_corpus(tmp_path / "corpus-1x" / "corpus.csv")
    longer = load_corpus(tmp_path / "corpus-1x-longer-2x" / "corpus.csv")
    assert len(longer.paragraphs) == len(once.paragraphs) > 20
    assert (longer.paragraphs["text"] == once.paragraphs["text"] + " " + once.paragraphs["text"]).all()
    assert int(run["words"]) == 2 * once.pieces["words"].sum()
    assert ("discourselab count, streamed from the files", "2") in steps
    # the 2x corpus repeats the 1x one: every streamed count doubles
    once, twice = (pd.read_csv(tmp_path / f"counts-{n}x.csv").set_index(["group", "term"]) for n in (1, 2))
    assert len(once) > 100 and (twice["count"] == 2 * once["count"]).all()
    assert np.allclose(twice["per_1000"], once["per_1000"])


def test_each_variant_of_the_corpus_grows_one_size_and_keeps_the_others(tmp_path):
    bench = load_benchmark()
    once = load_corpus(bench.build_corpus(tmp_path / "once", 1, 3))
    within = load_corpus(bench.build_corpus(tmp_path / "within", 1, 3, within=2))
    cut = load_corpus(bench.build_corpus(tmp_path / "cut", 1, 3, cut=4))
    # each address twice over in its own file: the same pieces, twice the paragraphs and words
    assert within.pieces["doc_id"].tolist() == once.pieces["doc_id"].tolist()
    assert (within.pieces["paragraphs"] == 2 * once.pieces["paragraphs"]).all()
    assert (within.pieces["words"] == 2 * once.pieces["words"]).all()
    # each address cut into 4 pieces of consecutive paragraphs: the same paragraphs, in the same order
    assert len(cut.pieces) == 4 * len(once.pieces)
    assert cut.pieces["doc_id"].str.rsplit("-", n=1).str[0].tolist() == once.pieces["doc_id"].repeat(4).tolist()
    assert cut.paragraphs["text"].tolist() == once.paragraphs["text"].tolist()
    sizes = cut.pieces["paragraphs"].to_numpy().reshape(-1, 4)
    assert (sizes.max(axis=1) - sizes.min(axis=1) <= 1).all() and (np.diff(sizes, axis=1) <= 0).all()
    assert cut.pieces["author"].tolist() == once.pieces["author"].repeat(4).tolist()


def test_a_repeated_step_reports_its_fastest_run():
    bench = load_benchmark()
    runs = [{"step": "s", "seconds": 2.0, "peak_mb": 10, "detail": "a"},
            {"step": "s", "seconds": 1.5, "peak_mb": 12, "detail": "b"},
            {"step": "s", "seconds": 1.7, "peak_mb": 30, "detail": "c"}]
    best = bench.best_of(runs)
    assert best["seconds"] == 1.5 and best["peak_mb"] == 30
    assert best["detail"] == "b; fastest of 3 runs (2.00, 1.50, 1.70 s)"
    assert bench.best_of(runs[:1]) == runs[0]


def test_the_steps_running_when_memory_peaked(tmp_path):
    import json

    bench = load_benchmark()
    record = tmp_path / "run.json"
    record.write_text(json.dumps({"steps_started": {"term counts": 0.5, "notebook 02": 3.0, "notebook 04": 3.1,
                                                    "notebook 00": 20.0},
                                  "steps_seconds": {"term counts": 2.4, "notebook 02": 10.0, "notebook 04": 16.0,
                                                    "notebook 00": 5.0}}))
    assert bench.running_at(record, 2.0) == ["term counts"]
    assert bench.running_at(record, 12.5) == ["notebook 02", "notebook 04"]
    assert bench.running_at(record, 15.0) == ["notebook 04"]
    assert bench.running_at(record, 30.0) == []
