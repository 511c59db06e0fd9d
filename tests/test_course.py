"""Tests of grader/course.py: the real course loads, and every kind of mistake in course.yaml
is refused with a message that names the file, the line and the field.

Most error cases start from the valid fixture tests/courses/minimal/ copied into tmp_path,
with one edit to its course.yaml. The expected line is found in the edited text, never
taken from the loader.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from grader.course import (
    FIX_UNIQUE,
    START_METHODS,
    UPGRADE,
    CourseError,
    Limits,
    Rules,
    UnknownExercise,
    load_course,
)

REPO = Path(__file__).parents[1]
MINIMAL = Path(__file__).parent / "courses" / "minimal"


def line_of(text: str, needle: str) -> int:
    """The 1-based line holding needle, which must occur on exactly one line."""
    lines = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(lines) == 1, f"{needle!r} is on lines {lines} of the test course"
    return lines[0]


def course_with(tmp_path: Path, old: str = "", new: str = "") -> tuple[Path, str]:
    """A copy of the minimal course with `old` replaced by `new` in course.yaml: (root, yaml text)."""
    root = tmp_path / "course"
    shutil.copytree(MINIMAL, root)
    text = (root / "course.yaml").read_text()
    if old:
        assert text.count(old) == 1, f"{old!r} must occur once in the fixture"
        text = text.replace(old, new)
        (root / "course.yaml").write_text(text)
    return root, text


def course_from(tmp_path: Path, text: str) -> Path:
    """A course root holding only a course.yaml with this text."""
    root = tmp_path / "course"
    root.mkdir()
    (root / "course.yaml").write_text(text)
    return root


def error_of(root: Path) -> CourseError:
    with pytest.raises(CourseError) as info:
        load_course(root)
    return info.value


def assert_names(error: CourseError, root: Path, line: int | None, field: str | None, fragment: str) -> None:
    """The message starts with file:line: field: and says what is wrong; the attributes agree."""
    message = str(error)
    where = f"{root / 'course.yaml'}:{line}" if line else f"{root / 'course.yaml'}"
    prefix = f"{where}: {field}: " if field else f"{where}: "
    assert message.startswith(prefix), message
    assert fragment in message, message
    assert " Fix: " in message, message
    assert (error.line, error.field) == (line, field)


# -- courses that load -------------------------------------------------------------------


def test_the_real_course_loads_with_its_fourteen_exercises_in_order():
    course = load_course(REPO / "course.yaml")
    assert course.ids == tuple(f"exercise{n}" for n in range(1, 15))
    assert course.find("shared-memory").id == "exercise8"


def test_minimal_course_loads_with_defaults_and_overrides():
    course = load_course(MINIMAL)
    assert course.root == MINIMAL.resolve()
    assert course.path == MINIMAL.resolve() / "course.yaml"
    assert (course.format_version, course.title) == (1, "Minimal course")
    assert (course.welcome_message, course.final_message) == ("Hello.", "All done.")
    assert (course.timeout, course.start_methods) == (5.0, ("fork", "spawn"))
    assert course.limits == Limits(memory_mb=256, processes=8, output_kb=16)

    first, second = course.exercises
    assert (first.id, first.slug, first.title, first.topic) == (
        "exercise1",
        "process",
        "Process basics",
        "Process",
    )
    assert first.file == course.root / "exercises" / "exercise1.py"
    assert first.solution == course.root / "solutions" / "exercise1.py"
    assert first.tests == course.root / "hidden" / "check_exercise1.py"
    assert first.file.is_absolute()
    assert (first.points, first.timeout, first.start_methods) == (10.0, 5.0, ("fork", "spawn"))
    assert first.limits == course.limits
    assert first.hint == "Start the process, then join it."  # the block scalar's newline stripped
    assert [(b.path.relative_to(course.root).as_posix(), b.category) for b in first.known_bugs] == [
        ("variants/exercise1/forgot_join.py", "lifecycle")
    ]
    assert first.correct_variants == (course.root / "variants" / "exercise1" / "also_right.py",)

    assert (second.points, second.timeout, second.start_methods) == (2.5, 20.0, ("spawn",))
    assert second.limits == Limits(memory_mb=256, processes=4, output_kb=16)  # overridden key by key
    assert (second.known_bugs, second.correct_variants) == ((), ())


def test_a_course_yaml_file_path_loads_the_same_course_as_its_directory():
    assert load_course(MINIMAL / "course.yaml") == load_course(MINIMAL)


def test_without_defaults_the_grader_defaults_apply(tmp_path):
    root, _ = course_with(tmp_path, "defaults:\n  timeout: 5\n  start_methods: [fork, spawn]\n", "")
    text = (root / "course.yaml").read_text()
    (root / "course.yaml").write_text(
        text.replace("  limits: {memory_mb: 256, processes: 8, output_kb: 16}\n", "")
    )
    course = load_course(root)
    assert (course.timeout, course.start_methods, course.limits) == (10.0, START_METHODS, Limits())
    assert course.exercises[1].limits == Limits(processes=4)


def test_zero_points_and_an_id_equal_to_its_own_slug_are_allowed(tmp_path):
    root, _ = course_with(tmp_path, "points: 2.5\n", "points: 0\n")
    text = (root / "course.yaml").read_text().replace("slug: lock", "slug: exercise2")
    (root / "course.yaml").write_text(text)
    exercise = load_course(root).exercises[1]
    assert (exercise.points, exercise.slug) == (0.0, "exercise2")


def test_loaded_course_is_frozen():
    course = load_course(MINIMAL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        course.exercises[0].timeout = 99  # type: ignore[misc]


# -- find ---------------------------------------------------------------------------------


def test_find_by_id_and_by_slug():
    course = load_course(MINIMAL)
    assert course.find("exercise2") is course.exercises[1]
    assert course.find("lock") is course.exercises[1]
    assert course.find("process").id == "exercise1"


def test_find_unknown_exercise_suggests_the_nearest_name_and_lists_all():
    course = load_course(MINIMAL)
    with pytest.raises(UnknownExercise) as info:
        course.find("exercize1")
    assert str(info.value) == (
        "Unknown exercise 'exercize1'. Did you mean 'exercise1'? Valid: exercise1 (process), exercise2 (lock)"
    )
    assert info.value.suggestion == "exercise1"
    assert isinstance(info.value, LookupError) and isinstance(info.value, CourseError)


def test_find_unknown_exercise_without_a_near_name_makes_no_suggestion():
    with pytest.raises(UnknownExercise) as info:
        load_course(MINIMAL).find("zzz")
    assert "Did you mean" not in str(info.value)
    assert "Valid: exercise1 (process), exercise2 (lock)" in str(info.value)


# -- the message ---------------------------------------------------------------------------


def test_message_format_is_file_line_field_problem_fix():
    error = CourseError(
        Path("course.yaml"),
        "expected a number, got 'ten'.",
        line=17,
        field="exercises[2].timeout",
        fix="write 10.",
    )
    assert str(error) == "course.yaml:17: exercises[2].timeout: expected a number, got 'ten'. Fix: write 10."


def test_message_shows_a_relative_path_as_given(tmp_path, monkeypatch):
    root, _ = course_with(tmp_path, "timeout: 20", "timeout: ten")
    monkeypatch.chdir(root)
    with pytest.raises(CourseError) as info:
        load_course()
    assert str(info.value).startswith("course.yaml:32: exercises[1].timeout: expected a number, got 'ten'.")


# -- the file as a whole --------------------------------------------------------------------


def test_missing_course_directory(tmp_path):
    with pytest.raises(CourseError) as info:
        load_course(tmp_path / "nowhere")
    assert str(info.value).startswith(f"{tmp_path / 'nowhere'}: no such directory.")
    assert info.value.line is None


def test_directory_without_course_yaml(tmp_path):
    with pytest.raises(CourseError) as info:
        load_course(tmp_path)
    assert str(info.value).startswith(f"{tmp_path / 'course.yaml'}: no such file. Fix: ")


def test_unreadable_file(tmp_path, monkeypatch):
    root = course_from(tmp_path, "format_version: 1\n")

    def refuse(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", refuse)
    assert_names(error_of(root), root, None, None, "cannot read the file (Permission denied).")


def test_file_that_is_not_utf8(tmp_path):
    root = tmp_path / "course"
    root.mkdir()
    (root / "course.yaml").write_bytes(b"format_version: 1\ntitle: caf\xe9\n")
    assert_names(error_of(root), root, None, None, "not valid UTF-8")


@pytest.mark.parametrize(
    "text, line, fragment",
    [
        ("format_version: 1\ntitle: T\nexercises:\n  - id: a\n   slug: b\n", 5, "from line 4"),
        ("format_version: 1\ntitle: [T\nexercises: []\n", 3, "expected ',' or ']'"),
        ("format_version: 1\n\ttitle: T\n", 2, "'\\t'"),
    ],
    ids=["bad-indentation", "unclosed-bracket", "tab"],
)
def test_yaml_syntax_error_gives_yamls_line(tmp_path, text, line, fragment):
    root = course_from(tmp_path, text)
    error = error_of(root)
    assert_names(error, root, line, None, "YAML syntax error: ")
    assert fragment in str(error)


@pytest.mark.parametrize("text", ["", "# nothing but a comment\n"], ids=["empty", "comment-only"])
def test_empty_file(tmp_path, text):
    root = course_from(tmp_path, text)
    assert_names(error_of(root), root, None, None, "the file is empty.")


def test_top_level_not_a_mapping(tmp_path):
    root = course_from(tmp_path, "# a list, by mistake\n- format_version: 1\n- title: T\n")
    assert_names(error_of(root), root, 2, None, "the top level must be a mapping, got a list.")


def test_missing_exercises(tmp_path):
    root = course_from(tmp_path, "format_version: 1\ntitle: T\n")
    assert_names(error_of(root), root, 1, "exercises", "required key is missing.")


def test_empty_exercise_list(tmp_path):
    root = course_from(tmp_path, "format_version: 1\ntitle: T\nexercises: []\n")
    assert_names(error_of(root), root, 3, "exercises", "the list is empty.")


def test_exercises_not_a_list(tmp_path):
    root = course_from(tmp_path, "format_version: 1\ntitle: T\nexercises:\n  exercise1: {}\n")
    assert_names(error_of(root), root, 4, "exercises", "expected a list, got a mapping.")


# -- format_version -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "new, fragment",
    [
        ("format_version: one", "expected a whole number, got 'one'."),
        ("format_version: 1.0", "expected a whole number, got 1.0."),
        ("format_version: true", "expected a whole number, got true."),
        ("format_version: 2", f"format 2: this course needs a newer grader. Fix: {UPGRADE}"),
        ("format_version: 0", "format 0 is not supported"),
    ],
    ids=["text", "float", "bool", "newer", "zero"],
)
def test_format_version_wrong(tmp_path, new, fragment):
    root, text = course_with(tmp_path, "format_version: 1", new)
    assert_names(error_of(root), root, line_of(text, "format_version:"), "format_version", fragment)


def test_format_version_missing(tmp_path):
    root, text = course_with(tmp_path, "format_version: 1\n", "")
    assert_names(
        error_of(root), root, line_of(text, "title: Minimal"), "format_version", "required key is missing."
    )


def test_newer_format_version_is_reported_before_keys_it_may_have_added(tmp_path):
    root, text = course_with(tmp_path, "format_version: 1\n", "format_version: 2\nthemes: dark\n")
    assert_names(error_of(root), root, line_of(text, "format_version:"), "format_version", "newer grader")


# -- keys ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "old, new, needle, field, fragment",
    [
        ("    points: 2.5\n", "    points: 2.5\n    timout: 3\n", "timout", "exercises[1].timout", "'timeout'"),
        ("title: Minimal course\n", "title: Minimal course\ntitel: x\n", "titel", "titel", "'title'"),
        ("  timeout: 5\n", "  timeout: 5\n  start_method: [fork]\n", "start_method:", "defaults.start_method",
         "'start_methods'"),
        ("{processes: 4}", "{procesess: 4}", "procesess", "exercises[1].limits.procesess", "'processes'"),
        ("category: lifecycle}", "category: lifecycle, why: x}", "why: x", "exercises[0].known_bugs[0].why",
         "valid keys here: path, category."),
    ],
    ids=["exercise", "top-level", "defaults", "limits", "known-bug"],
)  # fmt: skip
def test_unknown_key_with_did_you_mean(tmp_path, old, new, needle, field, fragment):
    root, text = course_with(tmp_path, old, new)
    error = error_of(root)
    assert_names(error, root, line_of(text, needle), field, "unknown key.")
    assert fragment in str(error)


@pytest.mark.parametrize(
    "old, new, needle, field",
    [
        ("title: Minimal course\n", "", "format_version:", "title"),
        ("    hint: Take the lock around the print.\n", "", "id: exercise2", "exercises[1].hint"),
        ("    slug: process\n", "", "id: exercise1", "exercises[0].slug"),
        ("forgot_join.py, category: lifecycle}", "forgot_join.py}", "forgot_join", "exercises[0].known_bugs[0].category"),
    ],
    ids=["title", "hint", "slug", "known-bug-category"],
)  # fmt: skip
def test_missing_required_key_names_the_mapping_line(tmp_path, old, new, needle, field):
    root, text = course_with(tmp_path, old, new)
    assert_names(error_of(root), root, line_of(text, needle), field, "required key is missing.")


def test_duplicate_yaml_key(tmp_path):
    root, text = course_with(tmp_path, "    points: 2.5\n", "    points: 2.5\n    points: 3\n")
    first = line_of(text, "points: 2.5")
    assert_names(error_of(root), root, first + 1, "exercises[1].points", f"already set at line {first}.")


# -- types and values -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "old, new, field, fragment",
    [
        ("timeout: 20", "timeout: ten", "exercises[1].timeout", "expected a number, got 'ten'."),
        ("timeout: 20", 'timeout: "20"', "exercises[1].timeout", "expected a number, got '20'."),
        ("timeout: 20", "timeout: .inf", "exercises[1].timeout", "expected a number, got inf."),
        ("points: 2.5", "points: true", "exercises[1].points", "expected a number, got true."),
        ("points: 2.5", "points: -1", "exercises[1].points", "must be 0 or more, got -1."),
        ("  timeout: 5", "  timeout: 0", "defaults.timeout", "must be above 0, got 0."),
        ("{processes: 4}", "{processes: 1.5}", "exercises[1].limits.processes", "whole number above 0, got 1.5."),
        ("memory_mb: 256", "memory_mb: 0", "defaults.limits.memory_mb", "whole number above 0, got 0."),
        ("output_kb: 16", "output_kb: yes", "defaults.limits.output_kb", "whole number above 0, got true."),
        ("{processes: 4}", "[4]", "exercises[1].limits", "expected a mapping, got a list."),
        ("title: Lock", "title: [Lock]", "exercises[1].title", "expected text, got a list."),
        ("topic: Lock", "topic: 42", "exercises[1].topic", "expected text, got 42."),
        ("title: Minimal course", "title: '  '", "title", "must not be empty."),
        ("final_message: All done.", "final_message: 3", "final_message", "expected text, got 3."),
        ("    points: 2.5", "    known_bugs: none", "exercises[1].known_bugs", "expected a list, got 'none'."),
    ],
    ids=["timeout-text", "timeout-quoted", "timeout-inf", "points-bool", "points-negative", "timeout-zero",
         "limit-float", "limit-zero", "limit-bool", "limits-list", "title-list", "topic-number", "title-blank",
         "message-number", "known-bugs-text"],
)  # fmt: skip
def test_wrong_type_or_value(tmp_path, old, new, field, fragment):
    root, text = course_with(tmp_path, old, new)
    assert_names(error_of(root), root, line_of(text, new.strip()), field, fragment)


def test_exercise_that_is_not_a_mapping(tmp_path):
    root, text = course_with(tmp_path, "exercises:\n", "exercises:\n  - exercise0\n")
    assert_names(
        error_of(root),
        root,
        line_of(text, "- exercise0"),
        "exercises[0]",
        "expected a mapping, got 'exercise0'.",
    )


@pytest.mark.parametrize(
    "old, new, field, fragment",
    [
        ("start_methods: [spawn]", "start_methods: []", "exercises[1].start_methods", "the list is empty."),
        ("start_methods: [spawn]", "start_methods: spawn", "exercises[1].start_methods", "expected a list"),
        ("start_methods: [spawn]", "start_methods: [spawn, thread]", "exercises[1].start_methods[1]",
         "'thread' is not a start method."),
        ("start_methods: [fork, spawn]", "start_methods: [fork, spawn, fork]", "defaults.start_methods[2]",
         "'fork' is listed twice."),
    ],
    ids=["empty", "not-a-list", "unknown", "duplicate"],
)  # fmt: skip
def test_start_methods(tmp_path, old, new, field, fragment):
    root, text = course_with(tmp_path, old, new)
    assert_names(error_of(root), root, line_of(text, new), field, fragment)


# -- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "old, new, first, field",
    [
        ("id: exercise2", "id: exercise1", "exercises[0].id", "exercises[1].id"),
        ("slug: lock", "slug: process", "exercises[0].slug", "exercises[1].slug"),
        ("id: exercise2", "id: process", "exercises[0].slug", "exercises[1].id"),
        ("slug: lock", "slug: exercise1", "exercises[0].id", "exercises[1].slug"),
    ],
    ids=["id", "slug", "id-equals-other-slug", "slug-equals-other-id"],
)
def test_duplicate_names_give_both_lines(tmp_path, old, new, first, field):
    root, text = course_with(tmp_path, old, new)
    value = new.split(": ")[1]
    lines = [n for n, line in enumerate(text.splitlines(), 1) if line.endswith(f": {value}")]
    assert len(lines) == 2
    message = f"'{value}' is already used at line {lines[0]} ({first}). Fix: {FIX_UNIQUE}"
    assert_names(error_of(root), root, lines[1], field, message)


@pytest.mark.parametrize(
    "old, new, field, fragment",
    [
        ("slug: lock", "slug: list", "exercises[1].slug", "'list' is a sub-command"),
        ("id: exercise2", "id: hint", "exercises[1].id", "'hint' is a sub-command"),
        ("id: exercise2", "id: Exercise2", "exercises[1].id", "'Exercise2' is not a valid name."),
        ("slug: lock", "slug: '-lock'", "exercises[1].slug", "'-lock' is not a valid name."),
        ("slug: lock", "slug: my lock", "exercises[1].slug", "'my lock' is not a valid name."),
        ("id: exercise2", "id: 2", "exercises[1].id", "expected text, got 2."),
    ],
    ids=["reserved-slug", "reserved-id", "uppercase", "leading-dash", "space", "number"],
)
def test_bad_names(tmp_path, old, new, field, fragment):
    root, text = course_with(tmp_path, old, new)
    assert_names(error_of(root), root, line_of(text, new), field, fragment)


@pytest.mark.parametrize(
    "new, fragment",
    [
        ('hint: "   "', "the hint is empty."),
        ("hint: ''", "the hint is empty."),
        ("hint: ~", "expected text, got nothing."),
    ],
    ids=["whitespace", "empty", "null"],
)
def test_empty_hint(tmp_path, new, fragment):
    root, text = course_with(tmp_path, "hint: Take the lock around the print.", new)
    assert_names(error_of(root), root, line_of(text, new), "exercises[1].hint", fragment)


# -- paths ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "old, new, field, fragment",
    [
        ("file: exercises/exercise2.py", "file: ./exercises", "exercises[1].file", "is a directory, not a file."),
        ("solution: solutions/exercise2.py", "solution: /etc/hostname", "exercises[1].solution",
         "'/etc/hostname' is not a path inside the course root."),
        ("tests: hidden/check_exercise2.py", "tests: ../course/hidden/check_exercise2.py", "exercises[1].tests",
         "is not a path inside the course root."),
    ],
    ids=["directory", "absolute", "dot-dot"],
)  # fmt: skip
def test_bad_paths(tmp_path, old, new, field, fragment):
    root, text = course_with(tmp_path, old, new)
    error = error_of(root)
    assert_names(error, root, line_of(text, new.strip(" -,")), field, fragment)


@pytest.mark.parametrize(
    "old, new, index, name, field",
    [
        ("file: exercises/exercise2.py", "file: exercises/exercise9.py", 1, "file", "exercises[1].file"),
        ("forgot_join.py,", "gone.py,", 0, "known_bugs[0].path", "exercises[0].known_bugs[0].path"),
        ("- variants/exercise1/also_right.py", "- variants/exercise1/gone.py", 0, "correct_variants[0]",
         "exercises[0].correct_variants[0]"),
        ("tests: hidden/check_exercise2.py", "tests: hidden/gone.py", 1, "tests", "exercises[1].tests"),
    ],
    ids=["stub", "known-bug", "correct-variant", "hidden-checks"],
)  # fmt: skip
def test_a_missing_file_loads_and_is_named_by_its_line_when_needed(tmp_path, old, new, index, name, field):
    """An edition may lack any of these files: the course loads, and whoever needs the file
    (grading, `grade check`) gets the error with the line of course.yaml that names it."""
    root, text = course_with(tmp_path, old, new)
    course = load_course(root)
    error = course.missing(course.exercises[index], name)
    assert_names(error, root, line_of(text, new.strip(" -,")), field, "does not exist.")


def test_a_student_edition_without_solutions_variants_or_hidden_checks_loads(tmp_path):
    root, _ = course_with(tmp_path)
    for folder in ("solutions", "variants", "hidden"):
        shutil.rmtree(root / folder)
    (root / "exercises" / "exercise2.py").unlink()
    course = load_course(root)
    first, second = course.exercises
    assert (first.file_missing, second.file_missing) == (False, True)
    assert not first.has_checks
    with pytest.raises(CourseError) as info:
        course.require_checks([first])
    assert "exercises[0].tests" in str(info.value) and "--with-checks" in str(info.value)


def test_the_solution_may_be_left_out_of_course_yaml(tmp_path):
    root, _ = course_with(tmp_path, "    solution: solutions/exercise2.py\n", "")
    assert load_course(root).exercises[1].solution is None


def test_rules_have_documented_defaults_and_can_be_set(tmp_path):
    assert load_course(MINIMAL).rules == Rules()
    assert (Rules().min_checks, Rules().min_known_bugs, Rules().min_correct_variants) == (4, 3, 1)
    root, _ = course_with(tmp_path, "exercises:\n", "rules: {min_checks: 2, every_check_failed_by_a_bug: false}\n"
                                                    "exercises:\n")
    assert load_course(root).rules == Rules(min_checks=2, every_check_failed_by_a_bug=False)


@pytest.mark.parametrize(
    "rules, field, fragment",
    [
        ("rules: {min_check: 2}", "rules.min_check", "Did you mean 'min_checks'?"),
        ("rules: {min_known_bugs: -1}", "rules.min_known_bugs", "expected a whole number"),
        ("rules: {every_check_failed_by_a_bug: 1}", "rules.every_check_failed_by_a_bug", "expected true or false"),
    ],
    ids=["typo", "negative", "not-a-bool"],
)  # fmt: skip
def test_bad_rules(tmp_path, rules, field, fragment):
    root, text = course_with(tmp_path, "exercises:\n", rules + "\nexercises:\n")
    assert_names(error_of(root), root, line_of(text, rules), field, fragment)


def test_path_through_a_link_that_leaves_the_root(tmp_path):
    root, text = course_with(tmp_path)
    outside = tmp_path / "outside.py"
    outside.write_text("")
    (root / "exercises" / "exercise2.py").unlink()
    (root / "exercises" / "exercise2.py").symlink_to(outside)
    error = error_of(root)
    assert_names(
        error, root, line_of(text, "file: exercises/exercise2.py"), "exercises[1].file", "leads outside"
    )


# -- known bugs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "new, fragment",
    [
        ("category: pass}", "'pass': a known bug must fail"),
        ("category: error}", "'error': a known bug must fail"),
        ("category: flaky}", "'flaky': not a category to fail with."),
    ],
    ids=["pass", "error", "unknown"],
)
def test_known_bug_category(tmp_path, new, fragment):
    root, text = course_with(tmp_path, "category: lifecycle}", new)
    error = error_of(root)
    assert_names(error, root, line_of(text, new), "exercises[0].known_bugs[0].category", fragment)
    assert "use one of not_implemented, wrong_result," in str(error)


def test_known_bug_that_is_not_a_mapping(tmp_path):
    old = "{path: variants/exercise1/forgot_join.py, category: lifecycle}"
    root, text = course_with(tmp_path, old, "variants/exercise1/forgot_join.py")
    field = "exercises[0].known_bugs[0]"
    assert_names(
        error_of(root), root, line_of(text, "forgot_join"), field, "expected a mapping, got 'variants/"
    )
