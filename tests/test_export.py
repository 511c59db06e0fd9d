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

import pytest
import yaml

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
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(document, json.loads((SCHEMAS / schema_name).read_text()))


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
               {"resource", "not_implemented"}),
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


@pytest.fixture(scope="module")
def autograder_tree(gradescope_zip, tmp_path_factory) -> Path:
    tree = tmp_path_factory.mktemp("autograder")
    with zipfile.ZipFile(gradescope_zip) as zf:
        zf.extractall(tree / "source")
    for name in ("run_autograder", "setup.sh"):
        (tree / "source" / name).chmod(0o755)
    return tree


def run_autograder(tree: Path, folder: Path, extra: str, tmp_path: Path) -> tuple[dict, subprocess.CompletedProcess]:
    case = tmp_path / "autograder"
    shutil.copytree(tree / "source", case / "source", symlinks=True)
    shutil.copytree(folder, case / "submission")
    env = {**os.environ, "GRADER_AUTOGRADER_DIR": str(case), "GRADER_PYTHON": sys.executable,
           "GRADER_TIMEOUT": "2", "GRADER_EXTRA_ARGS": extra}
    done = subprocess.run(["bash", str(case / "source" / "run_autograder")], env=env, capture_output=True,
                          text=True, timeout=600, cwd=tmp_path)
    return json.loads((case / "results" / "results.json").read_text()), done


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
    env = {**os.environ, "GRADER_PYTHON": sys.executable, "GRADER_TIMEOUT": "2", "GRADER_EXTRA_ARGS": extra}
    done = subprocess.run(["bash", str(ROOT / "bin" / "run.sh"), slug, str(folder), str(out)], env=env,
                          capture_output=True, text=True, timeout=120)
    return json.loads((out / "results.json").read_text()), done


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
