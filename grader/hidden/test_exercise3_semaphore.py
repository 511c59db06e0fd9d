"""Hidden checks for exercise 3: Semaphore (at most N visitors inside at once, and N can be).

The drivers hand the student's code a room of their own (`ProbedRoom`) that logs each
visit to the probe (room.enter / room.leave) and holds every visitor inside until no
more can come in now: until `target` visitors are inside at once, or every visitor is in
or done, or the parent waits in a join() and every visitor it started is in or done.
While run_visitors() runs, the driver notes each Semaphore (or Lock) the student's code
creates, and sets `target` to its number of permits; it also counts the processes
started and notes the first join(). So the number of visitors seen inside at once is
structural, not a race: a correct Semaphore(3) always shows 3, a Lock or Semaphore(1)
always 1, visitors started and joined one at a time 1, a semaphore never used every
visitor. A Manager's Semaphore counts too: the driver notes it where the student asks the
manager for it, and the probe logs its proxy's acquire/release like a SemLock's (the
manager's server process is not a visitor). Only a gate the driver cannot see can leave the
room waiting in vain: after HOLD_S without any progress it stops holding anyone.

Why a gate here and not schedules (grader/schedule.py): the checks need LIMIT visitors
inside at the same moment, for a correct semaphore, every time. Random delays at the
synchronisation points only make such a moment more or less likely; the room makes it
certain (it waits for an event, the room full, never for a time). Schedules still run on
top of it (more orders of acquire and release), but they cannot replace it.
"""

import os
import sys
import time

from grader.checks import N_, _, check, children, driver, expect, fail, first_at, max_overlap, student_calls
from grader.probe import record, transparent

LIMIT, VISITORS = 3, 6
FAIL_VISITORS, FAIL_ON = 3, 2  # in the failure run, the 2nd visit raises
MANAGED_GATES = ("Lock", "RLock", "Semaphore", "BoundedSemaphore")
_MP_DIR = os.path.dirname(os.path.abspath(os.__file__)) + os.sep + "multiprocessing" + os.sep
HOLD_S = 5.0  # a wait without any progress this long gives up: never, for a correct solution

# ----------------------------------------------------------------------------- the room the drivers pass


class ProbedRoom:
    """Like the exercise's Room (use()); logs each visit and holds visitors until the room is full."""

    def __init__(self, visitors, hold=True, fail_on=None):
        import multiprocessing

        self._mutex = multiprocessing.Lock()  # used through its _semlock: the probe does not log it
        self._inside = multiprocessing.RawValue("i", 0)
        self._entered = multiprocessing.RawValue("i", 0)
        self._left = multiprocessing.RawValue("i", 0)
        self._gave_up = multiprocessing.RawValue("i", 0)
        self.started = multiprocessing.RawValue("i", 0)  # visitors started so far (the driver counts)
        self.joining = multiprocessing.RawValue("i", 0)  # 1 once the parent waits in a join()
        self.target = multiprocessing.RawValue("i", visitors)  # until a gate is seen: everyone
        self.visitors = visitors
        self.hold = hold
        self.fail_on = fail_on

    def use(self):
        record("room.enter")  # before counting in: whoever sees the room full has seen this enter
        with self._mutex._semlock:
            self._inside.value += 1
            self._entered.value += 1
            number = self._entered.value
        try:
            if self.fail_on == number:
                record("room.fail")
                raise RuntimeError("the visit failed (the grader's room fails once, on purpose: the permit "
                                   "must still be given back)")
            if self.hold:
                self._hold()
        finally:
            record("room.leave")  # before counting out: the next visitor's enter comes after this
            with self._mutex._semlock:
                self._inside.value -= 1
                self._left.value += 1

    def _hold(self):
        """Wait until no more visitors can come in now; never past HOLD_S without any progress."""
        last_state, last_change = None, time.monotonic()
        while True:
            inside, left, started = self._inside.value, self._left.value, self.started.value
            if inside >= self.target.value or inside + left >= self.visitors or self._gave_up.value:
                return
            if self.joining.value and inside + left >= started:
                return  # the parent waits in join() and every visitor it started is in or done
            now = time.monotonic()
            if (inside, left, started) != last_state:
                last_state, last_change = (inside, left, started), now
            elif now - last_change > HOLD_S:
                self._gave_up.value = 1
                record("room.gave_up", inside=inside, target=self.target.value)
                return
            time.sleep(0.001)

    def entered(self):
        return self._entered.value


class _NullRoom:
    def use(self):
        pass


# ----------------------------------------------------------------------------- noting the student's gates


def _created_by_student(semlock):
    """Was this Lock/Semaphore created by a line of the student's file (not inside a Condition, ...)?"""
    student = os.environ.get("GRADER_STUDENT_FILE", "")
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if name.endswith(os.sep + "context.py") or (
                frame.f_code.co_name == "__init__" and frame.f_locals.get("self") is semlock):
            frame = frame.f_back
            continue
        return name == student
    return False


