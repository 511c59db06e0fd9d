"""The course manifest: course.yaml, loaded once into frozen dataclasses.

This module owns the format of course.yaml (DESIGN.md, "course.yaml (format_version 1)")
and every check on it. It reads the YAML with the composer rather than the constructor,
so that each value still knows its line: every CourseError names the file, the line,
the field and what to do. Nothing here grades, runs or prints.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import NoReturn

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from . import i18n

FORMAT_VERSION = 1
START_METHODS = ("fork", "forkserver", "spawn")
# fmt: off
CATEGORIES = ("pass", "not_implemented", "wrong_result", "timeout", "ordering", "lifecycle", "not_parallel",
              "crash", "resource", "error")  # as in verdict.Category
# Sub-commands of `grade`: an exercise named like one could never be reached.
RESERVED_NAMES = frozenset({"all", "check", "list", "hint", "reset", "watch", "solution", "help", "init", "new",
                            "export", "progress", "release",
                            "batch", "report"})
# fmt: on
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
UPGRADE = "pip install -U mp-course"
# How a platform that can hide results (Gradescope) shows an exercise's or a check's result to students.
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
# A known bug must fail, so it cannot be expected to pass; "error" is the grader's own fault.
BUG_CATEGORIES = tuple(c for c in CATEGORIES if c not in ("pass", "error"))

# What to do, per kind of problem: the "Fix:" part of a CourseError.
FIX_EMPTY_FILE = "start from the course.yaml of the course template."
FIX_TOP_LEVEL = "write `format_version: 1`, `title: ...` and `exercises:` at the start of lines."
FIX_MAPPING = "write `key: value` pairs, indented under it."
FIX_LIST = "write one `- item` per line, or [] for none."
FIX_TEXT = "write the value, in quotes if it looks like a number or a yes/no."
FIX_NUMBER = "write a number such as 10 or 2.5."
FIX_HINT = "write a hint that points at the idea without giving the answer."
FIX_UNIQUE = "give every exercise an id and a slug that no other exercise uses."
FIX_NAME = "use lowercase letters, digits, '-' and '_', starting with a letter or digit: `pool-map`."
FIX_RESERVED = f"pick another name; reserved: {', '.join(sorted(RESERVED_NAMES))}."
FIX_START_METHODS = f"list some of {', '.join(START_METHODS)}, each once, e.g. [fork, spawn]."
FIX_BUG_CATEGORY = f"use one of {', '.join(BUG_CATEGORIES)}."
FIX_INSIDE = "write the path relative to the folder of course.yaml, without '..'; keep files inside it."
FIX_SYNTAX = "check the indentation (spaces, not tabs) here and just above; quote text with ': ' or ' #'."
FIX_OLD_FORMAT = f"update the course to format {FORMAT_VERSION} (docs/course-format.md)."
FIX_RULE = "write a whole number, 0 or more (docs/writing-exercises.md, \"The rules\")."
FIX_NO_CHECKS = ("this copy of the course has no hidden checks (a student edition): grade where your course "
                 "grades, or use a copy made with `grade release --with-checks`.")


class CourseError(Exception):
    """A problem with course.yaml or a file it names. str(e) is the full message."""

    def __init__(self, path, problem, *, line=None, field=None, fix=None):
        self.path = Path(path)  # the course.yaml file, as the caller named it
        self.line = line  # 1-based, or None when the problem is the file as a whole
        self.field = field  # dotted, e.g. "exercises[2].timeout", or None
        self.problem = problem  # what is wrong, one sentence
        self.fix = fix  # what to do about it, or None
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        parts = [where] + ([self.field] if self.field else []) + [self.problem]
        return ": ".join(parts) + (f" Fix: {self.fix}" if self.fix else "")


class UnknownExercise(CourseError, LookupError):
    """A name given on the command line is neither an id nor a slug of the course."""

    def __init__(self, path, name: str, valid: list[tuple[str, str]]):
        self.name = name  # what was asked for
        names = [n for pair in valid for n in pair]
        close = difflib.get_close_matches(name, names, n=1)
        self.suggestion = close[0] if close else None  # the nearest valid name, if any is near
        # The student's words, in their language (the rest of CourseError speaks to the instructor).
        guess = i18n._(" Did you mean '{name}'?").format(name=self.suggestion) if self.suggestion else ""
        listing = ", ".join(f"{i} ({s})" for i, s in valid)
        problem = i18n._("Unknown exercise '{name}'.{guess} Valid: {valid}").format(name=name, guess=guess,
                                                                                     valid=listing)
        super().__init__(path, problem, fix=i18n._("run `grade list` to see every exercise."))

    def __str__(self) -> str:
        return self.problem


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 512  # address-space cap per process, MiB
    processes: int = 64  # processes alive at once in one sandbox run
    output_kb: int = 64  # captured stdout+stderr kept per sandbox run, KiB
    network: bool = False  # TCP bind/connect allowed (else Landlock refuses them, where the kernel can)


@dataclass(frozen=True)
class KnownBug:
    path: Path  # absolute path of a buggy variant that `grade check` must see fail
    category: str  # the category it must fail with: one of BUG_CATEGORIES


@dataclass(frozen=True)
class Rules:
    """What `grade check` demands of every exercise: course.yaml `rules:`, documented in
    docs/writing-exercises.md ("The rules"). The defaults are this course's own practice."""

    min_checks: int = 4  # distinct hidden checks per exercise
    min_drivers: int = 1  # @driver functions per hidden module
    min_known_bugs: int = 3  # known_bugs per exercise
    min_correct_variants: int = 1  # correct_variants per exercise
    every_check_failed_by_a_bug: bool = True  # no check that no known bug fails (it could be a no-op)


