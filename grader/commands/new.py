"""`grade new SLUG --title … --topic …`: scaffold an exercise from the templates in
grader/templates/new/.

It writes the stub, the solution, the hidden module (one driver, one check), one known
bug, and appends the exercise's entry to course.yaml as text, so the file's comments and
layout stay as they were. The course is then loaded again: if it does not load, every
file written is removed and course.yaml is put back. Each file holds a line marked
`grade new: example` until the instructor makes it their own; `grade check SLUG` then
lists what is left to do, one line each.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path, PurePosixPath

import jinja2
import yaml

from ..course import NAME_PATTERN, RESERVED_NAMES, Course, CourseError, load_course
from ..i18n import N_
from ._common import EXIT_ERROR, EXIT_PASS, add_course_option, find_course

HELP = N_("(instructors) scaffold a new exercise: stub, solution, hidden checks, a known bug, its course.yaml entry")
TEMPLATES = jinja2.Environment(loader=jinja2.PackageLoader("grader", "templates/new"),
                               keep_trailing_newline=True, undefined=jinja2.StrictUndefined)


class NewError(Exception):
    """Why the exercise cannot be scaffolded; nothing was written."""


def configure(parser) -> None:
    parser.add_argument("slug", metavar="SLUG", help="what students type: `grade SLUG` (e.g. event)")
    parser.add_argument("--title", required=True, help='shown in listings, e.g. "Event: a start signal"')
    parser.add_argument("--topic", required=True, help="the section of the source post it teaches")
    parser.add_argument("--id", default=None, help="its id (default: exerciseN, after the last one)")
    add_course_option(parser)


def run(args) -> int:
    from ..validate import SCAFFOLD_MARK

    course = load_course(find_course(args.course))
    try:
        plan = _plan(course, args.slug, args.id, args.title, args.topic)
    except NewError as error:
        print(f"grade new: {error}", file=sys.stderr)
        return EXIT_ERROR
    values = {**plan["names"], "title": args.title, "topic": args.topic, "mark": SCAFFOLD_MARK}
    written: list[Path] = []  # files, then folders, that did not exist before
    original = course.path.read_bytes()
    try:
        for template, rel in plan["files"]:
            path = course.root / rel
            new_folders = [p for p in path.parents if not p.exists()]
            path.parent.mkdir(parents=True, exist_ok=True)
            written.extend(new_folders)  # deepest first: removed in this order
            path.write_text(TEMPLATES.get_template(template).render(values))
            written.append(path)
        course.path.write_bytes(original + _entry(original.decode("utf-8"), values).encode("utf-8"))
        load_course(course.path)  # the entry must make a valid course, or nothing stays
    except (CourseError, OSError) as error:
        course.path.write_bytes(original)
        for path in sorted(written, key=lambda p: p.is_dir()):  # files first, then their new folders
            if path.is_dir():
                path.rmdir()
            else:
                path.unlink(missing_ok=True)
        print(f"grade new: nothing was written: {error}", file=sys.stderr)
        return EXIT_ERROR
    print(f"New exercise {values['id']} ({args.slug}), from the example that squares numbers in children:")
    for _, rel in plan["files"]:
        print(f"  {rel}")
    print(f"  {course.path.name} (its entry, at the end of the exercises)")
    print(f"\nNext: `grade check {args.slug}` lists what is left to do; docs/writing-exercises.md says how.")
    return EXIT_PASS


def _plan(course: Course, slug: str, given_id: str | None, title: str, topic: str) -> dict:
    exercise_id = given_id or _next_id(course)
    taken = {name for ex in course.exercises for name in (ex.id, ex.slug)}
    for what, name in (("slug", slug), ("id", exercise_id)):
        if not NAME_PATTERN.match(name):
            raise NewError(f"'{name}' is not a valid {what}: use lowercase letters, digits, '-' and '_'.")
        if name in RESERVED_NAMES:
            raise NewError(f"'{name}' is a sub-command of grade: pick another {what}.")
        if name in taken:
            raise NewError(f"'{name}' is already an exercise's id or slug: pick another {what}.")
    if slug == exercise_id:
        raise NewError("the slug and the id must differ.")
    for what, text in (("title", title), ("topic", topic)):
        if not text.strip():
            raise NewError(f"--{what} must not be empty.")
    module = f"{exercise_id}_{slug.replace('-', '_')}"
    last = course.exercises[-1]
    stubs, solutions, hidden = (_folder(course, p, default) for p, default in (
        (last.file, "exercises"), (last.solution, "solutions"), (last.tests, "grader/hidden")))
    bug_folders = [_folder(course, b.path.parent, "tests/variants") for ex in course.exercises for b in ex.known_bugs]
    variants = bug_folders[-1] if bug_folders else PurePosixPath("tests/variants")
    names = {"id": exercise_id, "slug": slug, "module": module,
             "file": f"{stubs}/{module}.py", "solution": f"{solutions}/{module}.py",
             "tests": f"{hidden}/test_{module}.py", "bug": f"{variants}/{exercise_id}/runs_in_parent.py"}
    files = [("stub.py.j2", names["file"]), ("solution.py.j2", names["solution"]),
             ("hidden.py.j2", names["tests"]), ("known_bug.py.j2", names["bug"])]
    for _, rel in files:
        if (course.root / rel).exists():
            raise NewError(f"{rel} already exists: nothing was written.")
    return {"names": names, "files": files}


def _next_id(course: Course) -> str:
    numbers = [int(m.group(1)) for ex in course.exercises if (m := re.fullmatch(r"exercise(\d+)", ex.id))]
    return f"exercise{max(numbers, default=len(course.exercises)) + 1}"


def _folder(course: Course, path: Path | None, default: str) -> PurePosixPath:
    """The folder (relative to the root) where the course keeps files of this kind."""
    if path is None:
        return PurePosixPath(default)
    return PurePosixPath(path.parent.relative_to(course.root).as_posix())


def _entry(text: str, values: dict) -> str:
    """The entry's text, indented like the course's other entries, to append to course.yaml."""
    document = yaml.compose(text, Loader=yaml.SafeLoader)
    exercises = next(v for k, v in document.value if k.value == "exercises")
    indent = " " * exercises.start_mark.column  # where the dashes of the list are
    entry = TEMPLATES.get_template("entry.yaml.j2").render({**values, "indent": indent})
    after = exercises.end_mark
    rest = [line for line in text[after.index:].splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if rest:
        raise CourseError(Path("course.yaml"), "`exercises:` is not the last key of the file; grade new appends "
                          "the entry at the end.", fix="move `exercises:` to the end of course.yaml.")
    return ("" if text.endswith("\n") else "\n") + entry