def _run_watching(call, room):
    """Run call() while noting every SemLock the student's code creates in this process, and
    counting the processes it starts (and whether it waits in a join()).

    The first Semaphore/BoundedSemaphore sets room.target to its permits (a Lock or RLock
    to 1, unless a semaphore comes too). Returns (call's result, [(type, permits, semlock)]).
    """
    from multiprocessing import managers, process, synchronize

    original_init = synchronize.SemLock.__init__
    original_start, original_join = process.BaseProcess.start, process.BaseProcess.join
    me = os.getpid()
    gates = []

    def note(kind_name, value, gate):
        gates.append((kind_name, value, gate))
        semaphores = [g for g in gates if g[0] in ("Semaphore", "BoundedSemaphore")]
        chosen = semaphores[0] if semaphores else gates[0]
        room.target.value = max(1, min(chosen[1], room.visitors))

    @transparent
    def noting_init(self, kind, value, maxvalue, *args, **kwargs):
        original_init(self, kind, value, maxvalue, *args, **kwargs)
        if os.getpid() == me and _created_by_student(self):
            note(type(self).__name__, value, self)

    @transparent
    def counting_start(self):
        # A Manager starts its server process with start() too: that one is not a visitor.
        if os.getpid() == me and not sys._getframe(1).f_code.co_filename.startswith(_MP_DIR):
            room.started.value += 1
        return original_start(self)

    @transparent
    def noting_join(self, *args, **kwargs):
        if os.getpid() == me:
            room.joining.value = 1
        return original_join(self, *args, **kwargs)

    # A Manager's Semaphore (or Lock) lives in the manager's process: note it where it is asked for.
    managed = {name: managers.SyncManager.__dict__[name] for name in MANAGED_GATES}

    def noting_managed(name):
        original = managed[name]

        def make(manager, *args, **kwargs):
            proxy = original(manager, *args, **kwargs)
            if os.getpid() == me and sys._getframe(1).f_code.co_filename == os.environ.get("GRADER_STUDENT_FILE"):
                value = args[0] if args else kwargs.get("value", 1)
                note(name, value if name in ("Semaphore", "BoundedSemaphore") else 1, proxy)
            return proxy

        return make

    synchronize.SemLock.__init__ = noting_init
    process.BaseProcess.start, process.BaseProcess.join = counting_start, noting_join
    for name in MANAGED_GATES:
        setattr(managers.SyncManager, name, noting_managed(name))
    try:
        return call(), gates
    finally:
        synchronize.SemLock.__init__ = original_init
        process.BaseProcess.start, process.BaseProcess.join = original_start, original_join
        for name, original in managed.items():
            setattr(managers.SyncManager, name, original)


def _value(gate):
    try:
        return gate._semlock._get_value()
    except Exception:  # noqa: BLE001 - a platform without sem_getvalue, or a Manager's proxy: unknown
        return None


# ----------------------------------------------------------------------------- drivers


def _run(student, room, visitors):
    import multiprocessing

    student.visit(multiprocessing.Semaphore(1), _NullRoom())  # raises only while it is still a stub
    _entered, gates = _run_watching(lambda: student.run_visitors(room, visitors, LIMIT), room)
    return {
        "parent": os.getpid(),
        "entered": room.entered(),
        "target": room.target.value,
        "gates": [{"type": kind, "permits": permits, "final": _value(sem)} for kind, permits, sem in gates],
    }


@driver
def visitors(student):
    return _run(student, ProbedRoom(VISITORS), VISITORS)


@driver
def failing_visit(student):
    return _run(student, ProbedRoom(FAIL_VISITORS, hold=False, fail_on=FAIL_ON), FAIL_VISITORS)


# ----------------------------------------------------------------------------- reading the log


def _visits(obs):
    """Per visitor pid: [(enter t, leave t, {lock id: held count} at the enter)]."""
    workers = children(obs)
    held: dict[int, dict] = {}
    open_at: dict[int, tuple] = {}
    found: dict[int, list] = {}
    for e in obs.events:
        if e.pid not in workers:
            continue
        mine = held.setdefault(e.pid, {})
        lock = e.get("lock")
        if e.kind == "lock.acquire" and e.get("acquired", True):
            mine[lock] = mine.get(lock, 0) + 1
        elif e.kind == "lock.release" and mine.get(lock):
            mine[lock] -= 1
            if not mine[lock]:
                del mine[lock]
        elif e.kind == "room.enter":
            open_at[e.pid] = (e.t, dict(mine), e)
        elif e.kind == "room.leave" and e.pid in open_at:
            begin, at_enter, enter = open_at.pop(e.pid)
            found.setdefault(e.pid, []).append((begin, e.t, at_enter, dict(mine), enter))
    return found