@dataclass(frozen=True)
class Exercise:
    id: str  # unique; what students type: `grade exercise1`
    slug: str  # unique alias: `grade process`
    title: str  # shown in listings and reports
    topic: str  # the section of the source post it teaches
    file: Path  # absolute path of the stub the student fills in (may be missing: see file_missing)
    solution: Path | None  # absolute path of the reference solution; None in a student edition
    tests: Path  # absolute path of the hidden checks file (absent in a student edition)
    points: float  # the score of a full pass
    timeout: float  # seconds allowed to one check, hard
    start_methods: tuple[str, ...]  # may be narrower than the defaults where a method makes no sense
    limits: Limits  # the course defaults, overridden key by key
    hint: str  # stripped, never empty
    known_bugs: tuple[KnownBug, ...] = ()  # variants that must fail, each with its category
    correct_variants: tuple[Path, ...] = ()  # absolute paths of other solutions that must pass
    schedules: int = 1  # runs of each driver: 1 unperturbed, then explored schedules (grader/schedule.py)
    # Where each path field was written: short name ("tests", "known_bugs[0].path") ->
    # (dotted field, line, the path as written). Files are looked for when needed, not at load
    # time (an edition may lack solutions, variants or hidden checks); a missing one is then
    # named by its line (Course.missing).
    where: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def file_missing(self) -> bool:
        """The student's file is not there (deleted, or not handed out yet): a state, not an error."""
        return not self.file.is_file()

    @property
    def has_checks(self) -> bool:
        return self.tests.is_file()
    visibility: str = "visible"  # one of VISIBILITIES: when students see this exercise's results on Gradescope
    check_visibility: tuple[tuple[str, str], ...] = ()  # (check name, visibility): checks shown otherwise

    def visibility_of(self, check_name: str) -> str:
        """The visibility of one check: its own if course.yaml gives one, else the exercise's."""
        return dict(self.check_visibility).get(check_name, self.visibility)


@dataclass(frozen=True)
class Course:
    root: Path  # absolute directory holding course.yaml; every path in it is relative to this
    path: Path  # absolute path of course.yaml
    format_version: int  # always FORMAT_VERSION once loaded
    title: str  # the course's name
    welcome_message: str  # shown once; "" when not given
    final_message: str  # shown when every exercise passes; "" when not given
    timeout: float  # default seconds per check
    start_methods: tuple[str, ...]  # default start methods
    limits: Limits  # default limits
    exercises: tuple[Exercise, ...]  # the order is the curriculum
    schedules: int = 1  # default schedules per exercise
    rules: Rules = Rules()  # what `grade check` demands of each exercise
    language: str = ""  # the course's default language (i18n.LANGUAGES); "": the student's locale decides

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(e.id for e in self.exercises)

    def find(self, name: str) -> Exercise:
        """The exercise whose id or slug is `name`; UnknownExercise otherwise."""
        for exercise in self.exercises:
            if name in (exercise.id, exercise.slug):
                return exercise
        raise UnknownExercise(self.path, name, [(e.id, e.slug) for e in self.exercises])

    def missing(self, exercise: Exercise, name: str) -> CourseError | None:
        """A CourseError naming the line of `exercise`'s path field `name` ("solution",
        "known_bugs[1].path", ...) when that file does not exist; None when it does."""
        at, line, shown = exercise.where[name]
        if (self.root / shown).is_file():
            return None
        return CourseError(self.path, f"'{shown}' does not exist.", line=line, field=at,
                           fix=f"create {shown}, or correct the path.")

    def require_checks(self, exercises) -> None:
        """Grading needs the hidden modules: CourseError (with the line) for the first one missing."""
        for exercise in exercises:
            error = self.missing(exercise, "tests")
            if error is not None:
                raise CourseError(error.path, error.problem, line=error.line, field=error.field, fix=FIX_NO_CHECKS)


