"""Runs the hidden checks: sandbox runs in, one plain record per check and start method out.

A hidden-check module (grader/hidden/test_<exercise>.py) keeps pytest's shape: functions
named test_* marked `@check` (grader/checks.py), each taking `obs`, the observation of its
driver, and if it likes `start_method`. They are run here, in this process, in the order
they are defined, each under every start method of its exercise in turn; no pytest
session runs them. pytest's import and session cost every grading CPU time (exercise 1:
1.12 -> 1.00 s of CPU, 0.86 -> 0.80 s of wall time, idle, paired) and brought nothing a check
uses: a check judges plain data, and its verdict is the record made here.

The sandboxes are grader/runs.py's (one per start method, side by side, perhaps started
before the modules were loaded); a check waits for its own driver's runs only. A hang, a
crash of the process or a failed import ends that sandbox: it is reported once, and the
checks that could not run are recorded as not run, so a deadlock costs one timeout, not one
per check. A module that cannot be loaded is the exercise's error (`load_errors`), never
the student's, and never an interruption of the grading.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .checks import CheckFailure, CheckSpec, NotRun, describe_child_errors, judge_outcome
from .i18n import N_, _
from .observations import DIED, RESOURCE, TIMEOUT, Observation
from .runs import CATEGORY_OF, Job, MethodRuns, Runs

OUTPUT_KEPT = 2000  # characters of a check's captured output carried into the verdict
LOAD_ERROR_KEPT = 3000  # characters of a hidden module's traceback carried into the verdict
PARAMETERS = ("obs", "start_method")  # what a check may ask for
# How long a check waits for its driver's runs before the grader calls itself stuck: a sandbox
# ends every run by its deadline (plus the load's credit, at most two more limits), so only a
# bug of the grader's own reaches this.
BACKSTOP_LIMITS, BACKSTOP_MARGIN_S = 40, 60


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


@dataclass(frozen=True)
class Check:
    """One check of a hidden module, as found there."""

    function: Callable
    spec: CheckSpec
    parameters: tuple[str, ...]  # of PARAMETERS, in the function's order


class HiddenModuleError(Exception):
    """A hidden module that cannot serve as one (the instructor's to fix): its message says why."""


def load_checks(path: Path) -> list[Check]:
    """Import a hidden module and list its checks in the order they are defined.

    Every function whose name starts with "test" must be a check, as pytest would have run
    it: one left unmarked, or asking for something a check is not given, is an error that
    names it, rather than a check silently left out."""
    name = f"grader_hidden_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise HiddenModuleError(f"{path}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickle look a module up by name while it runs
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    checks = []
    for attribute, value in vars(module).items():
        if not attribute.startswith("test") or not callable(value) or isinstance(value, type):
            continue
        check_spec = getattr(value, "_grader_check", None)
        if not isinstance(check_spec, CheckSpec):
            raise HiddenModuleError(f"{path.name}: {attribute}() is named like a check but is not marked "
                                    "@check(NAME, uses=DRIVER): mark it, or rename it")
        parameters = tuple(inspect.signature(value).parameters)
        unknown = [p for p in parameters if p not in PARAMETERS]
        if unknown:
            raise HiddenModuleError(f"{path.name}: {attribute}() asks for {', '.join(unknown)}; a check is given "
                                    f"only {' and '.join(PARAMETERS)}")
        checks.append(Check(value, check_spec, parameters))
    return checks


class CheckRunner:
    """The checks of one grading's jobs: `load` the hidden modules, then `run` them."""

    def __init__(self, jobs: list[Job], runs: Runs, on_record: Callable[[CheckRecord], None] | None = None):
        self.jobs = jobs
        self.runs = runs  # the sandboxes (grader/runs.py), perhaps started before the modules were loaded
        self.on_record = on_record  # called with each CheckRecord the moment it is made
        self.records: list[CheckRecord] = []
        self.load_errors: dict[str, str] = {}  # exercise id -> why its hidden module did not load
        self._checks: dict[str, list[Check]] = {}
        self._import_reported: set[str] = set()
        self._fatal_reported: set[tuple] = set()

    def runs_of(self, exercise_id: str, start_method: str) -> MethodRuns | None:
        """The observations of one exercise under one start method, by driver (None if not run)."""
        return self.runs.of(exercise_id, start_method)

    def load(self) -> None:
        """Import every job's hidden module; one that fails is that exercise's load error."""
        for job in self.jobs:
            if job.exercise_id in self._checks or job.exercise_id in self.load_errors:
                continue
            try:
                self._checks[job.exercise_id] = load_checks(job.tests)
            except HiddenModuleError as error:
                self.load_errors[job.exercise_id] = str(error)
            except Exception as error:  # noqa: BLE001 - whatever the module raised is the instructor's to see
                self.load_errors[job.exercise_id] = _module_traceback(error)[-LOAD_ERROR_KEPT:]

    def run(self) -> None:
        """Every check of every loaded module, in order, under each start method in turn."""
        self.load()
        for job in self.jobs:
            for check in self._checks.get(job.exercise_id, ()):
                for method in job.start_methods:
                    record = _as_the_student_names_it(self._check(job, check, method), job)
                    self.records.append(record)
                    if self.on_record is not None:
                        self.on_record(record)

    # ------------------------------------------------------------------ one check

    def _check(self, job: Job, check: Check, method: str) -> CheckRecord:
        """Judge the driver's first run, then each explored run: the first that fails is the
        check's verdict, with its seed."""
        spec, seed = check.spec, None
        try:
            observation = self._observe(job, method, spec.uses.__name__)
            seed = observation.seed
            runs = self.runs.of(job.exercise_id, method)
            explored = runs.explored.get(spec.uses.__name__, []) if runs else []
            for run in explored if len(explored) > 1 else [observation]:
                if run is not observation:
                    seed = run.seed
                self._judge(job, run, spec)
                arguments = {"obs": run, "start_method": method}
                check.function(**{name: arguments[name] for name in check.parameters})
            error = None
        except (Exception, SystemExit) as raised:  # noqa: BLE001 - the check's verdict, whatever it raised
            error = raised
        return self._record(job, check, method, error, seed)

    def _observe(self, job: Job, start_method: str, driver: str) -> Observation:
        if job.missing:
            raise CheckFailure("not_implemented",
                               _("There is {missing}: add the file, then grade again.").format(missing=job.missing))
        self.runs.wait_for(job, start_method, driver, patience=job.timeout * BACKSTOP_LIMITS + BACKSTOP_MARGIN_S)
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

    def _judge(self, job: Job, observation: Observation, spec: CheckSpec) -> None:
        if observation.outcome in (TIMEOUT, DIED, RESOURCE):  # one failure, not one per check that shared it
            key = (job.exercise_id, observation.start_method, observation.driver, observation.seed)
            if key in self._fatal_reported:
                raise NotRun(CATEGORY_OF[observation.outcome], _("Not run: the same run failed in the check above."))
            self._fatal_reported.add(key)
        judge_outcome(observation, spec)

    def _record(self, job: Job, check: Check, method: str, error: BaseException | None,
                seed: int | None) -> CheckRecord:
        """`seed`: the schedule of the run being judged when the check failed."""
        spec = check.spec
        runs = self.runs.of(job.exercise_id, method)
        observation = runs.observations.get(spec.uses.__name__) if runs else None
        # The name is a msgid (a constant of the hidden module): translated here, as it is recorded.
        base = dict(exercise_id=job.exercise_id, name=_(spec.name), start_method=method,
                    duration_s=observation.duration_s if observation else 0.0,
                    output=observation.output[:OUTPUT_KEPT] if observation else "",
                    driver=spec.uses.__name__)
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
        if isinstance(error, AssertionError):
            return CheckRecord(status="fail", category=spec.category, message=str(error), **base)
        text = "".join(traceback.format_exception_only(type(error), error)).strip()
        return CheckRecord(status="error", category="error",
                           message=_("The hidden check itself failed: {error}").format(error=text), **base)


def _module_traceback(error: BaseException) -> str:
    """The traceback of a hidden module's import from the module's own frames on: the import
    machinery's and this file's are noise to the author."""
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if f.filename != __file__ and not f.filename.startswith("<frozen ")]
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames)] if frames else []
    return "".join([*lines, *traceback.format_exception_only(type(error), error)]).rstrip()


def _as_the_student_names_it(record: CheckRecord, job: Job) -> CheckRecord:
    """The sandbox imports the student's file under the exercise's module name; messages name
    the file the student gave (`--submission syntax.py`), not the copy."""
    copy, given = f"{job.module_name}.py", job.submission.name
    if copy == given:
        return record
    location = record.location.replace(copy, given) if record.location else record.location
    return dataclasses.replace(record, name=record.name.replace(copy, given),
                               message=record.message.replace(copy, given), location=location)


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
