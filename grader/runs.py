"""The sandbox runs of the exercises being graded: started as soon as the jobs are known,
waited for by the checks.

For each exercise (`Job`) one sandbox per start method runs side by side, in a thread of
this process each; each sandbox imports the student's module once and runs every driver
of the hidden-check module in order, under each of its schedules. Which drivers there are,
and how many schedules their checks ask for, the sandbox says itself once it has imported
the hidden module (grader/sandbox_child.py), so the runs need nothing of the grader's
side: the runner starts the first exercise's runs before it even loads the hidden modules,
and the check runner (grader/checkrun.py) waits for them when its first check asks. A check
waits for its own driver's runs only (`wait_for`), not for the whole sandbox: its verdict is
known, and can be shown, while the sandbox goes on with the next driver.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import sandbox as sandbox_module
from . import schedule
from .course import Limits
from .observations import DIED, RESOURCE, TIMEOUT, Observation

CATEGORY_OF = {TIMEOUT: "timeout", DIED: "crash", RESOURCE: "resource"}  # an outcome that ends a sandbox


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
    written_paths: set = field(default_factory=set)  # files the student's code opened for writing, outside

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


@dataclass
class MethodRuns:
    """The observations of one (exercise, start method): by driver name."""

    observations: dict[str, Observation] = field(default_factory=dict)  # the first run of each driver
    explored: dict[str, list[Observation]] = field(default_factory=dict)  # every run of each driver
    import_failure: Observation | None = None
    stopped: tuple[str, str] | None = None  # (category, reason) when a run ended the sandbox
    stopped_seed: int | None = None  # the explored schedule of that run, when it was not the first
    planned: int = 0  # the most schedules any driver was to run under
    done: set[str] = field(default_factory=set)  # drivers whose every run has ended
    finished: bool = False  # the sandbox has ended: nothing more will come
    ended: float = 0.0  # when (time.monotonic())
    _changed: threading.Condition = field(default_factory=threading.Condition, repr=False, compare=False)

    def mark_done(self, driver: str | None = None) -> None:
        """A driver's runs have all ended (None: the whole sandbox has)."""
        with self._changed:
            if driver is None:
                self.finished = True
            else:
                self.done.add(driver)
            self._changed.notify_all()

    def wait_for(self, driver: str, future: Future, patience: float | None = None) -> None:
        """Until the driver's runs have all ended, or the sandbox has (its error, if it raised one);
        TimeoutError after `patience` seconds."""
        given_up = None if patience is None else time.monotonic() + patience
        with self._changed:
            while driver not in self.done and not self.finished and not future.done():
                if given_up is not None and time.monotonic() > given_up:
                    raise TimeoutError(f"the sandbox gave no result for {driver} within {patience:g} s")
                self._changed.wait(0.1)  # a timeout, so that Ctrl-C is seen at once
        if self.finished or future.done():
            future.result()


