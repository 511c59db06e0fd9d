"""`grade report VERDICT.json --format F`: a saved JSON verdict shown in another format.

Grading once and reporting many ways: a CI job grades with `--format json`, then renders
the same verdict as JUnit for its artifacts and as GitHub annotations and job summary,
without grading again. The exit status is the verdict's, as `grade` would have returned.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..i18n import N_
from ..report import FORMATS, render, render_error
from ._common import EXIT_ERROR, EXIT_FAIL, EXIT_PASS, emit, manners, write_step_summary

HELP = N_("show a saved JSON verdict (grade --format json) in another format")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("verdict", type=Path, metavar="VERDICT.json", help="a verdict written by --format json")
    parser.add_argument("--format", choices=FORMATS, default="text", help="report format (default: text)")
    parser.add_argument("--output", type=Path, default=None, metavar="FILE",
                        help="write the report to FILE instead of standard output")
    parser.add_argument("-v", "--verbose", action="store_true", help="explain every failure, not only the first")
    parser.add_argument("--no-color", action="store_true", help="plain text, no colours")


def run(args) -> int:
    from ..verdict import RunVerdict, Status

    try:
        document = json.loads(args.verdict.read_text(encoding="utf-8"))
    except OSError as error:
        return _error(args, f"cannot read {args.verdict}: {error.strerror}")
    except ValueError as error:
        return _error(args, f"{args.verdict} is not JSON: {error}")
    if not isinstance(document, dict):
        return _error(args, f"{args.verdict} is not a verdict (expected a JSON object)")
    if "exercises" not in document and "exercise" not in document:
        # grade's own error document: the grading never happened, say why in this format too
        return _error(args, str(document.get("message") or f"{args.verdict} holds no verdict"))
    try:
        run_verdict = RunVerdict.from_dict(document)
    except (KeyError, TypeError, ValueError) as error:
        return _error(args, f"{args.verdict} is not a verdict this grader can read ({error!r})")
    style = manners(args) if args.format == "text" else {}
    emit(render(run_verdict, args.format, verbose=args.verbose, **style), args.output)
    if args.format == "github":
        write_step_summary(run_verdict)
    if run_verdict.status is Status.ERROR:
        return EXIT_ERROR
    return EXIT_PASS if run_verdict.status is Status.PASS else EXIT_FAIL


def _error(args, message: str) -> int:
    print(f"grade report: {message}", file=sys.stderr)
    document = render_error(args.format, message)
    if document is not None:
        emit(document, args.output)
    return EXIT_ERROR
