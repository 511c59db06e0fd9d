"""Hidden checks for exercise 9: Manager (dict, list, Namespace, Lock).

Drivers, in this order:
- post: the student's run_post_example() (the source post's example);
- tickets_alone: the grader's own Manager and children run the student's take_tickets();
  the children wait at a barrier, so that they really run at once, and their first reads
  of ns.next are slowed down (as on a busy machine), so that an unlocked `ns.next += 1`
  loses updates every time, under every start method;
- office: the student's run_ticket_office() (a worker stuck on the lock hangs here, last).
Proxies are never sent to the grader: a driver reports a proxy as its type, and what
reading it now does.
"""

from grader.checks import (
    N_,
    _,
    check,
    children,
    describe_leftovers,
    driver,
    expect,
    fail,
    first_at,
    student_calls,
)

POST = ({88: 88}, [9, 8, 7, 6, 5])
ALONE_WORKERS, ALONE_TIMES = 3, 20
SLOW_READS, SLOW_READ_S = 8, 0.002  # each child's first reads of ns.next: the window for a lost update
OFFICE_WORKERS, OFFICE_TIMES = 3, 20
JOIN_LIMIT_S = 6.0

# Hang advice is keyed by the call it is about: shown only when a stack is in that call.
LOCK_ADVICE = {"a managed Lock's acquire()": N_("A worker waits forever for the managed lock if another one took it "
                                           "and never released it: use `with lock:` so that it is released even "
                                           "when the block raises.")}

# ----------------------------------------------------------------------------- drivers


def _plain(value):
    """The value, or a description of the manager proxies in it (which must not leave the sandbox)."""
    from multiprocessing.managers import BaseProxy

    from grader.drivers import raised

    if isinstance(value, BaseProxy):
        return {"proxy": type(value).__name__, "reading": raised(lambda: list(value))}
    if isinstance(value, (tuple, list)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


_reads = [0]  # reads of ns.next through _SlowNamespace, in this process


class _SlowNamespace:
    """Stands in for the Namespace proxy in the grader's children: the first reads of `next`
    take a little longer, as they would on a loaded machine. Everything else is forwarded."""

    def __init__(self, ns):
        object.__setattr__(self, "_ns", ns)

    def __getattr__(self, key):
        if key.startswith("_"):
            raise AttributeError(key)
        value = getattr(self._ns, key)
        if key == "next" and _reads[0] < SLOW_READS:
            import time

            _reads[0] += 1
            time.sleep(SLOW_READ_S)
        return value

    def __setattr__(self, key, value):
        setattr(self._ns, key, value)

    def __delattr__(self, key):
        delattr(self._ns, key)


def _gated(barrier, func, *args):
    """A child of the grader's: wait until every child is ready, then run the student's function."""
    import threading

    try:
        barrier.wait(5.0)
    except threading.BrokenBarrierError:
        pass
    func(*args)


def _join_all(procs, limit):
    """Join with a deadline; stop (and report) the children still running after it."""
    import time

    deadline = time.monotonic() + limit
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
    stuck = [p.name for p in procs if p.is_alive()]
    for p in procs:
        if p.is_alive():
            p.terminate()
            p.join(1.0)
    return stuck


@driver
def post(student):
    import time

    value = student.run_post_example()
    return {"value": _plain(value), "returned_at": time.monotonic()}


@driver
def tickets_alone(student):
    import multiprocessing

    manager = multiprocessing.Manager()
    try:
        tickets, ns, lock = manager.dict(), manager.Namespace(next=0), manager.Lock()
        barrier = multiprocessing.Barrier(ALONE_WORKERS)
        slow_ns = _SlowNamespace(ns)
        procs = [multiprocessing.Process(target=_gated, name=f"take_tickets-{i}",
                                         args=(barrier, student.take_tickets, i, ALONE_TIMES, tickets, slow_ns, lock))
                 for i in range(ALONE_WORKERS)]
        for p in procs:
            p.start()
        stuck = _join_all(procs, JOIN_LIMIT_S)
        return {"tickets": _plain(dict(tickets)), "next": _plain(ns.next), "stuck": stuck,
                "exitcodes": [p.exitcode for p in procs]}
    finally:
        manager.shutdown()


@driver
def office(student):
    import time

    value = student.run_ticket_office(OFFICE_WORKERS, OFFICE_TIMES)
    return {"value": _plain(value), "returned_at": time.monotonic()}


# ----------------------------------------------------------------------------- helpers


def _proxy_message(what, found):
    """`what` names the value, e.g. "run_post_example() returned"; found is (path, proxy description)."""
    path, proxy = found
    reading = proxy.get("reading") or ()
    now = _(" (reading it now raises {type}: {message})").format(type=reading[1], message=reading[2]) \
        if reading and reading[0] == "raised" else ""
    at = _(" at {path}").format(path=path) if path else ""
    return _("{what} a {proxy}{at}: a proxy to an object in the manager's server process{now}. A proxy "
             "works only while its manager runs: return plain copies, dict(d) and list(lst), made inside the "
             "`with Manager()` block, before the manager shuts down.").format(what=what, proxy=proxy["proxy"],
                                                                               at=at, now=now)


def _find_proxy(value, path=""):
    """(path, proxy description) of the first proxy in a _plain() value, or None."""
    if isinstance(value, dict) and "proxy" in value and "reading" in value:
        return path, value
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, (list, tuple)) else ()
    for key, item in items:
        found = _find_proxy(item, f"{path}[{key!r}]")
        if found:
            return found
    return None


