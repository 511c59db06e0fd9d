"""`grade batch`: a small class graded end to end, resumed, and its uploads unpacked safely.

The class is generated from the course's own files: a correct student, a buggy one, one
whose code hangs, one that floods its output, one who handed in a single file, a corrupt
zip, and a zip that nests the files in a repository folder. Two exercises, a short
timeout and one start method keep it cheap.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
import stat
import zipfile
from pathlib import Path

import jsonschema
import psutil
import pytest
from conftest import BUG_TIMEOUT

from grader import batch
from grader.cli import main
from grader.verdict import RunVerdict

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ("exercise1", "exercise4")
FILES = ("exercise1_process.py", "exercise4_pipe.py")
SCHEMA = ROOT / "tests" / "schemas" / "grade-verdict.schema.json"

pytestmark = pytest.mark.xdist_group("batch")


def _student(folder: Path, **files: Path) -> None:
    folder.mkdir(parents=True)
    for name, source in files.items():
        shutil.copy(source, folder / f"{name}.py")


def make_class(root: Path) -> Path:
    subs = root / "submissions"
    solution = {n[:-3]: ROOT / "solutions" / n for n in FILES}
    _student(subs / "correct", **solution)
    _student(subs / "buggy", **{**solution, "exercise1_process": ROOT / "tests/variants/exercise1/forgets_join.py"})
    _student(subs / "hangs", **{**solution, "exercise1_process": ROOT / "tests/submissions/exercise1_deadlocks.py"})
    _student(subs / "floods", **{**solution, "exercise1_process": ROOT / "tests/submissions/exercise1_floods_output.py"})
    _student(subs / "one_file", exercise4_pipe=solution["exercise4_pipe"])
    (subs / "corrupt.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    with zipfile.ZipFile(subs / "zipped.zip", "w") as zf:
        for name in FILES:
            zf.write(ROOT / "solutions" / name, f"my-repo/exercises/{name}")
        zf.writestr("__MACOSX/my-repo/._exercise1_process.py", "resource fork")
    return subs


def run_batch(subs: Path, out: Path) -> tuple[int, str]:
    """grade batch in this process (the students are graded in subprocesses); its exit status and stderr."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["batch", str(subs), "--out", str(out), "--course", str(ROOT), "--jobs", "2",
                     "--exercises", ",".join(EXERCISES), "--timeout", f"{BUG_TIMEOUT:g}", "--start-method", "fork"])
    return code, err.getvalue()


def gradebook(out: Path) -> dict[str, dict[str, str]]:
    rows = list(csv.DictReader(io.StringIO((out / "gradebook.csv").read_text())))
    return {row["student"]: row for row in rows}


def failures(out: Path, student: str) -> list[str]:
    """What a student's checks that did not pass said: the evidence when a score is not what a test expects."""
    run = RunVerdict.from_dict(json.loads((out / "students" / f"{student}.json").read_text()))
    return [f"{e.exercise} · {c.name} [{c.start_method}]: {c.category.value}: {c.message}"
            for e in run.exercises for c in e.checks if c.category.value != "pass"]


