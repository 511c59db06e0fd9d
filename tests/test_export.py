"""The platform exports, run as the platforms run them.

Gradescope: the exported zip is unpacked into a temporary autograder tree and its own
`run_autograder` grades a correct, a buggy, a hanging, a flooding and a one-file
submission; each results.json is validated against Gradescope's format. Exercism:
`bin/run.sh` likewise. GitHub Actions: the exported workflow's own steps run in a copy of
the course with GITHUB_STEP_SUMMARY pointed at a file. Visibility: course.yaml's settings
reach the Gradescope results, and a check name that does not exist is refused.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import BUG_TIMEOUT

from grader.cli import main
from grader.course import load_course
from grader.report import gradescope
from grader.runner import Options, grade

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "tests" / "schemas"
EXERCISES = "exercise1,exercise4"
SOLUTION = ROOT / "solutions"
FAST = "--start-method fork"  # one start method where the case is about the submission, not the matrix

pytestmark = pytest.mark.xdist_group("export")


def validate(document: dict, schema_name: str) -> None:
    """Against the schemas of tests/schemas/ (written from each platform's documentation)."""
    jsonschema.Draft202012Validator(json.loads((SCHEMAS / schema_name).read_text())).validate(document)


def submission(folder: Path, exercise1: Path | None, exercise4: Path | None = SOLUTION / "exercise4_pipe.py") -> Path:
    folder.mkdir(parents=True)
    if exercise1 is not None:
        shutil.copy(exercise1, folder / "exercise1_process.py")
    if exercise4 is not None:
        shutil.copy(exercise4, folder / "exercise4_pipe.py")
    return folder


CASES = {
    # name: (exercise1's file, exercise4's file, extra grade options, what exercise1's checks must show)
    "correct": (SOLUTION / "exercise1_process.py", SOLUTION / "exercise4_pipe.py", "", {"pass"}),
    "buggy": (ROOT / "tests/variants/exercise1/forgets_join.py", SOLUTION / "exercise4_pipe.py", FAST,
              {"pass", "lifecycle"}),
    "hangs": (ROOT / "tests/submissions/exercise1_deadlocks.py", SOLUTION / "exercise4_pipe.py", FAST,
              {"timeout"}),
    "floods": (ROOT / "tests/submissions/exercise1_floods_output.py", SOLUTION / "exercise4_pipe.py", FAST,
               {"resource"}),
    "one_file": (None, SOLUTION / "exercise4_pipe.py", FAST, {"not_implemented"}),
}


# ----------------------------------------------------------------------------- Gradescope


@pytest.fixture(scope="module")
def gradescope_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "autograder.zip"
    assert main(["export", "gradescope", str(out), "--exercises", EXERCISES, "--course", str(ROOT)]) == 0
    return out


def test_the_zip_holds_the_autograder_and_no_answers(gradescope_zip):
    with zipfile.ZipFile(gradescope_zip) as zf:
        names = set(zf.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
    assert {"setup.sh", "run_autograder", "course.yaml", "pyproject.toml"} <= names
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    assert {"grader/hidden/test_exercise1_process.py", "grader/hidden/test_exercise4_pipe.py"} <= names
    assert "grader/hidden/test_exercise2_lock.py" not in names, "only the chosen exercises' checks"
    assert not [n for n in names if n.startswith(("solutions/", "tests/")) or "__pycache__" in n]
    assert {"exercises/exercise1_process.py", "exercises/exercise4_pipe.py"} <= names
    with zipfile.ZipFile(gradescope_zip) as zf:
        manifest = zf.read("course.yaml").decode()
    assert "solutions/" not in manifest and "known_bugs" not in manifest and "tests/variants" not in manifest


@pytest.fixture(scope="module")
def autograder_tree(gradescope_zip, tmp_path_factory) -> Path:
    tree = tmp_path_factory.mktemp("autograder")
    with zipfile.ZipFile(gradescope_zip) as zf:
        zf.extractall(tree / "source")
    for name in ("run_autograder", "setup.sh"):
        (tree / "source" / name).chmod(0o755)
    return tree


def _timeout(extra: str) -> dict[str, str]:
    """A short time limit per check where the case is about a hang or a bug; the course's own for a correct run."""
    return {"GRADER_TIMEOUT": f"{BUG_TIMEOUT:g}"} if extra else {}


def run_autograder(tree: Path, folder: Path, extra: str, tmp_path: Path) -> tuple[dict, subprocess.CompletedProcess]:
    case = tmp_path / "autograder"
    shutil.copytree(tree / "source", case / "source", symlinks=True)
    shutil.copytree(folder, case / "submission")
    env = {**os.environ, "GRADER_AUTOGRADER_DIR": str(case), "GRADER_PYTHON": sys.executable,
           "GRADER_EXTRA_ARGS": extra, **_timeout(extra)}
    done = subprocess.run(["bash", str(case / "source" / "run_autograder")], env=env, capture_output=True,
                          text=True, timeout=600, cwd=tmp_path)
    return json.loads((case / "results" / "results.json").read_text()), done


@pytest.mark.parametrize("case", CASES)
def test_run_autograder_always_writes_results(case, autograder_tree, tmp_path):
    exercise1, exercise4, extra, expected = CASES[case]
    folder = submission(tmp_path / "upload", exercise1, exercise4)
    results, done = run_autograder(autograder_tree, folder, extra, tmp_path)
    assert done.returncode == 0
    assert '"tests"' not in done.stdout, "results.json never goes to stdout"
    validate(results, "gradescope-results.schema.json")
    tests = {t["name"]: t for t in results["tests"]}
    ex1 = [t for name, t in tests.items() if name.startswith("exercise1 · ")]
    ex4 = [t for name, t in tests.items() if name.startswith("exercise4 · ")]
    assert ex1 and ex4
    assert all(t["status"] == "passed" for t in ex4), "exercise 4 is right in every case"
    if expected == {"pass"}:
        assert all(t["status"] == "passed" for t in ex1) and results["score"] == 20
    else:
        assert any(t["status"] == "failed" for t in ex1)
        shown = " ".join(t["output"] for t in ex1)
        assert all(f"({category})" in shown for category in expected - {"pass"}), shown
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]), abs=0.01)