class Runs:
    """Every sandbox run of one grading: started by `start`, collected by `wait`."""

    def __init__(self):
        self._started: dict[str, tuple[float, ThreadPoolExecutor, dict[str, Future]]] = {}
        self._live: dict[tuple[str, str], MethodRuns] = {}  # filled in by the sandboxes as they go
        self._counted: set[str] = set()  # exercises whose sandboxes have all ended and been counted in
        self._asked: set[str] = set()  # exercises some check has waited for

    def start(self, job: Job) -> None:
        """Start the job's sandboxes now (once), each in a thread of its own."""
        if job.exercise_id in self._started or job.missing:
            return
        pool = ThreadPoolExecutor(max_workers=len(job.start_methods), thread_name_prefix=f"sandbox-{job.exercise_id}")
        futures = {}
        for method in job.start_methods:
            self._live[(job.exercise_id, method)] = live = MethodRuns()
            futures[method] = pool.submit(_run_sandbox, job, method, live)
        self._started[job.exercise_id] = (time.monotonic(), pool, futures)

    def wait_for(self, job: Job, start_method: str, driver: str, patience: float | None = None) -> None:
        """Until this driver's runs under this start method have all ended (starting the job's
        sandboxes if nobody has); the other drivers and start methods go on meanwhile.
        TimeoutError after `patience` seconds: only a grader's own bug waits that long."""
        if job.exercise_id in self._counted:
            return
        self.start(job)
        self._asked.add(job.exercise_id)
        _, _, futures = self._started[job.exercise_id]
        with _stopping_all_on_error():
            self._live[(job.exercise_id, start_method)].wait_for(driver, futures[start_method], patience)

    def wait(self, job: Job) -> None:
        """Until the job's sandboxes have all ended (starting them if nobody has), then count what
        they saw into the job."""
        if job.exercise_id in self._counted:
            return
        self.start(job)
        started, pool, futures = self._started[job.exercise_id]
        try:
            with _stopping_all_on_error():
                ended = [future.result() for future in futures.values()]  # the MethodRuns in self._live
        finally:
            pool.shutdown(wait=False)
        self._counted.add(job.exercise_id)
        job.seconds += max(done.ended for done in ended) - started
        for done in ended:
            job.explored = max(job.explored, done.planned)
            for observations in done.explored.values():
                for observation in observations:
                    job.leftovers += len(observation.leftovers)
                    job.written_paths.update(str(e.get("path")) for e in observation.events if e.kind == "file.write")
                    job.escapes.extend(e for e in observation.events
                                       if e.kind in ("sandbox.refused", "sandbox.bypass"))

    def of(self, exercise_id: str, start_method: str) -> MethodRuns | None:
        """The observations of one exercise under one start method (None if not started): complete
        for every driver that `wait_for` waited for, and for all once `wait` has returned."""
        return self._live.get((exercise_id, start_method))

    def asked(self, job: Job) -> bool:
        """Some check waited for this job's runs (its hidden module loaded): worth waiting for to the end."""
        return job.exercise_id in self._asked

    def close(self) -> None:
        """Stop what nobody waited for (a hidden module that did not load), and wait for it to end."""
        pending = [f for _, _, futures in self._started.values() for f in futures.values() if not f.done()]
        if pending:
            sandbox_module.cancel_all()
        for _, pool, _ in self._started.values():
            pool.shutdown(wait=True)


@contextlib.contextmanager
def _stopping_all_on_error():
    """Ctrl-C, the backstop timeout or a sandbox's own error while waiting: stop every sandbox, then go."""
    try:
        yield
    except BaseException:
        sandbox_module.cancel_all()
        raise


def _run_sandbox(job: Job, start_method: str, runs: MethodRuns) -> MethodRuns:
    """Import the student's module once, run every driver in order under each of its
    schedules, keep the observations (in `runs`, as they come). Exploring costs driver runs,
    not sandboxes."""
    try:
        return _fill(job, start_method, runs)
    finally:
        runs.ended = time.monotonic()
        runs.mark_done()


def _fill(job: Job, start_method: str, runs: MethodRuns) -> MethodRuns:
    box = sandbox_module.Sandbox(job.submission, job.module_name, job.tests, start_method, job.timeout, job.limits)
    try:
        failure = box.start()
        job.confinement[start_method] = box.confinement
        if failure is not None:
            runs.import_failure = failure
            return runs
        budget = schedule.budget_ms(job.timeout)
        runs.planned = max((len(job.seeds_for(asked)) for asked in box.drivers.values()), default=0)
        for name, asked in box.drivers.items():
            seeds = job.seeds_for(asked)
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
                if observation.leftovers and name in box.strict:
                    # Processes left running fail a check of this driver (lifecycle) whatever the
                    # schedule, and each run waited for them: exploring would only repeat the wait.
                    break
                if job.seed is None and not any(e.kind in schedule.POINTS for e in observation.events):
                    break  # no synchronisation call to perturb: more schedules would be the same run
            runs.mark_done(name)
            if box.dead:
                runs.stopped = (CATEGORY_OF.get(observation.outcome, "crash"), box.dead_reason)
                if observation is not runs.observations[name]:
                    # Its check shows the first run's verdict: the one that ended the sandbox is named here.
                    runs.stopped_seed = observation.seed
                break
    finally:
        box.close()
    return runs
