"""The pytest plugin that runs hidden checks: sandbox runs in, check results out.

For each hidden-check module it knows (one per exercise being graded), it parametrizes
every check over the exercise's start methods and provides the `obs` fixture: the
observation of the check's driver. The sandboxes are grader/runs.py's (one per start
method, side by side, perhaps started before this session); the first check of an
exercise waits for them, and all its checks reuse those observations. A hang, a crash of
the process or a failed import ends that sandbox: it is reported once, and the checks
that could not run are skipped, so a deadlock costs one timeout, not one per check.

What it records per check is plain data (`CheckRecord`); grader/runner.py turns the
records into a verdict.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pytest

from .checks import CheckFailure, NotRun, describe_child_errors, judge_outcome
from .i18n import N_, _
from .observations import DIED, RESOURCE, TIMEOUT, Observation
from .runs import CATEGORY_OF, Job, MethodRuns, Runs

OUTPUT_KEPT = 2000  # characters of a check's captured output carried into the verdict


@dataclass(frozen=True)
class CheckRecord:
    exercise_id: str
    name: str
    start_method: str | None
    status: str  # pass | fail | error | skipped
    category: str
    message: str = ""
    location: str | None = None
    duration_s: float = 0.0
    output: str = ""
    seed: int | None = None  # the schedule under which it failed, when it was an explored one
    driver: str = ""  # the driver whose observation the check judged (the timeline of a failure shows it)


class GraderPlugin:
    def __init__(self, jobs: list[Job], runs: Runs | None = None, on_record=None):
        self.jobs = {job.tests.resolve(): job for job in jobs}
        self.on_record = on_record  # called with each CheckRecord the moment it is made
        self._resolved: dict[str, Path] = {}
        self.records: list[CheckRecord] = []
        self.collection_errors: dict[str, str] = {}  # exercise id -> what broke in the hidden module
        self.runs = runs or Runs()  # the sandboxes (grader/runs.py), perhaps started before this session
        self._import_reported: set[str] = set()
        self._fatal_reported: set[tuple[str, str, str]] = set()

    # ------------------------------------------------------------------ collection

    def pytest_collection_modifyitems(self, items):
        # Failures are reported from the records, never from pytest's tracebacks: formatting
        # one costs 25-80 ms (source lines read and compiled), and a hang skips every check
        # after it. One line is all pytest's report of a check needs.
        for item in items:
            if self._job_for(item.path) is not None:
                item._repr_failure_py = _one_line

    def runs_of(self, exercise_id: str, start_method: str) -> MethodRuns | None:
        """The observations of one exercise under one start method, by driver (None if not run)."""
        return self.runs.of(exercise_id, start_method)

    def _job_for(self, path) -> Job | None:
        key = str(path)
        if key not in self._resolved:  # several hooks ask per check: resolve() each path once
            self._resolved[key] = Path(key).resolve()
        return self.jobs.get(self._resolved[key])

    def pytest_generate_tests(self, metafunc):
        job = self._job_for(metafunc.definition.path)
        if job is not None and "start_method" in metafunc.fixturenames:
            metafunc.parametrize("start_method", job.start_methods)

    def pytest_collectreport(self, report):
        if report.failed:
            job = self._job_for(report.fspath) if report.fspath else None
            key = job.exercise_id if job else str(report.fspath)
            self.collection_errors[key] = str(report.longrepr)[-3000:]

    # ------------------------------------------------------------------ fixtures

    @pytest.fixture
    def obs(self, request, start_method) -> Observation:
        """The observation of this check's driver, after the standard judgements."""
        spec = _spec(request.node)
        job = self._job_for(request.node.path)
        observation = self._observe(job, start_method, spec.uses.__name__)
        request.node._grader_seed = observation.seed
        self._judge(job, observation, spec)
        return observation

    def _judge(self, job: Job, observation: Observation, spec) -> None:
        if observation.outcome in (TIMEOUT, DIED, RESOURCE):  # one failure, not one per check that shared it
            key = (job.exercise_id, observation.start_method, observation.driver, observation.seed)
            if key in self._fatal_reported:
                raise NotRun(CATEGORY_OF[observation.outcome], _("Not run: the same run failed in the check above."))
            self._fatal_reported.add(key)
        judge_outcome(observation, spec)

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem):
        """A check whose driver ran under several schedules must hold in every one of them.

        The first run was judged through the `obs` fixture; the others are judged here, in
        order, and the first that fails is the check's verdict, with its seed.
        """
        job = self._job_for(pyfuncitem.path)
        spec = _spec(pyfuncitem)
        method = pyfuncitem.callspec.params.get("start_method") if hasattr(pyfuncitem, "callspec") else None
        runs = self.runs.of(job.exercise_id, method) if job and spec and method else None
        explored = runs.explored.get(spec.uses.__name__, []) if runs else []
        if len(explored) < 2:
            return None
        names = pyfuncitem._fixtureinfo.argnames
        for observation in explored:
            if observation is not explored[0]:
                pyfuncitem._grader_seed = observation.seed
                self._judge(job, observation, spec)
            arguments = {name: pyfuncitem.funcargs[name] for name in names}
            arguments["obs"] = observation
            pyfuncitem.obj(**arguments)
        pyfuncitem._grader_seed = None
        return True

    def _observe(self, job: Job, start_method: str, driver: str) -> Observation:
        if job.missing:
            raise CheckFailure("not_implemented",
                               _("There is {missing}: add the file, then grade again.").format(missing=job.missing))
        self.runs.wait_for(job, start_method, driver)
        runs = self.runs.of(job.exercise_id, start_method)
        if runs.import_failure is not None:
            if job.exercise_id not in self._import_reported:
                self._import_reported.add(job.exercise_id)
                raise _ImportFailed(runs.import_failure)
            category = "timeout" if runs.import_failure.outcome == TIMEOUT else "crash"
            raise NotRun(category, _("Not run: {file} could not be imported (see above).").format(
                file=job.submission.name))
        if driver not in runs.observations:
            category, reason = runs.stopped or ("error", N_("its driver did not run"))
            if runs.stopped_seed is not None:
                raise NotRun(category, _("Not run: {reason}, in a run with seeded delays (`--seed {seed}` replays "
                                         "it).").format(reason=_(reason), seed=runs.stopped_seed))
            raise NotRun(category, _("Not run: {reason}.").format(reason=_(reason)))  # a constant reason
        return runs.observations[driver]

    # ------------------------------------------------------------------ reporting

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        job = self._job_for(item.path)
        if job is None or not hasattr(item, "function"):
            return
        if call.when == "setup" and report.passed:
            return
        if call.when == "teardown" and (report.passed or self._recorded(item)):
            return
        item._grader_recorded = True
        self.records.append(_as_the_student_names_it(self._record(item, job, call), job))
        if self.on_record is not None:
            self.on_record(self.records[-1])

    def _recorded(self, item) -> bool:
        return getattr(item, "_grader_recorded", False)

    def _record(self, item, job: Job, call) -> CheckRecord:
        spec = _spec(item)
        method = item.callspec.params.get("start_method") if hasattr(item, "callspec") else None
        runs = self.runs.of(job.exercise_id, method) if method else None
        observation = runs.observations.get(spec.uses.__name__) if runs and spec else None
        # The name is a msgid (a constant of the hidden module): translated here, as it is recorded.
        base = dict(exercise_id=job.exercise_id, name=_(spec.name) if spec else item.name, start_method=method,
                    duration_s=observation.duration_s if observation else 0.0,
                    output=observation.output[:OUTPUT_KEPT] if observation else "",
                    driver=spec.uses.__name__ if spec else "")
        error = call.excinfo.value if call.excinfo else None
        seed = getattr(item, "_grader_seed", None)
        if seed and isinstance(error, (CheckFailure, AssertionError)):
            base["seed"] = seed
        if error is None:
            return CheckRecord(status="pass", category="pass", **base)
        if isinstance(error, _ImportFailed):
            failure = error.observation
            base.update(name=_("{file} can be imported").format(file=job.submission.name),
                        output=failure.output[:OUTPUT_KEPT])
            try:
                judge_outcome(failure, _IMPORT_SPEC)
            except CheckFailure as judged:
                return CheckRecord(status="fail", category=judged.category, message=judged.message,
                                   location=judged.where, **base)
        if isinstance(error, CheckFailure):
            crashed = describe_child_errors(observation) if observation is not None else ""
            message = error.message if not crashed or crashed in error.message else f"{error.message}\n{crashed}"
            return CheckRecord(status="fail", category=error.category, message=message,
                               location=error.where, **base)
        if isinstance(error, NotRun):
            return CheckRecord(status="skipped", category=error.category, message=error.message, **base)
        if isinstance(error, AssertionError) and spec is not None:
            return CheckRecord(status="fail", category=spec.category, message=str(error).split("\nassert")[0],
                               **base)
        text = call.excinfo.exconly() if call.excinfo else repr(error)
        return CheckRecord(status="error", category="error",
                           message=_("The hidden check itself failed: {error}").format(error=text), **base)


def _as_the_student_names_it(record: CheckRecord, job: Job) -> CheckRecord:
    """The sandbox imports the student's file under the exercise's module name; messages name
    the file the student gave (`--submission syntax.py`), not the copy."""
    copy, given = f"{job.module_name}.py", job.submission.name
    if copy == given:
        return record
    location = record.location.replace(copy, given) if record.location else record.location
    return dataclasses.replace(record, name=record.name.replace(copy, given),
                               message=record.message.replace(copy, given), location=location)


def _one_line(excinfo, style=None) -> str:
    return excinfo.exconly()




class _ImportFailed(Exception):
    def __init__(self, observation: Observation):
        super().__init__("import failed")
        self.observation = observation


class _ImportSpec:
    name = "import"
    leftovers_ok = False
    expects_error = False
    on_timeout = N_("Code at the top level of your file runs on import: keep work inside functions.")
    when = N_("while being imported")  # replaces "during this check" in the standard judgements


_IMPORT_SPEC = _ImportSpec()


def _spec(item):
    return getattr(getattr(item, "function", None), "_grader_check", None)