def _intervals(obs):
    return [(v[0], v[1]) for visits in _visits(obs).values() for v in visits]


def _gave_up(obs):
    return [e for e in obs.events if e.kind == "room.gave_up"]


# ----------------------------------------------------------------------------- checks


@check("run_visitors() runs every visitor in a process of its own, and joins them all", uses=visitors,
       category="lifecycle")
def test_every_visitor_ran(obs):
    started = children(obs)
    expect(len(started) == VISITORS, "wrong_result",
           _("run_visitors(room, {VISITORS}, {LIMIT}) should start {VISITORS} processes, one per visitor; it "
             "started {n_started}.").format(VISITORS=VISITORS, LIMIT=LIMIT, n_started=len(started)), where=first_at(student_calls(obs, "process.start")))
    unjoined = [info["name"] for info in started.values() if not info.get("joins")]
    expect(not unjoined, "lifecycle",
           _("These visitors were started but never joined: {unjoined}. Join every process you start.").format(unjoined=unjoined),
           where=first_at(student_calls(obs, "process.start")))
    failed = {info["name"]: info.get("exitcode") for info in started.values() if info.get("exitcode") != 0}
    expect(not failed, "crash",
           _("Some visitors did not end normally (exit codes {failed}): their error is in the output. Each "
             "visitor must run visit(sem, room).").format(failed=failed))
    expect(obs.value["entered"] == VISITORS, "wrong_result",
           _("The room was used {entered} times; expected {VISITORS}, once per visitor. Does visit() call "
             "room.use() exactly once?").format(entered=obs.value['entered'], VISITORS=VISITORS))


@check("the visitors are all started, then all joined", uses=visitors, category="not_parallel",
       leftovers_ok=True)
def test_visitors_start_together(obs):
    starts = student_calls(obs, "process.start")
    joins = student_calls(obs, "process.join")
    expect(starts, "wrong_result", _("run_visitors() started no process."))
    late = [e for e in starts if joins and e.t > joins[0].t]
    expect(not late, "not_parallel",
           _("A visitor was joined before the last one was started, so they ran one at a time and the "
             "semaphore had nothing to limit. Start every visitor first, then join them all in a second loop."),
           where=joins[0].where if joins else None)


@check("every visit happens while holding the semaphore, the same one for every visitor", uses=visitors,
       leftovers_ok=True)
def test_visit_holds_the_semaphore(obs):
    visits = _visits(obs)
    expect(visits, "wrong_result", _("No visitor used the room: does visit() call room.use()?"))
    used = {}
    for pid, spans in visits.items():
        for _begin, _end, at_enter, at_leave, enter in spans:
            expect(at_enter and at_leave, "wrong_result",
                   _("A visitor used the room while holding no permit (at {value}): nothing limits how many are "
                     "inside. Call room.use() inside `with sem:`, where sem is the multiprocessing.Semaphore(limit) "
                     "made in run_visitors().").format(value=enter.where or '?'), where=enter.where)
            for lock in set(at_enter) & set(at_leave):
                used.setdefault(lock, set()).add(pid)
    shared = [lock for lock, pids in used.items() if len(pids) == len(visits)]
    expect(shared, "wrong_result",
           _("The visitors held {n_used} different semaphores, none of them shared by all: each visitor only "
             "counted itself. Create ONE Semaphore in run_visitors(), before starting the visitors, and pass "
             "that same object to every one of them.").format(n_used=len(used)), where=first_at(student_calls(obs, "lock.acquire")))


def _gates_text(obs):
    gates = obs.value["gates"]
    if not gates:
        return _("run_visitors() created no Semaphore (or Lock) of its own")
    made = ", ".join(_("a {type} with {permits} permit(s)").format(type=g["type"], permits=g["permits"]) for g in gates)
    return _("run_visitors() created {gates}").format(gates=made)


def _unguarded(obs):
    """Why the log shows visits that no shared semaphore limited, whatever the timing, or None:
    a visit made holding no permit, or visitors that held no semaphore in common. (How many were
    then inside at once depends on when the visitors happened to arrive.)"""
    visits = _visits(obs)
    used = {}
    for pid, spans in visits.items():
        for _begin, _end, at_enter, at_leave, enter in spans:
            if not (at_enter and at_leave):
                return _("a visitor used the room while holding no permit (at {value}).").format(
                    value=enter.where or "?"), enter.where
            for lock in set(at_enter) & set(at_leave):
                used.setdefault(lock, set()).add(pid)
    if visits and not [lock for lock, pids in used.items() if len(pids) == len(visits)]:
        return _("the visitors held {n_used} different semaphores, none of them shared by all.").format(
            n_used=len(used)), first_at(student_calls(obs, "lock.acquire"))
    return None