def test_a_submission_in_an_exercises_folder_is_found(autograder_tree, tmp_path):
    upload = tmp_path / "upload"
    submission(upload / "exercises", SOLUTION / "exercise1_process.py")
    results, _ = run_autograder(autograder_tree, upload, FAST, tmp_path)
    validate(results, "gradescope-results.schema.json")
    assert results["score"] == 20


def test_when_grade_cannot_run_results_json_still_says_why(autograder_tree, tmp_path):
    folder = submission(tmp_path / "upload", SOLUTION / "exercise1_process.py")
    shutil.copytree(autograder_tree / "source", tmp_path / "broken" / "source")
    (tmp_path / "broken" / "source" / "course.yaml").write_text("format_version: [")
    env = {**os.environ, "GRADER_AUTOGRADER_DIR": str(tmp_path / "broken"), "GRADER_PYTHON": sys.executable,
           "GRADER_SUBMISSION_DIR": str(folder)}
    done = subprocess.run(["bash", str(tmp_path / "broken" / "source" / "run_autograder")], env=env,
                          capture_output=True, text=True, timeout=120)
    results = json.loads((tmp_path / "broken" / "results" / "results.json").read_text())
    assert done.returncode == 0
    validate(results, "gradescope-results.schema.json")
    assert results["score"] == 0 and "course.yaml" in results["output"]


# ----------------------------------------------------------------------------- visibility


def _course_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "course"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".git", ".venv", ".grade", "__pycache__", "*.egg-info",
                                                              "bench", "docs"))
    return copy


def _set_exercise_keys(course_root: Path, exercise_id: str, text: str) -> None:
    """Append YAML keys to one exercise's entry, leaving the rest of course.yaml as it is."""
    path = course_root / "course.yaml"
    lines = path.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == f"- id: {exercise_id}")
    lines.insert(start + 1, text)
    path.write_text("".join(lines))