def _worker_errors(obs):
    return [line.strip() for line in obs.output.splitlines()
            if line.strip().split(":")[0].endswith(("Error", "Exception")) and not line.startswith(" ")]


def _judge_lists(tickets, handed_out, n_workers, times, who):
    """The shape of the tickets dict: one list of `times` int tickets per worker, going up."""
    found = _find_proxy(tickets)
    if found:
        fail("wrong_result", _proxy_message(_("{who} holds").format(who=_(who)), found))
    expect(isinstance(tickets, dict), "wrong_result", _("{who} should be a dict; it is {tickets!r}.").format(who=_(who), tickets=tickets))
    keys = sorted(tickets, key=repr)
    expect(keys == list(range(n_workers)), "wrong_result",
           _("{who} should have one key per worker, {list}; its keys are {keys}. Each worker stores its list "
             "with tickets[worker_id] = ...").format(who=_(who), list=list(range(n_workers)), keys=keys))
    bad = {k: v for k, v in tickets.items() if not isinstance(v, list) or not all(isinstance(t, int) for t in v)}
    expect(not bad, "wrong_result", _("Each worker's entry should be a list of int tickets; got {bad}.").format(bad=bad))
    empty = sorted(k for k, v in tickets.items() if not v)
    if empty and isinstance(handed_out, int) and handed_out > 0:
        fail("wrong_result",
             _("ns.next reached {handed_out}, so tickets were taken, but the lists of worker(s) {empty} in "
               "{who} are empty. `tickets[k]` returns a copy of the stored list: `tickets[k].append(t)` "
               "appends to that copy, which is thrown away. Build the list, then store it: `tickets[k] = mine` "
               "(or read it, append, and store it back).").format(handed_out=handed_out, empty=empty, who=_(who)))
    short = {k: len(v) for k, v in tickets.items() if len(v) != times}
    expect(not short, "wrong_result",
           _("Each of the {n_workers} workers takes {times} tickets; these lists have other lengths: {short}.").format(n_workers=n_workers, times=times, short=short))


