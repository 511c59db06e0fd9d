"""The pytest plugin that runs hidden checks: sandbox runs in, check results out.

For each hidden-check module it knows (one per exercise being graded), it parametrizes
every check over the exercise's start methods and provides the `obs` fixture: the
observation of the check's driver. The first check of an exercise runs one sandbox per
start method, side by side; each imports the student's module once and runs every
driver of the module in order; all checks reuse those observations. A hang, a crash of
the process or a failed import ends that sandbox: it is reported once, and the checks
that could not run are skipped, so a deadlock costs one timeout, not one per check.

What it records per check is plain data (`CheckRecord`); grader/runner.py turns the
records into a verdict.
"""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from . import sandbox as sandbox_module
from . import schedule
from .checks import CheckFailure, NotRun, describe_child_errors, judge_outcome
from .course import Limits
from .drivers import is_driver
from .i18n import N_, _
from .observations import DIED, RESOURCE, TIMEOUT, Observation

OUTPUT_KEPT = 2000  # characters of a check's captured output carried into the verdict


@dataclass
class Job:
    """One exercise to grade: what to run, and how."""

    exercise_id: str
    tests: Path  # the hidden-check module
    submission: Path  # the student's file
    module_name: str  # the name the student's file is imported under
    start_methods: tuple[str, ...]
    timeout: float
    limits: Limits
    missing: str = ""  # set when the submission lacks this exercise's file: every check is not_implemented
    seconds: float = 0.0  # time spent in sandboxes
    leftovers: int = 0  # processes the student's code left running, over all runs
    schedules: int = 1  # runs of each driver: one unperturbed, the rest explored (grader/schedule.py)
    schedules_forced: bool = False  # --schedules: the number holds for every driver, checks' own included
    seed: int | None = None  # --seed: replay this one schedule, once per driver
    explored: int = 0  # the most schedules any driver of this job ran under
    confinement: dict = field(default_factory=dict)  # start method -> what protected its sandbox
    escapes: list = field(default_factory=list)  # the student's attempts to leave the sandbox (probe events)

    @property
    def explore_method(self) -> str:
        """Schedules are explored under one start method, the cheapest: fork where it is graded.

        The sandboxes of the start methods run side by side, so a few fork runs cost about
        what one spawn run costs; the other methods run each driver once, unperturbed.
        """
        return "fork" if "fork" in self.start_methods else self.start_methods[0]

    def seeds_for(self, asked: int) -> list[int]:
        """The seeds a driver runs under, given what its checks ask for."""
        if self.seed is not None:
            return [self.seed]
        count = self.schedules if self.schedules_forced else max(self.schedules, asked)
        return schedule.seeds(self.exercise_id, max(1, count))


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


@dataclass
class _Runs:
    """The observations of one (exercise, start method): by driver name."""

    observations: dict[str, Observation] = field(default_factory=dict)  # the first run of each driver
    explored: dict[str, list[Observation]] = field(default_factory=dict)  # every run of each driver
    import_failure: Observation | None = None
    stopped: tuple[str, str] | None = None  # (category, reason) when a run ended the sandbox


