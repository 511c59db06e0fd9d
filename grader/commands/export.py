"""`grade export gradescope OUT.zip` and `grade export github-actions DIR`: the course for a platform.

The command part: arguments and where files go. What goes in them is grader/export.py.
Exit status 0 when written, 2 when the course cannot be exported (its fault, or the call's).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..course import load_course
from ..i18n import N_
from ._common import EXIT_ERROR, EXIT_PASS, add_course_option, find_course

HELP = N_("(instructors) the course as a Gradescope autograder zip, or a GitHub Actions workflow")


def configure(parser: argparse.ArgumentParser) -> None:
    platforms = parser.add_subparsers(dest="platform", metavar="PLATFORM", required=True)
    gradescope = platforms.add_parser(
        "gradescope", help="a zip with setup.sh and run_autograder for a Gradescope programming assignment",
        description="Write OUT.zip: setup.sh and run_autograder at its root, the grader, course.yaml, the stubs "
                    "and the hidden checks. No solutions, no variants, no project tests.")
    gradescope.add_argument("out", type=Path, metavar="OUT.zip", help="the zip to write")
    github = platforms.add_parser(
        "github-actions", help="a workflow that grades a student's repository on every push",
        description="Write DIR/.github/workflows/grade.yml: install the grader, grade, summary, annotations, "
                    "artifacts. The student's repository must hold the course with its checks "
                    "(`grade release --with-checks`), or --install must name where the grader comes from.")
    github.add_argument("dir", type=Path, metavar="DIR", help="the root of the student's repository")
    github.add_argument("--install", default=".", metavar="PIP-SPEC",
                        help="what `pip install` installs the grader from (default: the repository itself)")
    github.add_argument("--python", default="3.12", metavar="VERSION", help="Python version of the job")
    for sub in (gradescope, github):
        sub.add_argument("--exercises", action="append", default=None, metavar="ID[,ID...]",
                         help="only these exercises (ids or slugs; repeatable or comma-separated)")
        sub.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                         help="time limit per check in the export (default: the course's)")
        add_course_option(sub)
        sub.set_defaults(parser=sub)


def run(args) -> int:
    from ..export import ExportError, github_workflow, gradescope_entries, write_zip

    course = load_course(find_course(args.course))
    names = [n.strip() for item in (args.exercises or []) for n in item.split(",") if n.strip()]
    wanted = {course.find(n).id for n in names}
    exercises = [e for e in course.exercises if not wanted or e.id in wanted]
    missing = [e.id for e in exercises if not e.tests.is_file()]
    if missing:
        print(f"grade export: no hidden checks for {', '.join(missing)} in this copy of the course "
              "(a student edition?): export from the instructor's edition.", file=sys.stderr)
        return EXIT_ERROR
    try:
        if args.platform == "gradescope":
            entries = gradescope_entries(course, exercises, timeout=args.timeout)
            write_zip(entries, args.out)
            print(f"Wrote {args.out}: {len(exercises)} exercises, {len(entries)} files. Upload it as the "
                  "autograder of a Gradescope programming assignment.", file=sys.stderr)
            return EXIT_PASS
        workflow = args.dir / ".github" / "workflows" / "grade.yml"
        workflow.parent.mkdir(parents=True, exist_ok=True)
        workflow.write_text(github_workflow(course, exercises, install=args.install, python=args.python,
                                            timeout=args.timeout))
        print(f"Wrote {workflow}: commit it to the student's repository.", file=sys.stderr)
        return EXIT_PASS
    except (ExportError, OSError) as error:
        print(f"grade export: {error}", file=sys.stderr)
        return EXIT_ERROR