def _compose(text: str):
    """course.yaml's node tree: with libyaml when there (100x faster: 3 ms, not 0.3 s, for this
    course, paid by every `grade`), re-read by the pure-Python loader on an error, whose words
    and line numbers the error messages use."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return yaml.compose(text, Loader=fast)
        except yaml.YAMLError:
            pass
    return yaml.compose(text, Loader=yaml.SafeLoader)


def load_course(path: str | Path = ".") -> Course:
    """Load and validate a course. path: a course root directory or a course.yaml file."""
    given = Path(path)
    shown = given / "course.yaml" if given.is_dir() else given
    if not shown.is_file():
        problem = "no such directory." if not given.exists() else "no such file."
        raise CourseError(shown, problem, fix="run grade from the course root, or pass --course DIR.")
    try:
        text = shown.read_bytes().decode("utf-8")
    except OSError as e:
        raise CourseError(shown, f"cannot read the file ({e.strerror}).", fix="check its permissions.") from e
    except UnicodeDecodeError as e:
        raise CourseError(shown, "not valid UTF-8 text.", fix="save the file as UTF-8.") from e
    try:
        document = _compose(text)
    except yaml.MarkedYAMLError as e:
        mark, where = e.problem_mark or e.context_mark, ""
        if e.context and e.context_mark:
            where = f" ({e.context} from line {e.context_mark.line + 1})"
        problem = f"YAML syntax error: {e.problem or e.context}{where}."
        raise CourseError(shown, problem, line=mark.line + 1 if mark else None, fix=FIX_SYNTAX) from e
    except yaml.YAMLError as e:
        raise CourseError(shown, f"YAML error: {e}.", fix="save the file as plain UTF-8 text.") from e
    course = _Reader(shown, shown.resolve()).course(document)
    # Its texts in the language in use (English unless the command line chose another):
    # course.<lang>.yaml beside course.yaml, read by grader/translations.py.
    from .translations import translate
    return translate(course, i18n.language())


def _compose(text: str) -> Node | None:
    """The composed YAML: libyaml when it is there (15x faster: `grade` alone must draw in
    well under 300 ms), the pure-Python parser to word a syntax error the same everywhere."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return yaml.compose(text, Loader=fast)
        except yaml.YAMLError:
            pass
    return yaml.compose(text, Loader=yaml.SafeLoader)