class GraderPlugin:
    def __init__(self, jobs: list[Job]):
        self.jobs = {job.tests.resolve(): job for job in jobs}
        self._resolved: dict[str, Path] = {}
        self.records: list[CheckRecord] = []
        self.collection_errors: dict[str, str] = {}  # exercise id -> what broke in the hidden module
        self._runs: dict[tuple[str, str], _Runs] = {}
        self._import_reported: set[str] = set()
        self._fatal_reported: set[tuple[str, str, str]] = set()
        self.written_paths: set[str] = set()  # files the student's code opened for writing, outside its folder

    # ------------------------------------------------------------------ collection

    def pytest_collection_modifyitems(self, items):
        # Failures are reported from the records, never from pytest's tracebacks: formatting
        # one costs 25-80 ms (source lines read and compiled), and a hang skips every check
        # after it. One line is all pytest's report of a check needs.
        for item in items:
            if self._job_for(item.path) is not None:
                item._repr_failure_py = _one_line

    def runs_of(self, exercise_id: str, start_method: str):
        """The observations of one exercise under one start method, by driver (None if not run)."""
        return self._runs.get((exercise_id, start_method))

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
        observation = self._observe(job, start_method, spec.uses.__name__, request.node.module)
        request.node._grader_seed = observation.seed
        self._judge(job, observation, spec)
        return observation

    def _judge(self, job: Job, observation: Observation, spec) -> None:
        if observation.outcome in (TIMEOUT, DIED, RESOURCE):  # one failure, not one per check that shared it
            key = (job.exercise_id, observation.start_method, observation.driver, observation.seed)
            if key in self._fatal_reported:
                raise NotRun(_CATEGORY_OF[observation.outcome], _("Not run: the same run failed in the check above."))
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
        runs = self._runs.get((job.exercise_id, method)) if job and spec and method else None
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

    def _observe(self, job: Job, start_method: str, driver: str, module) -> Observation:
        if job.missing:
            raise CheckFailure("not_implemented",
                               _("There is {missing}: add the file, then grade again.").format(missing=job.missing))
        if (job.exercise_id, start_method) not in self._runs:
            asked: dict[str, int] = {}
            for value in vars(module).values():
                check_spec = getattr(value, "_grader_check", None)
                if check_spec is not None and check_spec.schedules:
                    name = check_spec.uses.__name__
                    asked[name] = max(asked.get(name, 0), check_spec.schedules)
            drivers = [name for name, value in vars(module).items() if is_driver(value)]
            self._run_exercise(job, {name: job.seeds_for(asked.get(name, 0)) for name in drivers})
        runs = self._runs[(job.exercise_id, start_method)]
        if runs.import_failure is not None:
            if job.exercise_id not in self._import_reported:
                self._import_reported.add(job.exercise_id)
                raise _ImportFailed(runs.import_failure)
            category = "timeout" if runs.import_failure.outcome == TIMEOUT else "crash"
            raise NotRun(category, _("Not run: {file} could not be imported (see above).").format(
                file=job.submission.name))
        if driver not in runs.observations:
            category, reason = runs.stopped or ("error", N_("its driver did not run"))
            raise NotRun(category, _("Not run: {reason}.").format(reason=_(reason)))  # a constant reason
        return runs.observations[driver]

    def _run_exercise(self, job: Job, drivers: dict[str, list[int]]) -> None:
        """Run the exercise under all its start methods at once: one sandbox each, in parallel.

        The sandboxes are independent processes; running them side by side makes a correct
        solution cost about its slowest start method, and a deadlock one timeout in all.
        """
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=len(job.start_methods)) as pool:
            futures = {m: pool.submit(self._run_sandbox, job, m, drivers) for m in job.start_methods}
            try:
                for method, future in futures.items():
                    self._runs[(job.exercise_id, method)] = future.result()
            except BaseException:  # Ctrl-C or the backstop timeout: stop the sandboxes, then go
                sandbox_module.cancel_all()
                raise
        job.seconds += time.monotonic() - started
        job.explored = max((len(seeds) for seeds in drivers.values()), default=0)
        for method in job.start_methods:
            for observations in self._runs[(job.exercise_id, method)].explored.values():
                for observation in observations:
                    job.leftovers += len(observation.leftovers)
                    self.written_paths.update(str(e.get("path")) for e in observation.events
                                              if e.kind == "file.write")
                    job.escapes.extend(e for e in observation.events
                                       if e.kind in ("sandbox.refused", "sandbox.bypass"))

    def _run_sandbox(self, job: Job, start_method: str, drivers: dict[str, list[int]]) -> _Runs:
        """Import the student's module once, run every driver in order under each of its
        schedules, keep the observations. Exploring costs driver runs, not sandboxes."""
        runs = _Runs()
        box = sandbox_module.Sandbox(job.submission, job.module_name, job.tests, start_method, job.timeout,
                                     job.limits)
        try:
            failure = box.start()
            job.confinement[start_method] = box.confinement
            if failure is not None:
                runs.import_failure = failure
                return runs
            budget = schedule.budget_ms(job.timeout)
            for name, seeds in drivers.items():
                if job.seed is None and start_method != job.explore_method:
                    seeds = seeds[:1]
                for seed in seeds:
                    explore = len(seeds) > 1 or job.seed is not None
                    plan = {"seed": seed, "budget_ms": budget, "run": box.runs} if explore else None
                    observation = box.run(name, schedule=plan)
                    if explore:
                        observation = dataclasses.replace(observation, seed=seed)
                    runs.observations.setdefault(name, observation)
                    runs.explored.setdefault(name, []).append(observation)
                    if observation.outcome in (TIMEOUT, DIED, RESOURCE):
                        break
                    if job.seed is None and not any(e.kind in schedule.POINTS for e in observation.events):
                        break  # no synchronisation call to perturb: more schedules would be the same run
                if box.dead:
                    runs.stopped = (_CATEGORY_OF.get(observation.outcome, "crash"), box.dead_reason)
                    break
        finally:
            box.close()
        return runs

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

    def _recorded(self, item) -> bool:
        return getattr(item, "_grader_recorded", False)

    def _record(self, item, job: Job, call) -> CheckRecord:
        spec = _spec(item)
        method = item.callspec.params.get("start_method") if hasattr(item, "callspec") else None
        runs = self._runs.get((job.exercise_id, method)) if method else None
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


_CATEGORY_OF = {TIMEOUT: "timeout", DIED: "crash", RESOURCE: "resource"}


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