@check("never more than 3 visitors are inside at once", uses=visitors, leftovers_ok=True)  # 3: LIMIT
def test_at_most_limit(obs):
    most = max_overlap(_intervals(obs))
    expect(most <= LIMIT, "wrong_result",
           _("{most} visitors were inside the room at the same time; at most {LIMIT} should be "
             "({gates_text}). Create Semaphore(limit) once, hold it around room.use() in every visitor, and "
             "release it exactly once per acquire.").format(most=most, LIMIT=LIMIT, gates_text=_gates_text(obs)))
    unguarded = _unguarded(obs)
    if unguarded:  # the same verdict whether or not more than LIMIT happened to arrive together
        why, where = unguarded
        fail("wrong_result",
             _("At most {most} visitors were inside at once this time, but only because of when they happened "
               "to arrive: {why} Nothing stops a {next}th visitor from coming in. Create Semaphore(limit) once, "
               "in run_visitors(), and hold that same semaphore around room.use() in every visitor.").format(
                 most=most, why=why, next=LIMIT + 1), where=where)


@check("3 visitors can be inside together: the semaphore is not a lock", uses=visitors,  # LIMIT
       category="not_parallel", leftovers_ok=True)
def test_limit_reached(obs):
    most = max_overlap(_intervals(obs))
    if most > LIMIT:
        return  # the check above says what is wrong
    waited = ""
    if _gave_up(obs):
        waited = _(" (The room held the visitors inside for {seconds:g} s, and no more came in: is the "
                   "semaphore made in run_visitors() and passed to the visitors?)").format(seconds=HOLD_S)
    expect(most > 1, "not_parallel",
           _("Only one visitor was ever inside at a time, although {LIMIT} may be: {gates_text}. A Lock, or "
             "a Semaphore(1), lets one process in at a time; Semaphore({LIMIT}) lets {LIMIT} in.{waited}").format(LIMIT=LIMIT, gates_text=_gates_text(obs), waited=waited))
    expect(most == LIMIT, "wrong_result",
           _("At most {most} visitors were inside at the same time, although {LIMIT} may be: {gates_text}. "
             "Create Semaphore(limit), with the limit run_visitors() is given.{waited}").format(most=most, LIMIT=LIMIT, gates_text=_gates_text(obs), waited=waited))


def _judge_permits_back(obs, when):
    gates = [g for g in obs.value["gates"] if g["type"] in ("Semaphore", "BoundedSemaphore")]
    for gate in gates:
        if gate["final"] is None:
            continue
        expect(gate["final"] == gate["permits"], "wrong_result",
               _("{when}, the {type} created with {permits} permits has {final}. ").format(when=_(when), type=gate['type'], permits=gate['permits'], final=gate['final'])
               + (_("Permits were lost: a visitor acquired without releasing (release in `finally:`, or use `with "
                 "sem:`).") if gate["final"] < gate["permits"] else _("It gained permits: something released more often than it acquired (a release() without an "
                 "acquire(), or twice), and every extra permit lets one more visitor in. `with sem:` acquires "
                 "and releases exactly once.")),
               where=first_at(student_calls(obs, "lock.release")))


@check("the semaphore ends with all its permits: each visitor releases exactly what it acquired",
       uses=visitors, leftovers_ok=True)
def test_permits_back(obs):
    _judge_permits_back(obs, N_("After every visitor has left"))


@check("a visitor that fails inside gives its permit back, and the others still visit", uses=failing_visit)
def test_failing_visitor_releases(obs):
    # Visitors never joined may still be visiting when run_visitors() returns: what they did by then
    # is a race, so the missing join is the verdict (lifecycle, like the processes left running).
    unjoined = [info["name"] for info in children(obs).values() if not info.get("joins")]
    expect(not unjoined, "lifecycle",
           _("These visitors were started but never joined: {unjoined}. Join every process you start.").format(unjoined=unjoined),
           where=first_at(student_calls(obs, "process.start")))
    failures = [e for e in obs.events if e.kind == "room.fail"]
    expect(failures, "wrong_result", _("The grader's room should have failed once, on the 2nd visit, but it was used only {entered} "
                                       "time(s).").format(entered=obs.value['entered']))
    started = children(obs)
    others = {info["name"]: info.get("exitcode") for pid, info in started.items()
              if pid != failures[0].pid and info.get("exitcode") != 0}
    expect(not others, "wrong_result",
           _("One visitor's room.use() raised; the other visitors should still visit and end normally, but "
             "these did not: {others}.").format(others=others))
    expect(obs.value["entered"] == FAIL_VISITORS, "wrong_result",
           _("The room was used {entered} times; expected {FAIL_VISITORS}, once per visitor.").format(entered=obs.value['entered'], FAIL_VISITORS=FAIL_VISITORS))
    _judge_permits_back(obs, N_("After one visit raised and every visitor has left"))