def _judge_counting(tickets, handed_out, n_workers, times):
    """No ticket given twice, no update of ns.next lost."""
    total = n_workers * times
    lists = [v for v in tickets.values() if isinstance(v, list)] if isinstance(tickets, dict) else []
    every = sorted(t for v in lists for t in v if isinstance(t, int))
    twice = sorted({t for t in every if every.count(t) > 1})
    if twice or handed_out != total:
        fail("wrong_result",
             (_("Some tickets were given to two workers: {twice}{value}. ").format(twice=twice[:8], value=_(" and more") if len(twice) > 8 else '') if twice else "")
             + _("ns.next ended at {handed_out!r}, after {n_workers} workers took {times} tickets each: ").format(handed_out=handed_out, n_workers=n_workers, times=times)
             + (_("updates were lost. ") if isinstance(handed_out, int) and handed_out < total else "")
             + _("Reading ns.next and writing it back are two requests to the manager, and another worker can "
               "read the same value in between. Hold the managed lock (the `lock` argument) around both: `with "
               "lock: ...`."))
    complete = len(every) == total
    expect(not complete or every == list(range(total)), "wrong_result",
           _("The tickets should be exactly 0 ... {total}, each once; got {every}...").format(total=total - 1, every=every[:10]))
    unordered = [k for k, v in tickets.items() if isinstance(v, list) and v != sorted(v)]
    expect(not unordered, "wrong_result",
           _("A worker takes its tickets one after another, so its list goes up; these do not: {unordered}.").format(unordered=unordered))


def _judge_shutdown(obs, function):
    """Every Manager the student started was shut down before `function` returned; none is left."""
    started = [e for e in obs.events_of("manager.start", student_only=False)]
    stops = obs.events_of("manager.shutdown", student_only=False)
    returned_at = obs.value["returned_at"]
    never = [e for e in started if not any(s.get("child") == e.get("child") and s.t <= returned_at for s in stops)]
    expect(started, "wrong_result", _("{function}() started no Manager: use `with Manager() as manager:`.").format(function=function))
    if never:
        text = _("{function}() started a Manager ({name}) and returned without shutting it down: its server "
                 "process runs on until the Manager object is garbage-collected or the program ends. Use `with "
                 "Manager() as manager:` (it shuts the manager down at the end of the block), or call "
                 "manager.shutdown() in a `finally:`.").format(function=function, name=never[0].get("name"))
        if obs.leftovers:
            text += "\n" + describe_leftovers(obs)
        fail("lifecycle", text, where=never[0].where)
    expect(not obs.leftovers, "lifecycle", describe_leftovers(obs), where=first_at(student_calls(obs, "process.start")))


# ----------------------------------------------------------------------------- checks: the post's example


@check("run_post_example() returns plain copies: a dict and a list", uses=post, leftovers_ok=True)
def test_post_returns_copies(obs):
    value = obs.value["value"]
    found = _find_proxy(value)
    if found:
        fail("wrong_result", _proxy_message(_("run_post_example() returned"), found))
    expect(isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], dict)
           and isinstance(value[1], list), "wrong_result",
           _("run_post_example() should return a tuple (a dict, a list); it returned {value!r}.").format(value=value))


@check("the post's example: the child's dct[88] = 88 and lst.reverse() reach the parent", uses=post,
       leftovers_ok=True)
def test_post_values(obs):
    value = obs.value["value"]
    expect(not _find_proxy(value) and isinstance(value, tuple) and len(value) == 2, "wrong_result",
           _("run_post_example() should return (dict, list) copies (see the check above)."))
    expect(value[0] == POST[0], "wrong_result",
           _("The dict should be {POST} after the child set dct[88] = 88; it is {value!r}. Create it with "
             "manager.dict() and pass that proxy to the child: a plain dict would be copied into the child.").format(POST=POST[0], value=value[0]))
    expect(value[1] == POST[1], "wrong_result",
           _("The list should be {POST} (range(5, 10), reversed by the child); it is {value!r}. Create it "
             "with manager.list(range(5, 10)), and in the child call lst.reverse() on the proxy itself.").format(POST=POST[1], value=value[1]))


@check("run_post_example() shuts its Manager down before returning", uses=post, category="lifecycle",
       leftovers_ok=True)
def test_post_shuts_down(obs):
    _judge_shutdown(obs, "run_post_example")


# ----------------------------------------------------------------------------- checks: take_tickets


