"""Command line: ``discourselab run``, ``count``, ``manifest`` and ``publish``."""

from __future__ import annotations

import argparse
import sys

from .errors import CorpusError
from .memory import return_large_blocks


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="discourselab", description="Comparative discourse analysis.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the whole study on a corpus and render it")
    run.add_argument("--corpus", required=True, help="manifest CSV of the corpus")
    run.add_argument("--out", required=True, help="output folder (replaced only by a complete run)")
    run.add_argument("--by", nargs="+", action="extend", metavar="COLUMN",
                     help="manifest column(s) to compare groups by (default: author, and role if present)")
    run.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    run.add_argument("--notebooks", help="folder of notebook sources (default: the project's notebooks/)")
    run.add_argument("--jobs", type=int, metavar="N",
                     help="notebooks executed at the same time (default: one per core, at most 2)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    count = sub.add_parser("count", help="term counts per group of a corpus too large to hold in memory, streamed")
    count.add_argument("--corpus", required=True, help="manifest CSV of the corpus")
    count.add_argument("--out", required=True, help="CSV file to write (written only when complete)")
    count.add_argument("--by", default="author", metavar="COLUMN", help="manifest column to group by (default author)")
    count.add_argument("--jobs", type=int, default=1, metavar="N", help="processes (-1: one per core; default 1)")
    count.add_argument("--quiet", action="store_true", help="no progress bar")
    manifest = sub.add_parser("manifest", help="write a starting manifest for a folder of .txt files")
    manifest.add_argument("folder")
    manifest.add_argument("--name", default="corpus.csv", help="manifest file name (default corpus.csv)")
    manifest.add_argument("--force", action="store_true", help="overwrite an existing manifest")
    publish = sub.add_parser("publish", help="copy a run's executed notebooks and figures into the project")
    publish.add_argument("run_dir")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for bad input, with one clear message)."""
    args = _parser().parse_args(argv)
    return_large_blocks()  # and in the forked workers: large freed arrays go back to the system
    try:
        if args.command == "run":
            from .report import run_study

            out = run_study(args.corpus, args.out, by=args.by, seed=args.seed,
                            notebooks_dir=args.notebooks, progress=not args.quiet,
                            jobs=args.jobs)
            print(f"study written to {out}; open {out / 'notebooks' / 'index.html'}")
        elif args.command == "count":
            _count(args)
        elif args.command == "manifest":
            from .corpus import write_manifest_template

            path = write_manifest_template(args.folder, args.name, overwrite=args.force)
            print(f"wrote {path}: fill in author, affiliation, role, venue, date and title, then run "
                  f"'discourselab run --corpus {path} --out OUT'")
        else:
            from .report import publish

            publish(args.run_dir)
            print(f"published {args.run_dir} into notebooks/ and figures/")
    except CorpusError as exc:
        print(f"discourselab: error: {exc}", file=sys.stderr)
        return 2
    return 0


def _count(args) -> None:
    from .frequency import stream_frequencies
    from .io import write_csv
    from .progress import bar

    progress = None if args.quiet else (lambda stream: bar(stream, desc="paragraphs", unit="paragraph"))
    table = stream_frequencies(args.corpus, args.by, n_jobs=args.jobs, progress=progress)
    out = write_csv(table, args.out)
    print(f"wrote {out}: {len(table):,} rows, {table['group'].nunique()} groups, {table['term'].nunique():,} terms")


if __name__ == "__main__":
    sys.exit(main())
