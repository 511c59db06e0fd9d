"""grader/runs.py: the sandboxes of a grading run before, and without, the checks' own loading."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import sys
from pathlib import Path
from grader import runs, runner
from grader.course import load_course

from grader import confinement

seen = []
original = runs.Runs.start
def start(self, job):
    seen.append((any(name.startswith("grader_hidden_") for name in sys.modules), job.exercise_id))
    return original(self, job)
runs.Runs.start = start
course = load_course(Path(sys.argv[1]))
verdict = runner.grade(course, [course.find("exercise1"), course.find("exercise2")], Path(sys.argv[1]) / "solutions",
                       runner.Options(start_methods=("fork",), schedules=1))
print(confinement.guards_files(), seen[0], [(e.exercise, e.status.value) for e in verdict.exercises])
"""


def test_the_first_exercises_sandboxes_start_before_the_hidden_modules_load():
    """Where the kernel keeps the course's files safe; elsewhere the student's import could rewrite
    a hidden module before it is read, so the sandboxes start after the modules have loaded."""
    done = subprocess.run([sys.executable, "-c", PROBE, str(ROOT)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    guarded = done.stdout.startswith("True")
    assert done.stdout.startswith(f"{guarded} ({not guarded}, 'exercise1')"), done.stdout
    assert "('exercise1', 'pass'), ('exercise2', 'pass')" in done.stdout, "the later exercise is started when asked"


def test_the_drivers_a_sandbox_reports_are_its_hidden_modules_in_order(tmp_path):
    from grader.sandbox import Sandbox

    (tmp_path / "student.py").write_text("def f():\n    return 1\n")
    (tmp_path / "hidden.py").write_text(
        "from grader.checks import check, driver\n"
        "@driver\ndef second(student):\n    return student.f()\n"
        "@driver\ndef first(student):\n    return 2\n"
        "@check('a', uses=first, schedules=6)\ndef test_a(obs):\n    pass\n"
        "@check('b', uses=first, schedules=3)\ndef test_b(obs):\n    pass\n"
        "def helper(student):\n    return 3\n")
    with Sandbox(tmp_path / "student.py", "student", tmp_path / "hidden.py", "fork", 10) as box:
        assert box.drivers == {"second": 0, "first": 6}


def test_a_driver_that_left_processes_running_is_not_explored_again(tmp_path):
    """Every schedule would wait for the same forgotten child (8 s each) to fail the same way."""
    from conftest import copy_course

    from grader import runner
    from grader.course import load_course
    from grader.runs import Runs

    course = load_course(copy_course(tmp_path / "course"))
    exercise = course.find("exercise1")
    options = runner.Options(start_methods=("fork",), schedules=3, timeout=4)
    runs = Runs()
    for file, explored in (("tests/hostile/nondaemon_left_running.py", 1), ("solutions/exercise1_process.py", 3)):
        job = runner._job(course, exercise, course.root / file, options)
        runs.wait(job)
        assert len(runs.of(job.exercise_id, "fork").explored["named_children"]) == explored, file
        runs = Runs()


def test_a_hang_in_an_explored_run_is_named_by_the_checks_it_stopped(tmp_path):
    """The first run of `first` passes and its check shows that; its second, explored, run hangs
    and ends the sandbox. The checks of the next driver must not say "an earlier check hung"
    without saying where: that check shows no hang."""
    from grader import runs
    from grader.course import Limits

    (tmp_path / "student.py").write_text(
        "import multiprocessing, time\n"
        "_lock = multiprocessing.Lock()\n"
        "_calls = []\n"
        "def f():\n"
        "    with _lock:  # a synchronisation call: the driver is explored\n"
        "        _calls.append(1)\n"
        "    while len(_calls) > 1:  # the second run: for ever\n"
        "        time.sleep(0.05)\n"
        "    return 1\n")
    (tmp_path / "hidden.py").write_text(
        "from grader.checks import check, driver\n"
        "@driver\ndef first(student):\n    return student.f()\n"
        "@driver\ndef second(student):\n    return 2\n"
        "@check('a', uses=first)\ndef test_a(obs):\n    pass\n"
        "@check('b', uses=second)\ndef test_b(obs):\n    pass\n")
    job = runs.Job(exercise_id="ex", tests=tmp_path / "hidden.py", submission=tmp_path / "student.py",
                   module_name="student", start_methods=("fork",), timeout=2, limits=Limits(), schedules=3)
    done = runs._run_sandbox(job, "fork", runs.MethodRuns())
    assert [o.outcome for o in done.explored["first"]] == ["returned", "timeout"]
    assert "second" not in done.observations
    assert done.stopped[0] == "timeout" and done.stopped_seed == done.explored["first"][1].seed


def test_a_check_waits_for_its_own_driver_not_for_the_whole_sandbox(tmp_path):
    """`wait_for` returns once that driver's runs have ended, while the sandbox is still busy with the
    next one (which here waits for a file the test writes only afterwards): a check's verdict is
    known, and shown, as soon as its own driver is done."""
    from grader import runs
    from grader.course import Limits

    gate = tmp_path / "go"
    (tmp_path / "student.py").write_text("def f():\n    return 1\n")
    (tmp_path / "hidden.py").write_text(
        "import os, time\n"
        "from grader.checks import check, driver\n"
        "@driver\ndef first(student):\n    return student.f()\n"
        f"@driver\ndef second(student):\n    while not os.path.exists({str(gate)!r}):\n        time.sleep(0.01)\n"
        "    return 2\n"
        "@check('a', uses=first)\ndef test_a(obs):\n    pass\n"
        "@check('b', uses=second)\ndef test_b(obs):\n    pass\n")
    job = runs.Job(exercise_id="ex", tests=tmp_path / "hidden.py", submission=tmp_path / "student.py",
                   module_name="student", start_methods=("fork",), timeout=60, limits=Limits(), schedules=1)
    all_runs = runs.Runs()
    try:
        all_runs.wait_for(job, "fork", "first")
        live = all_runs.of("ex", "fork")
        assert live.observations["first"].value == 1
        assert "second" not in live.done and not live.finished  # the sandbox goes on meanwhile
        gate.write_text("")
        all_runs.wait_for(job, "fork", "second")
        all_runs.wait(job)
        assert all_runs.of("ex", "fork").observations["second"].value == 2 and all_runs.of("ex", "fork").finished
    finally:
        gate.write_text("")
        all_runs.close()
