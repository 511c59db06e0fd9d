"""Hidden checks for exercise 1: Process basics.

Drivers (run in the sandbox) call the student's functions and report plain data;
checks (run in the grader) judge it, together with the probe's log of process calls.
"""

from grader.checks import _, check, children, driver, expect, first_at, student_calls
from grader.drivers import collect_reports

NAMES = ["alpha", "beta", "gamma"]

# ----------------------------------------------------------------------------- drivers


@driver
def named_children(student):
    import multiprocessing
    import os

    results = multiprocessing.Queue()
    returned = student.start_named(list(NAMES), results)
    # A child the student started but did not join may still be starting (spawn takes a while
    # on a busy machine): wait for its report, never a fixed second.
    reports = [tuple(r) if isinstance(r, (tuple, list)) else r for r in collect_reports(results, len(NAMES))]
    return {"parent": os.getpid(), "returned": returned, "reports": reports}


@driver
def exit_codes(student):
    return student.exit_codes()


@driver
def lifecycle(student):
    return student.watch_lifecycle()


# ----------------------------------------------------------------------------- checks


@check("each child reports the name it was given", uses=named_children, leftovers_ok=True)
def test_children_report_their_names(obs):
    names = sorted(r[0] for r in obs.value["reports"] if isinstance(r, tuple) and r)
    if len(obs.value["reports"]) < len(NAMES):
        # Say why a report is missing from what the children did, not from a guess.
        failed = {info["name"]: info.get("exitcode") for info in children(obs).values()
                  if info.get("exitcode") not in (0, None)}
        expect(not failed, "crash",
               _("Some children ended with an error before reporting (exit codes {failed}): their traceback is "
                 "in the output.").format(failed=failed), where=first_at(student_calls(obs, "process.start")))
    expect(len(obs.value["reports"]) == len(NAMES), "wrong_result",
           _("start_named({names}) should make each of its {count} children put one report on `results`; "
             "{arrived} arrived. Does greet() call results.put(...)?").format(
               names=NAMES, count=len(NAMES), arrived=len(obs.value["reports"])))
    expect(names == sorted(NAMES), "wrong_result",
           _("The children reported the names {names}; expected {expected}. Pass name=... to Process(), "
             "and read the name in the child with current_process().name.").format(
               names=names, expected=sorted(NAMES)))


@check("args and kwargs reach the child", uses=named_children, leftovers_ok=True)
def test_args_and_kwargs(obs):
    texts = sorted({r[2] for r in obs.value["reports"] if isinstance(r, tuple) and len(r) == 3})
    expect(texts == ["hello?"], "wrong_result",
           _("Each child should greet with 'hello?' (greeting 'hello' through args=, punctuation '?' through "
             "kwargs=); they said {said}. Remember args must be a tuple: args=(results, 'hello').").format(
               said=texts or _("nothing")))


@check("each child runs in a process of its own", uses=named_children, category="not_parallel",
       leftovers_ok=True)
def test_children_have_their_own_pids(obs):
    parent = obs.value["parent"]
    pids = [r[1] for r in obs.value["reports"] if isinstance(r, tuple) and len(r) == 3]
    expect(parent not in pids, "not_parallel",
           _("greet() ran in the parent process (it reported the parent's pid): create a Process with "
             "target=greet and start() it, rather than calling greet() yourself."))
    expect(len(set(pids)) == len(pids) == len(NAMES), "wrong_result",
           _("Expected {count} different pids, one per child; the children reported {pids}. "
             "Read the pid in the child with os.getpid().").format(count=len(NAMES), pids=pids))
    returned = obs.value["returned"]
    expect(isinstance(returned, list) and sorted(returned, key=str) == sorted(pids), "wrong_result",
           _("start_named() should return the children's pids (child.pid) in the order of names; it returned "
             "{returned!r}, while the children reported {pids}.").format(returned=returned, pids=pids))


@check("every child is joined before start_named() returns", uses=named_children, category="lifecycle")
def test_every_child_is_joined(obs):
    started = children(obs)
    unjoined = [info["name"] for info in started.values() if not info.get("joins")]
    expect(started, "wrong_result", _("start_named() started no process."))
    expect(not unjoined, "lifecycle",
           _("These children were started but never joined: {names}. Call join() on every child you "
             "start, so that the parent waits for it (and the finished child does not linger as a zombie).").format(
               names=unjoined),
           where=first_at(student_calls(obs, "process.start")))


@check("the children run at the same time", uses=named_children, category="not_parallel", leftovers_ok=True)
def test_children_overlap(obs):
    starts = student_calls(obs, "process.start")
    joins = student_calls(obs, "process.join")
    expect(starts, "wrong_result", _("start_named() started no process."))
    late = [e for e in starts if joins and e.t > joins[0].t]
    expect(not late, "not_parallel",
           _("A child was joined (at {where}) before the last one was started, so they ran one at a time. "
             "Start every child first, then join them all in a second loop.").format(
               where=joins[0].where if joins else "?"),
           where=joins[0].where if joins else None)


@check("exitcode: 0 for a normal end, 3 for sys.exit(3), -15 for terminate()", uses=exit_codes)
def test_exit_codes(obs):
    got = obs.value
    expected = {"normal": 0, "sys_exit": 3, "terminated": -15}
    expect(isinstance(got, dict), "wrong_result",
           _("exit_codes() should return a dict like {expected}; got {got!r}.").format(expected=expected, got=got))
    wrong = {k: got.get(k) for k in expected if got.get(k) != expected[k]}
    hint = ""
    if None in wrong.values():
        hint = " " + _("exitcode is None while a process is still running: read it after join().")
    expect(not wrong, "wrong_result",
           _("Expected {expected}; these were different: {wrong}.").format(expected=expected, wrong=wrong) + hint)


@check("is_alive(): False before start, True while running, False after terminate and join", uses=lifecycle)
def test_is_alive(obs):
    expected = [False, True, False]
    expect(obs.value == expected, "wrong_result",
           _("watch_lifecycle() returned {got!r}; expected {expected}. A process is alive from start() "
             "until it ends; after terminate(), join() waits until it has really ended.").format(
               got=obs.value, expected=expected))
