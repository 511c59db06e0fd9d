"""English and Chinese: nothing lacks a translation, `--lang zh` is Chinese throughout, and the
language is chosen by --lang, then the course's `language:`, then the locale."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import ROOT

from grader import catalog, i18n, translations
from grader.cli import main
from grader.commands import COMMANDS, load
from grader.course import CourseError, load_course

PACKAGE = ROOT / "grader"
SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if "locale" not in p.parts)
VARIANTS = ROOT / "tests" / "variants" / "exercise1"


# --------------------------------------------------------------------------- completeness


def test_every_message_of_the_grader_has_a_chinese_translation_with_the_same_placeholders():
    template = catalog.extract()
    assert len(template) > 250  # the extraction really found the grader's messages
    assert catalog.problems("zh", template) == []


def test_every_text_of_the_course_has_a_chinese_counterpart(course):
    assert translations.missing(course, "zh") == []


def test_every_command_describes_itself_in_both_languages():
    have = catalog.read("zh")
    for name in COMMANDS:
        entry = have.get(load(name).HELP)
        assert entry is not None and entry.string, f"`grade {name}`: its HELP is not in the catalogue"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_templates_are_translated_never_formatted_text(path):
    """`_()` of an f-string or a sum would look up a text no catalogue can hold; a check name or
    an on_timeout advice that is not a plain constant is invisible to the extractor."""
    assert catalog.untranslatable(path) == []


def test_text_made_at_run_time_is_found(tmp_path):
    source = tmp_path / "test_x.py"
    source.write_text('_(f"{n} items")\n_("ok {n}").format(n=1)\n_(HANG)\n'
                      '@check(f"check {N}", uses=d)\ndef t(obs): pass\n'
                      '@check("fine", uses=d, on_timeout="unmarked")\ndef u(obs): pass\n')
    found = catalog.untranslatable(source)
    assert [f.split(":")[1] for f in found] == ["1", "4", "6"], found


def test_a_placeholder_the_translation_drops_is_found(tmp_path, monkeypatch):
    po = tmp_path / "zh" / "LC_MESSAGES" / "grader.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
                  'msgid "{n} of {m} items arrived"\nmsgstr "到达了 {n} 项"\n\n'
                  'msgid "untouched"\nmsgstr ""\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    needed = catalog.Catalog()
    needed.add("{n} of {m} items arrived", locations=[("x.py", 1)])
    needed.add("untouched", locations=[("x.py", 2)])
    needed.add("never seen", locations=[("x.py", 3)])
    found = catalog.problems("zh", needed)
    assert len(found) == 3
    assert "placeholders ['n'], the English ['m', 'n']" in found[0]
    assert "no zh translation of 'untouched'" in found[1] and "'never seen'" in found[2]


# --------------------------------------------------------------------------- exercise 1 in Chinese

ENGLISH_WORDS = re.compile(r"\b[A-Za-z]{2,}(?:[ ,;]+[A-Za-z]{2,})+\b")
# What stays as it is in Chinese text: code, paths, API and process names, start methods.
KEPT = re.compile(r"`[^`]*`|\S+\.py(?::\d+)?|\w+\(\)|\b(?:Process|Pool|Manager|fork|forkserver|spawn|"
                  r"MainProcess|Python|multiprocessing|exitcode|args|kwargs|join|terminate|grade|hint|"
                  r"exercise\d+|TODO|NotImplementedError|True|False|None|sys\.exit\(\d*\)|verbose)\b")


def english_sentences(text: str) -> list[str]:
    """Runs of two or more English words left after code, paths and API names are taken out."""
    return [m.group() for line in text.splitlines() for m in ENGLISH_WORDS.finditer(KEPT.sub(" ", line))]


def test_kept_words_are_not_mistaken_for_english_and_english_is_found():
    assert english_sentences("✗ 子进程同时运行   [没有并行 · fork, spawn]") == []
    assert english_sentences("位置：exercises/exercise1_process.py:43") == []
    assert english_sentences("  ✗ is_alive()：启动前为 False，运行中为 True") == []
    assert english_sentences("Score 0/10 · 7 项检查中通过 0 项") == []  # one word is not a sentence...
    assert english_sentences("start_named() still raises NotImplementedError") == ["still raises"]  # ...two are


@pytest.mark.parametrize("submission", [None, "start_join_same_loop.py", "forgets_join.py"],
                         ids=["stub", "not_parallel", "lifecycle"])
def test_grade_lang_zh_exercise1_is_chinese_throughout(submission, capsys):
    args = ["--lang", "zh", "exercise1", "--course", str(ROOT), "--start-method", "fork", "--no-color", "-v"]
    if submission:
        args += ["--submission", str(VARIANTS / submission)]
    else:
        args += ["--submission", str(ROOT / "exercises" / "exercise1_process.py")]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "进程基础" in out  # the title, from course.zh.yaml
    assert "得分" in out and "项检查中通过" in out  # the summary
    assert "提示：运行 `grade hint exercise1`。" in out
    assert english_sentences(out) == []


def test_the_json_verdict_follows_lang_and_keeps_its_identifiers(capsys):
    args = ["exercise1", "--lang", "zh", "--course", str(ROOT), "--start-method", "fork", "--format", "json",
            "--submission", str(VARIANTS / "forgets_join.py")]
    assert main(args) == 1
    verdict = json.loads(capsys.readouterr().out)
    failed = [c for c in verdict["checks"] if c["status"] == "fail"]
    assert failed and failed[0]["category"] == "lifecycle" and failed[0]["start_method"] == "fork"
    assert failed[0]["name"] == "start_named() 返回之前，每个子进程都已被 join"
    assert "从未被 join" in failed[0]["message"]
    assert verdict["title"] == "进程基础" and "子进程" in verdict["hint"]


def test_the_same_run_in_english_is_english(capsys):
    args = ["exercise1", "--lang", "en", "--course", str(ROOT), "--start-method", "fork", "--no-color",
            "--submission", str(VARIANTS / "forgets_join.py")]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "These children were started but never joined" in out and "Score" in out
    assert not re.search(r"[\u4e00-\u9fff]", out)


def test_after_a_chinese_call_the_library_speaks_english_again(capsys):
    assert main(["--lang", "zh", "hint", "exercise1", "--course", str(ROOT)]) == 0
    assert "的提示" in capsys.readouterr().out
    assert i18n.language() == "en" and i18n._("Not run") == "Not run"


# --------------------------------------------------------------------------- which language


@pytest.fixture
def tiny_course(tmp_path):
    """A course of one exercise (nothing in it runs): for the language's precedence."""
    for name, text in {"exercises/ex1_a.py": "# TODO\n", "solutions/ex1_a.py": "", "hidden/test_ex1_a.py": ""}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "course.yaml").write_text(
        "format_version: 1\ntitle: Tiny\nexercises:\n"
        "  - {id: ex1, slug: a, title: First, topic: Process, file: exercises/ex1_a.py,\n"
        "     solution: solutions/ex1_a.py, tests: hidden/test_ex1_a.py, hint: Think.}\n")
    (tmp_path / "course.zh.yaml").write_text(
        "title: 小课程\nexercises:\n  ex1: {title: 第一个, topic: 进程, hint: 想一想。}\n", encoding="utf-8")
    return tmp_path