def test_visibility_comes_from_the_course(tmp_path):
    copy = _course_copy(tmp_path)
    _set_exercise_keys(copy, "exercise1", '    visibility: after_due_date\n    check_visibility:\n'
                                          '      "the children run at the same time": hidden\n')
    course = load_course(copy)
    exercise = course.find("exercise1")
    assert exercise.visibility_of("the children run at the same time") == "hidden"
    assert exercise.visibility_of("args and kwargs reach the child") == "after_due_date"
    run = grade(course, [exercise, course.find("exercise4")], SOLUTION, Options(start_methods=("fork",)))
    from grader.commands.grade import visibility
    results = json.loads(gradescope.render(run, visibility=visibility(course.exercises)))
    by_name = {t["name"]: t["visibility"] for t in results["tests"]}
    assert by_name["exercise1 · the children run at the same time"] == "hidden"
    assert by_name["exercise1 · args and kwargs reach the child"] == "after_due_date"
    assert {v for n, v in by_name.items() if n.startswith("exercise4")} == {"visible"}
    assert "exercise1" not in results["output"] and "exercise4" in results["output"], \
        "the summary tells nothing a hidden test would not"
    assert "Total" not in results["output"]


def test_an_unknown_check_name_is_refused_with_its_field(tmp_path, capsys):
    copy = _course_copy(tmp_path)
    _set_exercise_keys(copy, "exercise1", '    check_visibility:\n      "no such check": hidden\n')
    code = main(["export", "gradescope", str(tmp_path / "a.zip"), "--course", str(copy)])
    err = capsys.readouterr().err
    assert code == 2
    assert "no check named 'no such check'" in err and "exercise1.check_visibility" in err
    assert not (tmp_path / "a.zip").exists()


def test_a_wrong_visibility_names_its_line(tmp_path):
    copy = _course_copy(tmp_path)
    _set_exercise_keys(copy, "exercise1", "    visibility: secret\n")
    with pytest.raises(Exception, match=r"course.yaml:\d+: exercises\[0\].visibility: 'secret' is not a visibility"):
        load_course(copy)


# ----------------------------------------------------------------------------- Exercism


def run_exercism(slug: str, folder: Path, out: Path, extra: str = FAST) -> tuple[dict, subprocess.CompletedProcess]:
    env = {**os.environ, "GRADER_PYTHON": sys.executable, "GRADER_EXTRA_ARGS": extra, **_timeout(extra)}
    done = subprocess.run(["bash", str(ROOT / "bin" / "run.sh"), slug, str(folder), str(out)], env=env,
                          capture_output=True, text=True, timeout=120)
    return json.loads((out / "results.json").read_text()), done


@pytest.mark.parametrize("case", CASES)
def test_exercism_runner_reports_every_case(case, tmp_path):
    exercise1, _, extra, expected = CASES[case]
    folder = submission(tmp_path / "solution", exercise1, None)
    results, done = run_exercism("process", folder, tmp_path / "out", extra)
    assert done.returncode == 0 and done.stdout == ""
    validate(results, "exercism-results-v3.schema.json")
    assert results["version"] == 3
    assert results["status"] == ("pass" if expected == {"pass"} else "fail")
    if expected != {"pass"}:
        messages = " ".join(t.get("message", "") for t in results["tests"])
        assert all(f"({category})" in messages for category in expected - {"pass"}), messages


def test_exercism_runner_reads_the_solution_file_from_meta_config(tmp_path):
    folder = tmp_path / "solution"
    (folder / ".meta").mkdir(parents=True)
    shutil.copy(SOLUTION / "exercise1_process.py", folder / "process.py")
    (folder / ".meta" / "config.json").write_text(json.dumps({"files": {"solution": ["process.py"]}}))
    results, _ = run_exercism("process", folder, tmp_path / "out")
    validate(results, "exercism-results-v3.schema.json")
    assert results["status"] == "pass"


def test_exercism_runner_exits_0_and_says_why_on_a_bad_slug(tmp_path):
    folder = submission(tmp_path / "solution", SOLUTION / "exercise1_process.py", None)
    results, done = run_exercism("no-such-exercise", folder, tmp_path / "out")
    assert done.returncode == 0
    validate(results, "exercism-results-v3.schema.json")
    assert results["status"] == "error" and "no-such-exercise" in results["message"]