def categories(out: Path, student: str, exercise: str) -> set[str]:
    run = RunVerdict.from_dict(json.loads((out / "students" / f"{student}.json").read_text()))
    (verdict,) = [e for e in run.exercises if e.exercise == exercise]
    return {c.category.value for c in verdict.checks}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class graded once; the tests below read what it wrote."""
    root = tmp_path_factory.mktemp("batch")
    subs, out = make_class(root), root / "out"
    code, err = run_batch(subs, out)
    return code, err, subs, out


def test_gradebook_has_a_row_per_student_and_columns_in_course_order(graded):
    code, _, _, out = graded
    header = (out / "gradebook.csv").read_text().splitlines()[0].split(",")
    assert header == ["student", *EXERCISES, "total", "status", "note"]
    book = gradebook(out)
    assert set(book) == {"Points Possible", "correct", "buggy", "hangs", "floods", "one_file", "corrupt", "zipped"}
    assert book["Points Possible"]["total"] == "20"
    assert (book["correct"]["exercise1"], book["correct"]["exercise4"], book["correct"]["total"]) == ("10", "10", "20"), \
        failures(out, "correct")
    assert book["zipped"]["total"] == "20", ("the files nested in my-repo/exercises/ are found", failures(out, "zipped"))
    for student in ("buggy", "hangs", "floods"):
        assert float(book[student]["exercise1"]) < 10 and book[student]["exercise4"] == "10", student
        assert float(book[student]["total"]) == float(book[student]["exercise1"]) + 10
    assert code == 1, "the corrupt zip is the student's fault; nothing was the grader's"


def test_each_student_is_judged_by_their_own_code(graded):
    _, _, _, out = graded
    assert "lifecycle" in categories(out, "buggy", "exercise1")
    assert "timeout" in categories(out, "hangs", "exercise1")
    assert "resource" in categories(out, "floods", "exercise1")
    assert categories(out, "one_file", "exercise1") == {"not_implemented"}
    assert categories(out, "one_file", "exercise4") == {"pass"}
    assert categories(out, "correct", "exercise1") == {"pass"}


def test_a_corrupt_zip_is_that_students_error_row_only(graded):
    _, _, _, out = graded
    row = gradebook(out)["corrupt"]
    assert row["status"] == "error" and row["exercise1"] == "" and row["total"] == ""
    assert "could not be read" in row["note"]
    assert not (out / "students" / "corrupt.json").exists()
    assert json.loads((out / "students" / "corrupt.meta.json").read_text())["fault"] == "student"


def test_verdicts_are_the_json_format(graded):
    _, _, _, out = graded
    documents = {p.stem: json.loads(p.read_text()) for p in (out / "students").glob("*.json")
                 if not p.name.endswith(".meta.json")}
    assert set(documents) == {"correct", "buggy", "hangs", "floods", "one_file", "zipped"}
    for document in documents.values():
        assert [e["exercise"] for e in document["exercises"]] == list(EXERCISES)
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    for document in documents.values():
        validator.validate(document)


def test_the_class_report_names_what_happened(graded):
    _, _, _, out = graded
    html = (out / "report.html").read_text()
    for text in ("correct", "one_file", "corrupt", "could not be read", "timeout", "lifecycle", "exercise4",
                 "Pass rate per check", "Slowest submissions"):
        assert text in html, text
    assert "<script" not in html


def test_progress_counts_students_and_failures(graded):
    _, err, _, _ = graded
    last = [line for line in err.splitlines() if line.startswith("[")][-1]
    assert "7/7 students" in last and "done in" in last
    assert "1 not graded" in last  # the corrupt zip


def _graders_running() -> list[str]:
    """This process's descendants that are grade runs (multiprocessing's own helpers are not ours to judge)."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            line = " ".join(child.cmdline())
        except psutil.Error:
            continue
        if "-m grader" in line or "sandbox_child" in line:
            found.append(line)
    return found


def test_nothing_is_left_behind(graded):
    _, _, _, out = graded
    assert not list(out.glob(".unzip-*")), "unpacked zips are removed"
    assert not list(out.rglob("*.partial"))
    assert _graders_running() == [], "every student's grade process and its sandboxes are gone"


def test_a_second_run_resumes_and_regrades_only_what_changed(graded, tmp_path):
    _, _, subs, out = graded
    copy_subs, copy_out = tmp_path / "submissions", tmp_path / "out"
    shutil.copytree(subs, copy_subs)
    shutil.copytree(out, copy_out)
    shutil.copy(ROOT / "solutions" / "exercise1_process.py", copy_subs / "one_file" / "exercise1_process.py")
    _, err = run_batch(copy_subs, copy_out)
    lines = {line.rsplit(" · ", 1)[-1].split(":")[0]: line for line in err.splitlines()
             if line.startswith("[")}
    resumed = {name for name, line in lines.items() if line.endswith("(resumed)")}
    assert resumed == {"correct", "buggy", "hangs", "floods", "corrupt", "zipped"}
    assert gradebook(copy_out)["one_file"]["total"] == "20"


# ----------------------------------------------------------------------------- unpacking


