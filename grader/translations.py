"""The course's own texts in other languages: course.<lang>.yaml beside course.yaml.

course.yaml holds the English texts; course.zh.yaml (for example) has the same shape, with
only the texts, and exercises keyed by id:

    title: ...
    welcome_message: |
      ...
    final_message: |
      ...
    exercises:
      exercise1:
        title: ...
        topic: ...
        hint: |
          ...

A file of its own, so that a translator and the people editing course.yaml never touch the
same lines. `translate` gives the course with its texts in a language (English where a text
has no translation: `missing` lists those, and `grade check` fails on them). The grader's
own words are not here: they are in gettext catalogues (grader/i18n.py).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import yaml
from yaml.nodes import MappingNode

from .course import Course, CourseError, _Reader
from .i18n import DEFAULT

COURSE_TEXTS = ("title", "welcome_message", "final_message")
EXERCISE_TEXTS = ("title", "topic", "hint")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when there: ~10x faster to read


def path_of(course: Course, lang: str) -> Path:
    return course.path.with_name(f"{course.path.stem}.{lang}{course.path.suffix}")


def read(course: Course, lang: str) -> tuple[dict[str, str], dict[str, dict[str, str]]] | None:
    """(course texts, {exercise id: texts}) of the language's file; None when there is none."""
    path = path_of(course, lang)
    if not path.is_file():
        return None
    try:
        document = yaml.compose(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise CourseError(path, f"cannot be read as YAML ({error}).", fix="save it as UTF-8 YAML.") from error
    reader = _Reader(path, path.resolve())
    if document is None:
        return {}, {}
    if not isinstance(document, MappingNode):
        reader.fail(document, None, "the top level must be a mapping.", "write `title: ...`, `exercises:`.")
    keys = reader.mapping(document, "", (), (*COURSE_TEXTS, "exercises"))
    texts = {k: reader.text(keys[k], k) for k in COURSE_TEXTS if k in keys}
    ids = course.ids
    exercises: dict[str, dict[str, str]] = {}
    for name, node in reader.mapping(keys.get("exercises"), "exercises", (), None).items():
        if name not in ids:
            reader.fail(node, f"exercises.{name}", "course.yaml has no exercise with this id.",
                        f"use one of {', '.join(ids)}.")
        fields = reader.mapping(node, f"exercises.{name}", (), EXERCISE_TEXTS)
        exercises[name] = {k: reader.text(v, f"exercises.{name}.{k}") for k, v in fields.items()}
    return texts, exercises


def translate(course: Course, lang: str) -> Course:
    """The course with every text that has a translation into `lang` in that language."""
    if lang == DEFAULT:
        return course
    found = read(course, lang)
    if found is None:
        return course
    texts, exercises = found
    given = {k: v for k, v in texts.items() if v.strip()}
    translated = tuple(
        replace(ex, **{k: (v.strip() if k == "hint" else v)
                       for k, v in exercises.get(ex.id, {}).items() if v.strip()})
        for ex in course.exercises)
    return replace(course, exercises=translated, **given)


def missing(course: Course, lang: str, exercises=None) -> list[str]:
    """Every text of `course` with no translation into `lang`: the course's own, and those of
    `exercises` (default: all of them)."""
    if lang == DEFAULT:
        return []
    found = read(course, lang)
    path = path_of(course, lang).name
    if found is None:
        return [f"{path} does not exist: no text of the course is translated"]
    texts, by_id = found
    problems = [f"{path}: {k} is not translated" for k in COURSE_TEXTS
                if getattr(course, k).strip() and not texts.get(k, "").strip()]
    for ex in course.exercises if exercises is None else exercises:
        problems += [f"{path}: exercises.{ex.id}.{k} is not translated" for k in EXERCISE_TEXTS
                     if getattr(ex, k).strip() and not by_id.get(ex.id, {}).get(k, "").strip()]
    return problems