# ----------------------------------------------------------------------------- GitHub Actions


def workflow_steps(repo: Path) -> tuple[dict, dict[str, dict]]:
    workflow = yaml.safe_load((repo / ".github" / "workflows" / "grade.yml").read_text())
    job = workflow["jobs"]["grade"]
    return job, {step.get("id") or step.get("name") or step.get("uses"): step for step in job["steps"]}


def test_github_workflow_steps_annotate_summarise_and_fail(tmp_path):
    repo = _course_copy(tmp_path)
    shutil.copy(ROOT / "tests/variants/exercise1/forgets_join.py", repo / "exercises" / "exercise1_process.py")
    assert main(["export", "github-actions", str(repo), "--exercises", "exercise1", "--timeout", "3",
                 "--course", str(repo)]) == 0
    job, steps = workflow_steps(repo)
    assert {"actions/checkout@v4", "grade", "report"} <= set(steps)
    assert steps["Keep the verdicts"]["if"] == "always()" and steps["report"]["if"] == "always()"
    assert "pip install" in steps["Install the grader"]["run"]
    summary = tmp_path / "summary.md"
    env = {**os.environ, **{k: str(v) for k, v in job["env"].items()}, "GITHUB_STEP_SUMMARY": str(summary),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env["GRADE_OPTIONS"] += f" {FAST}"
    outcomes = {}
    for name in ("grade", "report"):
        done = subprocess.run(["bash", "-e", "-c", steps[name]["run"]], cwd=repo, env=env, capture_output=True,
                              text=True, timeout=300)
        outcomes[name] = done
    assert outcomes["grade"].returncode == 0, "the verdict is kept, the job's status comes from Report"
    assert outcomes["report"].returncode == 1, "a failing check fails the job"
    annotations = [line for line in outcomes["report"].stdout.splitlines() if line.startswith("::error ")]
    assert len(annotations) == 1
    assert annotations[0].startswith("::error file=exercises/exercise1_process.py,line=22,title=exercise1 · every "
                                     "child is joined before start_named() returns::")
    assert "%0A" in annotations[0] and "\n" not in annotations[0]
    text = summary.read_text()
    assert "| ❌ | `exercise1` Process basics |" in text
    assert "| ✅ | each child reports the name it was given | fork |  |" in text
    assert "| ❌ | every child is joined before start_named() returns | fork | lifecycle:" in text
    results = repo / job["env"]["GRADE_RESULTS"]
    assert json.loads((results / "verdict.json").read_text())["exercise"] == "exercise1"
    assert (results / "junit.xml").read_text().startswith("<?xml")


def test_github_report_of_a_grader_error_is_one_annotation(tmp_path, capsys):
    verdict = tmp_path / "verdict.json"
    verdict.write_text(json.dumps({"status": "error", "message": "course.yaml:3: broken"}))
    assert main(["report", str(verdict), "--format", "github"]) == 2
    out = capsys.readouterr().out
    assert out.strip() == "::error title=grade could not grade::course.yaml:3: broken"


def test_grade_format_github_annotates_and_writes_the_summary(tmp_path, monkeypatch, capsys):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step's summary\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.chdir(ROOT)  # the annotation names the file as the job's working folder sees it
    code = main(["exercise1", "--submission", str(ROOT / "tests/variants/exercise1/forgets_join.py"), "--format",
                 "github", "--start-method", "fork", "--timeout", f"{BUG_TIMEOUT:g}", "--course", str(ROOT)])
    out = capsys.readouterr().out
    assert code == 1
    assert [line.split("::")[1].split(",title=")[0] for line in out.splitlines() if line.startswith("::error")] \
        == ["error file=tests/variants/exercise1/forgets_join.py,line=22"]
    text = summary.read_text()
    assert text.startswith("earlier step's summary\n"), "the summary is appended, never overwritten"
    assert "| ❌ | every child is joined before start_named() returns | fork | lifecycle:" in text