def _zip(path: Path, members: dict[str, bytes], link: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if link:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return path


@pytest.mark.parametrize("members, link, says", [
    ({"../escape.py": b"x"}, None, "leads outside"),
    ({"/abs/escape.py": b"x"}, None, "leads outside"),
    ({"ok.py": b"x"}, "exercises/exercise1_process.py", "symbolic link"),
])
def test_unsafe_zips_unpack_nothing(tmp_path, members, link, says):
    archive = _zip(tmp_path / "bad.zip", members, link)
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(batch.SubmissionError, match=says):
        batch.extract(archive, dest)
    assert list(dest.iterdir()) == []
    assert not (tmp_path / "escape.py").exists()


def test_size_caps_hold_while_unpacking(tmp_path, monkeypatch):
    archive = _zip(tmp_path / "big.zip", {"a.py": b"a" * 800, "b.py": b"b" * 800})
    monkeypatch.setattr(batch, "MAX_FILE_BYTES", 1000)
    monkeypatch.setattr(batch, "MAX_TOTAL_BYTES", 1200)
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(batch.SubmissionError, match="caps"):
        batch.extract(archive, dest)
    monkeypatch.setattr(batch, "MAX_FILE_BYTES", 500)
    with pytest.raises(batch.SubmissionError, match="800 bytes"):
        batch.extract(archive, tmp_path / "dest2")


def test_the_exercises_folder_is_found_where_it_is_nested(tmp_path):
    (tmp_path / "repo" / "exercises").mkdir(parents=True)
    (tmp_path / "repo" / "exercises" / "exercise1_process.py").write_text("")
    (tmp_path / "repo" / "exercises" / "exercise4_pipe.py").write_text("")
    (tmp_path / "repo" / "exercise4_pipe.py").write_text("")  # a stray copy one level up
    assert batch.exercises_folder(tmp_path, set(FILES)) == tmp_path / "repo" / "exercises"
    assert batch.exercises_folder(tmp_path / "repo" / "exercises", {"nothing.py"}) == tmp_path / "repo" / "exercises"


def test_submissions_are_found_and_named(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice.zip").write_bytes(b"")
    (tmp_path / "bob.zip").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / ".DS_Store").write_text("")
    found, ignored = batch.find_submissions(tmp_path)
    assert [(s.student, s.path.name) for s in found] == [("alice", "alice"), ("alice.zip", "alice.zip"),
                                                          ("bob", "bob.zip")]
    assert ignored == ["notes.txt: neither a folder nor a .zip"]


def test_the_backstop_stops_a_grading_that_never_ends(tmp_path, monkeypatch):
    """Beyond every check's own timeout, the batch's deadline kills the student's whole grading tree."""
    subs = tmp_path / "submissions"
    _student(subs / "hangs", exercise1_process=ROOT / "tests/submissions/exercise1_deadlocks.py")
    monkeypatch.setattr(batch.BatchOptions, "backstop_s", lambda self: 3.0)
    monkeypatch.setattr(batch, "GRACE_S", 2)
    from grader.course import load_course
    course = load_course(ROOT)
    options = batch.BatchOptions(course=course, exercises=("exercise1",), out=tmp_path / "out", jobs=1,
                                 timeout=60, start_methods=("fork",))
    submissions, _ = batch.find_submissions(subs)
    (result,) = batch.Batch(options).run(submissions)
    assert result.run is None and result.fault == "grader"
    assert "did not finish within 3 s" in result.error
    assert _graders_running() == []
    meta = json.loads((tmp_path / "out" / "students" / "hangs.meta.json").read_text())
    assert meta["fault"] == "grader"
    assert batch.Batch(options)._resumed(submissions[0]) is None, "our own failure is graded again next time"


def test_a_students_edition_is_refused_once(tmp_path, capsys):
    edition = tmp_path / "edition"
    assert main(["release", str(edition), "--course", str(ROOT)]) == 0
    subs = tmp_path / "submissions"
    _student(subs / "someone", exercise1_process=ROOT / "solutions/exercise1_process.py")
    capsys.readouterr()
    assert main(["batch", str(subs), "--out", str(tmp_path / "out"), "--course", str(edition)]) == 2
    assert "no hidden checks" in capsys.readouterr().err
    assert not (tmp_path / "out" / "students").exists(), "refused before any student was graded"