def _judge_workers(obs):
    stuck = obs.value["stuck"]
    errors = _worker_errors(obs)
    if any(e.startswith("NotImplementedError") for e in errors):
        fail("not_implemented", _("take_tickets() still raises NotImplementedError: fill in the TODO in {student_file}.").format(student_file=obs.student_file))
    expect(not stuck, "timeout",
           _("After {JOIN_LIMIT_S:g} s, these workers had still not finished: {stuck}. {LOCK_ADVICE}").format(JOIN_LIMIT_S=JOIN_LIMIT_S, stuck=stuck, LOCK_ADVICE=" ".join(_(text) for text in LOCK_ADVICE.values())))
    crashed = [c for c in obs.value["exitcodes"] if c != 0]
    expect(not crashed, "crash",
           _("A worker running take_tickets() crashed (exit code {value})").format(value=crashed[0] if crashed else '')
           + (_(": {errors}").format(errors=errors[-1]) if errors else "")
           + _("."))


@check("take_tickets() stores each worker's tickets under its own key", uses=tickets_alone)
def test_tickets_stored(obs):
    _judge_workers(obs)
    _judge_lists(obs.value["tickets"], obs.value["next"], ALONE_WORKERS, ALONE_TIMES, "tickets")  # `tickets`: the argument's name


@check("take_tickets(): every ticket handed out once, no update of ns.next lost", uses=tickets_alone)
def test_no_update_lost(obs):
    _judge_workers(obs)
    _judge_counting(obs.value["tickets"], obs.value["next"], ALONE_WORKERS, ALONE_TIMES)


# ----------------------------------------------------------------------------- checks: run_ticket_office


@check("run_ticket_office() returns every worker's tickets as a plain dict, and the final ns.next", uses=office,
       leftovers_ok=True, on_timeout=LOCK_ADVICE)
def test_office_results(obs):
    value = obs.value["value"]
    found = _find_proxy(value)
    if found:
        fail("wrong_result", _proxy_message(_("run_ticket_office() returned"), found))
    expect(isinstance(value, tuple) and len(value) == 2, "wrong_result",
           _("run_ticket_office() should return a tuple (tickets as a dict, ns.next); it returned {value!r}.").format(value=value))
    _judge_lists(value[0], value[1], OFFICE_WORKERS, OFFICE_TIMES, N_("the tickets dict"))
    _judge_counting(value[0], value[1], OFFICE_WORKERS, OFFICE_TIMES)


@check("run_ticket_office() runs its 3 workers at the same time, on one Manager", uses=office,  # OFFICE_WORKERS
       category="not_parallel", leftovers_ok=True, on_timeout=LOCK_ADVICE)
def test_office_workers(obs):
    started = children(obs)
    expect(len(started) == OFFICE_WORKERS, "wrong_result",
           _("run_ticket_office({OFFICE_WORKERS}, {OFFICE_TIMES}) should start {OFFICE_WORKERS} workers; it "
             "started {n_started}.").format(OFFICE_WORKERS=OFFICE_WORKERS, OFFICE_TIMES=OFFICE_TIMES, n_started=len(started)), where=first_at(student_calls(obs, "process.start")))
    managers = obs.events_of("manager.start", student_only=False)
    expect(len(managers) == 1, "wrong_result",
           _("run_ticket_office() should use one Manager for the dict, the Namespace and the Lock; it "
             "started {n_managers}.").format(n_managers=len(managers)), where=first_at(managers))
    starts = student_calls(obs, "process.start")
    joins = [e for e in student_calls(obs, "process.join") if e.get("child") in started]
    late = [e for e in starts if joins and e.t > joins[0].t]
    expect(not late, "not_parallel",
           _("A worker was joined (at {value}) before the last one was started, so they ran one at a time. "
             "Start every worker first, then join them all.").format(value=joins[0].where if joins else '?'),
           where=joins[0].where if joins else None)


@check("run_ticket_office() shuts its Manager down and leaves nothing running", uses=office, category="lifecycle",
       leftovers_ok=True, on_timeout=LOCK_ADVICE)
def test_office_shuts_down(obs):
    unjoined = [info["name"] for info in children(obs).values() if not info.get("joins")]
    expect(not unjoined, "lifecycle",
           _("These workers were started but never joined: {unjoined}. Join them before reading the results "
             "(and before the manager shuts down).").format(unjoined=unjoined), where=first_at(student_calls(obs, "process.start")))
    _judge_shutdown(obs, "run_ticket_office")