def set_default(root: Path, language: str) -> None:
    path = root / "course.yaml"
    path.write_text(path.read_text().replace("title: Tiny\n", f"title: Tiny\nlanguage: {language}\n"))


def hint_of(root: Path, capsys, *flags) -> str:
    assert main(["hint", "ex1", "--course", str(root), *flags]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("flag, default, locale, expected", [
    ("zh", "en", "C.UTF-8", "zh"),  # the flag wins over the course
    ("en", "zh", "zh_CN.UTF-8", "en"),  # ... and over the locale
    (None, "zh", "C.UTF-8", "zh"),  # the course's default wins over the locale
    (None, "en", "zh_CN.UTF-8", "en"),
    (None, None, "zh_CN.UTF-8", "zh"),  # the locale decides when nothing else does
    (None, None, "C.UTF-8", "en"),
    (None, None, "fr_FR.UTF-8", "en"),  # a language we do not have: English
])
def test_flag_then_course_default_then_locale(tiny_course, capsys, monkeypatch, flag, default, locale, expected):
    for variable in i18n.LOCALE_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", locale)
    if default:
        set_default(tiny_course, default)
    out = hint_of(tiny_course, capsys, *(["--lang", flag] if flag else []))
    assert out == ("ex1（第一个）的提示：\n\n想一想。\n" if expected == "zh" else "Hint for ex1 (First):\n\nThink.\n")


def test_lc_all_outranks_lang_as_posix_says():
    assert i18n.from_locale({"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}) == "zh"
    assert i18n.from_locale({"LC_ALL": "", "LC_MESSAGES": "en_GB", "LANG": "zh_CN"}) == "en"
    assert i18n.from_locale({}) == "en"


def test_lang_may_stand_anywhere_and_a_wrong_one_is_refused(tiny_course, capsys):
    assert main(["--lang", "zh", "hint", "ex1", "--course", str(tiny_course)]) == 0
    assert main(["hint", "--lang=zh", "ex1", "--course", str(tiny_course)]) == 0
    assert capsys.readouterr().out.count("想一想。") == 2
    assert main(["hint", "ex1", "--lang", "fr", "--course", str(tiny_course)]) == 2
    assert "invalid choice: 'fr'" in capsys.readouterr().err


def test_parsers_words_follow_the_language(tiny_course, capsys):
    with pytest.raises(SystemExit):
        main(["--lang", "zh", "hint", "--help"])
    out = capsys.readouterr().out
    assert out.startswith("用法：grade hint") and "显示本帮助信息并退出" in out and "某个练习的提示" in out


def test_an_unknown_course_language_names_the_file_and_the_choices(tiny_course):
    set_default(tiny_course, "fr")
    with pytest.raises(CourseError, match=r"course.yaml:\d+: language: 'fr' is not a language.*en, zh"):
        load_course(tiny_course)


def test_a_missing_or_unknown_translation_is_reported(tiny_course):
    course = load_course(tiny_course)
    assert translations.missing(course, "zh") == []
    (tiny_course / "course.zh.yaml").write_text("exercises:\n  ex1: {title: 第一个}\n", encoding="utf-8")
    assert translations.missing(course, "zh") == [
        "course.zh.yaml: title is not translated", "course.zh.yaml: exercises.ex1.topic is not translated",
        "course.zh.yaml: exercises.ex1.hint is not translated"]
    (tiny_course / "course.zh.yaml").write_text("exercises:\n  ex9: {title: 第九个}\n", encoding="utf-8")
    with pytest.raises(CourseError, match=r"course.zh.yaml:2: exercises.ex9: course.yaml has no exercise"):
        translations.translate(course, "zh")


def test_grade_check_fails_when_a_text_lacks_a_translation(tiny_course):
    from grader.validate import translation_findings

    course = load_course(tiny_course)
    assert [f.ok for f in translation_findings(course, list(course.exercises))] == [True]
    (tiny_course / "course.zh.yaml").write_text("title: 小课程\nexercises:\n  ex1: {title: 第一个, topic: 进程}\n",
                                                encoding="utf-8")
    (tiny_course / "hidden" / "test_ex1_a.py").write_text(
        'from grader.checks import _, check\n@check(f"{1} runs", uses=None)\ndef test_a(obs):\n'
        '    raise AssertionError(_("a message nobody translated"))\n')
    problems = [f.text for f in translation_findings(course, list(course.exercises)) if not f.ok]
    assert len(problems) == 3, problems
    assert "exercises.ex1.hint is not translated" in problems[0]
    assert "a check name made at run time" in problems[1]
    assert "no zh translation of 'a message nobody translated'" in problems[2]


def test_a_course_that_offers_no_other_language_is_not_asked_for_one(tiny_course):
    from grader.validate import translation_findings

    (tiny_course / "course.zh.yaml").unlink()
    course = load_course(tiny_course)
    assert list(translation_findings(course, list(course.exercises))) == []
    set_default(tiny_course, "zh")  # a Chinese course must have its Chinese texts
    course = load_course(tiny_course)
    assert [f.ok for f in translation_findings(course, list(course.exercises))] == [False]


def test_the_committed_mo_is_the_po_compiled():
    """The grader reads the .mo; people edit the .po: `python -m grader.catalog update` keeps them in step."""
    assert i18n.compiled_path("zh").read_bytes() == catalog.compile_mo("zh")


def test_chinese_at_run_time_needs_no_babel():
    """Babel reads .po files (slow to import and to parse); the grader only reads the .mo."""
    import subprocess
    import sys

    code = ("import sys; from grader import i18n; i18n.set_language('zh'); "
            "assert i18n._('Not run') == '未运行', i18n._('Not run'); "
            "print(sorted(m for m in sys.modules if m.startswith('babel')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_the_overview_speaks_the_course_language(tiny_course, capsys):
    set_default(tiny_course, "zh")
    assert main(["--course", str(tiny_course)]) == 0
    out = capsys.readouterr().out
    assert "小课程" in out and "进度：" in out and "第一个" in out and "未开始" in out
    assert "command:" not in out and "命令：grade ex1" in out