class _Reader:
    """Walks the composed YAML and raises CourseError at the first node that is wrong."""

    def __init__(self, shown: Path, path: Path):
        self.shown = shown  # course.yaml as the caller named it: used in messages
        self.path = path  # absolute, symlinks resolved
        self.root = path.parent
        self._folders: dict[Path, Path] = {}  # each folder the manifest names, resolved once

    def fail(self, node: Node | None, field: str | None, problem: str, fix: str | None) -> NoReturn:
        line = node.start_mark.line + 1 if node is not None else None
        raise CourseError(self.shown, problem, line=line, field=field, fix=fix)

    # -- the document --------------------------------------------------------------------

    def course(self, doc: Node | None) -> Course:
        if doc is None:
            self.fail(None, None, "the file is empty.", FIX_EMPTY_FILE)
        if not isinstance(doc, MappingNode):
            self.fail(doc, None, f"the top level must be a mapping, got {_describe(doc)}.", FIX_TOP_LEVEL)
        keys = self.mapping(doc, "", required=("format_version",), allowed=None)
        self.format_version(keys["format_version"])  # first: a newer format may bring new keys
        top = ("format_version", "title", "welcome_message", "final_message", "defaults", "exercises")
        top += ("rules", "language")
        keys = self.mapping(doc, "", required=("format_version", "title", "exercises"), allowed=top)
        title = self.string(keys["title"], "title")
        welcome, final = (self.optional(keys, k, self.text, "") for k in ("welcome_message", "final_message"))
        d = self.mapping(keys.get("defaults"), "defaults", (), ("timeout", "start_methods", "limits", "schedules"))
        timeout = self.optional(d, "timeout", self.positive, 10.0, "defaults.")
        methods = self.optional(d, "start_methods", self.start_methods, START_METHODS, "defaults.")
        limits = self.limits(d.get("limits"), "defaults.limits", Limits())
        schedules = self.optional(d, "schedules", self.schedules, 1, "defaults.")
        items = self.sequence(keys["exercises"], "exercises")
        if not items:
            self.fail(keys["exercises"], "exercises", "the list is empty.", "add at least one exercise.")
        exercises = tuple(
            self.exercise(n, f"exercises[{i}]", timeout, methods, limits, schedules) for i, n in enumerate(items)
        )
        self.unique_names(items, exercises)
        language = self.optional(keys, "language", self.language, "")
        return Course(
            self.root, self.path, FORMAT_VERSION, title, welcome, final, timeout, methods, limits, exercises,
            schedules,
            rules=self.rules(keys.get("rules")),
            language=language,
        )

    def rules(self, node: Node | None) -> Rules:
        names = tuple(f.name for f in fields(Rules))
        values = {}
        for key, value_node in self.mapping(node, "rules", (), names).items():
            value, at = _scalar(value_node), f"rules.{key}"
            if key == "every_check_failed_by_a_bug":
                if type(value) is not bool:
                    self.fail(value_node, at, f"expected true or false, got {_describe(value_node)}.",
                              f"write `{key}: true`.")
            elif type(value) is not int or value < 0:
                self.fail(value_node, at, f"expected a whole number, got {_describe(value_node)}.", FIX_RULE)
            values[key] = value
        return Rules(**values)

    def format_version(self, node: Node) -> None:
        value, at = _scalar(node), "format_version"
        if type(value) is not int:
            self.fail(
                node,
                at,
                f"expected a whole number, got {_describe(node)}.",
                f"write `{at}: {FORMAT_VERSION}`.",
            )
        if value > FORMAT_VERSION:
            self.fail(node, at, f"format {value}: this course needs a newer grader.", UPGRADE)
        if value < FORMAT_VERSION:
            self.fail(node, at, f"format {value} is not supported, only {FORMAT_VERSION}.", FIX_OLD_FORMAT)

    def exercise(self, node: Node, at: str, timeout: float, methods: tuple, limits: Limits,
                 schedules: int = 1) -> Exercise:
        required = ("id", "slug", "title", "topic", "file", "tests", "hint")
        more = ("solution", "points", "timeout", "start_methods", "limits", "known_bugs", "correct_variants",
                "schedules", "visibility", "check_visibility")
        k = self.mapping(node, at, required, required + more)
        p = f"{at}."  # prefix of every field of this exercise
        hint = self.text(k["hint"], f"{p}hint").strip()
        if not hint:
            self.fail(k["hint"], f"{p}hint", "the hint is empty.", FIX_HINT)
        bugs = self.optional(k, "known_bugs", self.sequence, [], p)
        variants = self.optional(k, "correct_variants", self.sequence, [], p)
        self.where = {}  # filled by self.file() below, for this exercise
        return Exercise(
            id=self.name(k["id"], f"{p}id"),
            slug=self.name(k["slug"], f"{p}slug"),
            title=self.string(k["title"], f"{p}title"),
            topic=self.string(k["topic"], f"{p}topic"),
            file=self.file(k["file"], f"{p}file"),
            solution=self.optional(k, "solution", self.file, None, p),
            tests=self.file(k["tests"], f"{p}tests"),
            points=self.optional(k, "points", self.number, 10.0, p),
            timeout=self.optional(k, "timeout", self.positive, timeout, p),
            start_methods=self.optional(k, "start_methods", self.start_methods, methods, p),
            limits=self.limits(k.get("limits"), f"{p}limits", limits),
            hint=hint,
            known_bugs=tuple(self.known_bug(b, f"{p}known_bugs[{i}]") for i, b in enumerate(bugs)),
            correct_variants=tuple(self.file(v, f"{p}correct_variants[{i}]") for i, v in enumerate(variants)),
            schedules=self.optional(k, "schedules", self.schedules, schedules, p),
            where=self.where,
            visibility=self.optional(k, "visibility", self.visibility, "visible", p),
            check_visibility=self.optional(k, "check_visibility", self.check_visibility, (), p),
        )

    def known_bug(self, node: Node, at: str) -> KnownBug:
        k = self.mapping(node, at, ("path", "category"), ("path", "category"))
        category = self.string(k["category"], f"{at}.category")
        if category not in BUG_CATEGORIES:
            why = "a known bug must fail, so it cannot be" if category in ("pass", "error") else "not"
            self.fail(
                k["category"],
                f"{at}.category",
                f"'{category}': {why} a category to fail with.",
                FIX_BUG_CATEGORY,
            )
        return KnownBug(path=self.file(k["path"], f"{at}.path"), category=category)

    def unique_names(self, nodes: list[Node], exercises: tuple[Exercise, ...]) -> None:
        """Ids and slugs share one namespace: `grade NAME` must mean one exercise."""
        seen: dict[str, tuple[int, str]] = {}  # name -> (line, dotted field) where it was first used
        for i, node in enumerate(nodes):
            k = self.mapping(node, "", (), None)
            for key in dict.fromkeys((exercises[i].id, exercises[i].slug)):  # an id may equal its own slug
                where = "id" if key == exercises[i].id else "slug"
                if key in seen:
                    line, first = seen[key]
                    self.fail(
                        k[where],
                        f"exercises[{i}].{where}",
                        f"'{key}' is already used at line {line} ({first}).",
                        FIX_UNIQUE,
                    )
                seen[key] = (k[where].start_mark.line + 1, f"exercises[{i}].{where}")

    # -- values ------------------------------------------------------------------------

    def optional(self, keys: dict[str, Node], key: str, read, default, prefix: str = ""):
        """read(node, field) when the key is given, else the default."""
        return read(keys[key], f"{prefix}{key}") if key in keys else default

    def mapping(self, node: Node | None, at: str, required: tuple, allowed: tuple | None) -> dict[str, Node]:
        """The keys of a mapping node and their value nodes; allowed=None accepts any key."""
        if node is None:
            return {}
        if not isinstance(node, MappingNode):
            self.fail(node, at or None, f"expected a mapping, got {_describe(node)}.", FIX_MAPPING)
        keys: dict[str, Node] = {}
        for key_node, value in node.value:
            key = _scalar(key_node)
            name = f"{at}.{key}" if at else str(key)
            if not isinstance(key, str):
                self.fail(key_node, name, f"expected a key name, got {_describe(key_node)}.", FIX_MAPPING)
            if key in keys:
                self.fail(
                    key_node,
                    name,
                    f"duplicate key, already set at line {keys[key].start_mark.line + 1}.",
                    "keep one.",
                )
            if allowed is not None and key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                guess = f" Did you mean '{close[0]}'?" if close else ""
                self.fail(key_node, name, f"unknown key.{guess}", f"valid keys here: {', '.join(allowed)}.")
            keys[key] = value
        for key in required:
            if key not in keys:
                self.fail(
                    node, f"{at}.{key}" if at else key, "required key is missing.", f"add `{key}: ...` here."
                )
        return keys

    def sequence(self, node: Node, at: str) -> list[Node]:
        if not isinstance(node, SequenceNode):
            self.fail(node, at, f"expected a list, got {_describe(node)}.", FIX_LIST)
        return list(node.value)

    def text(self, node: Node, at: str) -> str:
        value = _scalar(node)
        if not isinstance(value, str):
            self.fail(node, at, f"expected text, got {_describe(node)}.", FIX_TEXT)
        return value

    def string(self, node: Node, at: str) -> str:
        """Text that must not be blank."""
        value = self.text(node, at)
        if not value.strip():
            self.fail(node, at, "must not be empty.", FIX_TEXT)
        return value

    def language(self, node: Node, at: str) -> str:
        value = self.string(node, at)
        if value not in i18n.LANGUAGES:
            self.fail(node, at, f"'{value}' is not a language the grader speaks.",
                      f"write one of {', '.join(i18n.LANGUAGES)}, or leave it out to follow the student's locale.")
        return value

    def name(self, node: Node, at: str) -> str:
        value = self.string(node, at)
        if not NAME_PATTERN.match(value):
            self.fail(node, at, f"'{value}' is not a valid name.", FIX_NAME)
        if value in RESERVED_NAMES:
            self.fail(
                node, at, f"'{value}' is a sub-command: `grade {value}` could not reach it.", FIX_RESERVED
            )
        return value

    def number(self, node: Node, at: str, positive: bool = False) -> float:
        value = _scalar(node)
        if type(value) not in (int, float) or not math.isfinite(value):  # bool is not a number here
            self.fail(node, at, f"expected a number, got {_describe(node)}.", FIX_NUMBER)
        if value < 0 or (positive and value == 0):
            self.fail(node, at, f"must be {'above 0' if positive else '0 or more'}, got {value}.", FIX_NUMBER)
        return float(value)

    def schedules(self, node: Node, at: str) -> int:
        value = _scalar(node)
        if type(value) is not int or not 1 <= value <= 1000:
            self.fail(node, at, f"expected a whole number from 1 to 1000, got {_describe(node)}.",
                      f"write `{at.rsplit('.', 1)[-1]}: 8` (1 runs each driver once, unperturbed).")
        return value

    def visibility(self, node: Node, at: str) -> str:
        value = self.string(node, at)
        if value not in VISIBILITIES:
            self.fail(node, at, f"'{value}' is not a visibility.", f"use one of {', '.join(VISIBILITIES)}.")
        return value

    def check_visibility(self, node: Node, at: str) -> tuple[tuple[str, str], ...]:
        """{check name: visibility}; the names are the hidden module's (`grade export` checks them)."""
        keys = self.mapping(node, at, (), None)
        return tuple((name, self.visibility(value, f"{at}.{name}")) for name, value in keys.items())

    def positive(self, node: Node, at: str) -> float:
        return self.number(node, at, positive=True)

    def start_methods(self, node: Node, at: str) -> tuple[str, ...]:
        items = self.sequence(node, at)
        if not items:
            self.fail(node, at, "the list is empty.", FIX_START_METHODS)
        methods: list = []
        for i, item in enumerate(items):
            value = _scalar(item)
            if value not in START_METHODS:
                self.fail(item, f"{at}[{i}]", f"{_describe(item)} is not a start method.", FIX_START_METHODS)
            if value in methods:
                self.fail(item, f"{at}[{i}]", f"'{value}' is listed twice.", FIX_START_METHODS)
            methods.append(value)
        return tuple(methods)

    def limits(self, node: Node | None, at: str, base: Limits) -> Limits:
        """base, overridden key by key."""
        values = {}
        for key, value_node in self.mapping(node, at, (), ("memory_mb", "processes", "output_kb", "network")).items():
            value = _scalar(value_node)
            if key == "network":
                if type(value) is not bool:
                    self.fail(value_node, f"{at}.{key}", f"expected true or false, got {_describe(value_node)}.",
                              "write `network: true` to let this exercise's code use TCP.")
            elif type(value) is not int or value <= 0:
                problem = f"expected a whole number above 0, got {_describe(value_node)}."
                self.fail(
                    value_node, f"{at}.{key}", problem, f"write e.g. `{key}: {getattr(Limits(), key)}`."
                )
            values[key] = value
        return replace(base, **values)

    def _resolved(self, path: Path) -> Path:
        """path.resolve(), with each folder resolved once (a course names ~200 files in a few folders)."""
        if path.is_symlink():
            return path.resolve()
        if path.parent not in self._folders:
            self._folders[path.parent] = path.parent.resolve()
        return self._folders[path.parent] / path.name

    def file(self, node: Node, at: str) -> Path:
        """A path inside the root. Whether the file exists is asked when it is needed (Course.missing)."""
        text = self.string(node, at)
        relative = PurePosixPath(text.replace("\\", "/"))
        if relative.is_absolute() or PureWindowsPath(text).drive or ".." in relative.parts:
            self.fail(node, at, f"'{text}' is not a path inside the course root.", FIX_INSIDE)
        path = self.root / relative
        if not self._resolved(path).is_relative_to(self.root):  # a symlink that leads out
            self.fail(node, at, f"'{text}' leads outside the course root.", FIX_INSIDE)
        if path.is_dir():
            self.fail(node, at, f"'{text}' is a directory, not a file.", f"create {text}, or correct the path.")
        short = at.split(".", 1)[1]  # "exercises[2].known_bugs[0].path" -> "known_bugs[0].path"
        self.where[short] = (at, node.start_mark.line + 1, str(relative))
        return path


def _scalar(node: Node) -> object:
    """The Python value of a scalar node (str, int, float, bool, None...); None for collections."""
    if not isinstance(node, ScalarNode):
        return None
    return yaml.constructor.SafeConstructor().construct_object(node)


def _describe(node: Node) -> str:
    """How a wrong value is named in a message: 'ten', true, a list, a mapping, nothing."""
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, MappingNode):
        return "a mapping"
    value = _scalar(node)
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str | int | float) else repr(str(value))
