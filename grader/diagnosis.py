"""Why a run hung: who waits for whom, read from the stacks at the deadline and the probe's log.

The stacks say where each process was (they are the truth); the log says which object a
blocked call concerns (the Queue made at line 35, the Lock Process-1 took at line 24, the
send end of a Pipe, a Pool's result, a child's join) and what could have released it (a
producer that ended, a holder that crashed, a sentinel never put, task_done() never
called, a copy of a pipe end still open). A wait from the log is used only when the stack
shows the process at that very line; otherwise the grader says only what it saw.

`diagnose(obs)` returns plain data; `grader/checks.py` turns it into the hang message.
Imported inside the sandbox too (checks are): standard library only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .i18n import N_, _, ngettext
from .observations import Event, Frame, Observation, ProcessStack

MP_MARK = os.sep + "multiprocessing" + os.sep
GRADER_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep

# (file inside multiprocessing, function) -> the call as a student knows it.
LIBRARY_CALLS = {
    ("queues", "get"): "Queue.get()", ("queues", "put"): "Queue.put()", ("queues", "join"): "JoinableQueue.join()",
    ("queues", "join_thread"): "Queue.join_thread()", ("connection", "recv"): "Connection.recv()",
    ("connection", "recv_bytes"): "Connection.recv_bytes()", ("connection", "send"): "Connection.send()",
    ("connection", "poll"): "Connection.poll()", ("connection", "wait"): "connection.wait()",
    ("process", "join"): "Process.join()", ("pool", "get"): "AsyncResult.get()", ("pool", "wait"): "AsyncResult.wait()",
    ("pool", "join"): "Pool.join()", ("pool", "next"): "IMapIterator.next()",
    ("pool", "<genexpr>"): "IMapIterator.next()", ("pool", "map"): "Pool.map()",
    ("pool", "starmap"): "Pool.starmap()", ("pool", "apply"): "Pool.apply()", ("pool", "__exit__"): "Pool.__exit__()",
    ("synchronize", "__enter__"): "Lock.acquire()", ("synchronize", "wait"): "Event.wait()",
    # The calls are keys too (a check's on_timeout names them): English here, translated where shown.
    ("managers", "_callmethod"): N_("a call to the Manager"), ("managers", "acquire"): N_("a managed Lock's acquire()"),
    ("managers", "__enter__"): N_("a managed Lock's acquire()"),
    ("util", "_exit_function"): N_("the end of the program"),
}
OTHER_CALLS = {("threading", "join"): "Thread.join()", ("threading", "wait"): N_("a threading wait"),
               ("subprocess", "wait"): "subprocess.wait()", ("selectors", "select"): "select()"}
# What a wait in the probe's log was, in the same words.
WAIT_CALLS = {"queue.get": "Queue.get()", "simplequeue.get": "SimpleQueue.get()", "queue.join": "JoinableQueue.join()",
              "pipe.recv": "Connection.recv()", "process.join": "Process.join()", "lock.acquire": "acquire()",
              "result.get": "AsyncResult.get()", "result.wait": "AsyncResult.wait()",
              "result.next": "IMapIterator.next()", "pool.join": "Pool.join()"}


@dataclass(frozen=True)
class Blocked:
    """One process at the deadline, as its own stack shows it."""

    pid: int
    who: str  # "Process-2", "consumer (daemon)"
    where: str | None  # "exercise5_queue.py:40": its innermost frame in the student's file
    function: str | None
    code: str  # that line's source text
    call: str | None  # the library call it was blocked in, e.g. "Queue.get()", from the stack (or the log)
    doing: str  # when not in the student's code: what it was doing, in words
    on: str = ""  # the object waited on: "the queue made at line 35"
    why: str = ""  # what could have released it, as a sentence


@dataclass(frozen=True)
class Diagnosis:
    processes: tuple[Blocked, ...]
    reasons: tuple[str, ...]  # the wait-for chain, one sentence each

    @property
    def calls(self) -> frozenset[str]:
        return frozenset(p.call for p in self.processes if p.call)


# --------------------------------------------------------------------------- reading the stacks


def own_frames(stack: ProcessStack, student_file: str) -> tuple[Frame, ...]:
    """The thread that matters: the first one in the student's file, else the main thread (the
    one not started by threading: faulthandler may list a queue's feeder thread first)."""
    mine = [t for t in stack.threads if any(_in_student(f, student_file) for f in t)]
    if mine:
        return mine[0]
    main = [t for t in stack.threads if t and t[0].function not in ("_bootstrap", "_bootstrap_inner")]
    return (main or list(stack.threads) or [()])[0]


def _in_student(frame: Frame, student_file: str | None) -> bool:
    return not frame.file.startswith(GRADER_DIR) and MP_MARK not in frame.file and (
        student_file is None or os.path.basename(frame.file) == student_file)


def _call_name(frame: Frame) -> str | None:
    if MP_MARK in frame.file:
        module = frame.file.split(MP_MARK, 1)[1].removesuffix(".py")
        return LIBRARY_CALLS.get((module, frame.function), f"multiprocessing's {module}.{frame.function}()")
    return OTHER_CALLS.get((os.path.basename(frame.file).removesuffix(".py"), frame.function))


def _summary(frames: tuple[Frame, ...], stack: ProcessStack) -> str:
    """Where a process was when none of its frames is the student's: said in the student's terms."""
    files = [f.file for f in frames]
    functions = [f.function for f in frames]
    if "_finalize_join" in functions:
        return _("unable to exit after its work: its queue's feeder thread was still writing the items it put "
                 "into a pipe that nobody reads")
    if frames and frames[-1].file.endswith("sandbox_child.py"):
        return _("done with your code (the grader was waiting for its next request)")
    if any(f.endswith(os.sep + "managers.py") for f in files) and "serve_forever" in functions:
        return _("the Manager's server process, serving requests")
    if "run_as_script" in functions:
        return _("running your file as a program, waiting for it to exit")
    if "_exit_function" in functions:
        return _("at the end of its program, waiting for its children to end")
    if "worker" in functions and any(f.endswith(os.sep + "pool.py") for f in files):
        return _("a Pool worker waiting for its next task")
    if any(f.startswith(GRADER_DIR + "hidden") for f in files):
        last = max(i for i, f in enumerate(frames) if f.file.startswith(GRADER_DIR))
        call = next((c for c in map(_call_name, frames[last + 1:]) if c), None)
        return _("running the grader's code for this check") + (
            _(", waiting in {call}").format(call=_(call)) if call else "")
    if frames and frames[-1].function == "run" and frames[-1].file.endswith(os.sep + "process.py"):
        return _("running its target, which is not a function of your file (time.sleep, for instance)")
    if frames and MP_MARK in frames[-1].file:
        call = _call_name(frames[-1])
        return _("inside multiprocessing ({call}), not in your code").format(call=_(call))
    if frames and frames[-1].file.startswith("<frozen importlib"):
        return _("still starting up, importing modules")
    return _("not running your code")


def read_stack(obs: Observation, stack: ProcessStack) -> Blocked:
    who = stack.name + (_(" (daemon)") if stack.daemon else "")
    if not stack.threads:  # asked, but it answered nothing: it had already exited (a zombie until joined)
        return Blocked(stack.pid, who, None, None, "", None, _("already ended (not yet joined)"))
    frames = own_frames(stack, obs.student_file)
    index = next((i for i in range(len(frames) - 1, -1, -1) if _in_student(frames[i], obs.student_file)), None)
    if index is None:
        return Blocked(stack.pid, who, None, None, "", _exit_call(frames), _summary(frames, stack))
    frame = frames[index]
    below = [f for f in frames[index + 1:] if not f.file.startswith(GRADER_DIR)]
    call = next((c for c in map(_call_name, below[:1]) if c), None) if below else None
    return Blocked(stack.pid, who, f"{obs.student_file}:{frame.line}", frame.function, obs.source_line(frame.line),
                   call, "")


def _exit_call(frames) -> str | None:
    functions = {f.function for f in frames}
    if "_finalize_join" in functions:
        return "Queue._finalize_join()"
    return "the end of the program" if "_exit_function" in functions else None


# --------------------------------------------------------------------------- reading the log


class _Log:
    """The probe's events, indexed for the questions a diagnosis asks."""

    def __init__(self, obs: Observation):
        self.obs = obs
        self.events = [e for e in obs.events if not e.internal]
        self.names: dict[int, str] = {}
        self.ended: dict[int, Event] = {}
        self.errors: dict[int, Event] = {}
        for e in obs.events:
            if e.kind == "process.start" and e.get("child"):
                self.names.setdefault(e.get("child"), str(e.get("name")))
            elif e.kind == "process.begin":
                self.names[e.pid] = str(e.get("name"))
            elif e.kind == "process.end":
                self.ended[e.pid] = e
                self.names.setdefault(e.pid, str(e.get("name")))
            elif e.kind == "process.error":
                self.errors[e.pid] = e
        for s in obs.stacks:
            self.names.setdefault(s.pid, s.name)
        self.alive = {s.pid for s in obs.stacks if s.threads}
        done = {(e.pid, e.get("wid")) for e in self.events if e.kind != "wait" and e.get("wid") is not None}
        self.pending: dict[int, Event] = {}
        for e in self.events:
            if e.kind == "wait" and (e.pid, e.get("wid")) not in done:
                self.pending[e.pid] = e  # the latest unfinished wait of the process

    def name(self, pid: int) -> str:
        return self.names.get(pid) or _("process {pid}").format(pid=pid)

    def of(self, kind: str, **match) -> list[Event]:
        return [e for e in self.events if e.kind == kind and all(e.get(k) == v for k, v in match.items())]

    def line(self, event: Event | None) -> str:
        if event is not None and event.where:
            return _("line {line}").format(line=event.where.rsplit(":", 1)[1])
        return _("an unknown line")

    def ended_how(self, pid: int) -> str:
        """", it crashed with TypeError at line 25 (...)" or " (exit code 1)": how a process ended."""
        error = self.errors.get(pid)
        if error is not None:
            at = _(" at {line}").format(line=self.line(error)) if error.where else ""
            return _("crashed with {error}{at} ({message})").format(error=error.get("error"), at=at,
                                                                   message=error.get("message"))
        end = self.ended.get(pid)
        code = end.get("exitcode") if end is not None else None
        if code not in (None, 0):
            return _("ended with exit code {code}").format(code=code)
        return _("ended")

    def names_of(self, pids) -> str:
        names = sorted({self.name(p) for p in pids})
        return ", ".join(names[:4]) + (_(" and {count} more").format(count=len(names) - 4) if len(names) > 4 else "")


# --------------------------------------------------------------------------- what could have released it


def _queue(log: _Log, b: Blocked, wait: Event) -> tuple[str, str]:
    q = wait.get("q")
    made = log.of("queue.create", q=q) or log.of("simplequeue.create", q=q)
    kind = wait.get("queue") or "queue"
    on = (_("the {kind} created at {line}").format(kind=kind, line=log.line(made[0])) if made and made[0].where
          else _("the {kind} the grader gave your code").format(kind=kind))
    puts = [e for e in log.events if e.kind.endswith((".put", ".put_nowait")) and e.get("q") == q]
    gets = [e for e in log.events if e.kind.endswith((".get", ".get_nowait")) and e.get("q") == q]
    if wait.get("call") == "queue.join":
        done = len([e for e in log.events if e.kind == "queue.task_done" and e.get("q") == q])
        return on, _("{puts} item(s) were put on it and task_done() was called {done} time(s): join() returns "
                     "only once task_done() has been called for every item put, so some item taken was never "
                     "marked done.").format(puts=len(puts), done=done)
    producers = {e.pid for e in puts}
    running = producers & log.alive - {b.pid}
    consumers = {e.pid for e in gets} | {p for p, w in log.pending.items() if w.get("q") == q}
    sentinels = sum(1 for e in puts if e.get("value") == "None")
    counted = (_("{puts} item(s) were put on it and {gets} taken").format(puts=len(puts), gets=len(gets)) if puts
               else _("{gets} item(s) were taken from it and none was put by your processes").format(gets=len(gets)))
    if sentinels and sentinels < len(consumers):
        counted += ngettext("; {sentinels} sentinel (None) was put for {consumers} consumers, and each consumer "
                            "stops at a sentinel of its own",
                            "; {sentinels} sentinels (None) were put for {consumers} consumers, and each consumer "
                            "stops at a sentinel of its own", sentinels).format(sentinels=sentinels,
                                                                               consumers=len(consumers))
    others = log.alive - {b.pid}
    if not producers and not gets:
        still = (ngettext("; {names} is still running, but blocked (see above)",
                          "; {names} are still running, but blocked (see above)", len(others)).format(
                     names=log.names_of(others)) if others
                 else _(", and no other process of yours is still running"))
        return on, _("Nothing was ever put on it{still}.").format(still=still)
    if not running:
        gone = producers - {b.pid}
        if gone:
            who_put = _("the process(es) that put to it ({names}) have ended").format(names=log.names_of(gone))
        elif producers:
            who_put = _("only {who} itself put to it").format(who=b.who)
        else:
            who_put = _("no process of yours put to it")
        return on, _("{counted}; {who_put}, and no process still running puts to it, so nothing more will "
                     "arrive.").format(counted=counted, who_put=who_put)
    return on, _("{counted}; {names} could still put to it, but is blocked too (see above).").format(
        counted=counted, names=log.names_of(running))


def _lock(log: _Log, b: Blocked, wait: Event) -> tuple[str, str]:
    lock = wait.get("lock")
    kind = (wait.get("type") or "Lock").removesuffix("Proxy")  # a Manager's LockProxy is a Lock to the student
    made = log.of("lock.create", lock=lock)
    value = [e for e in log.events if e.kind.startswith("shared.") and e.get("lock_id") == lock]
    on = (_("the lock of the shared value created at {line}").format(line=log.line(value[0])) if value
          else _("a managed {kind} (it lives in the Manager's process)").format(kind=kind.removesuffix("Proxy"))
          if wait.get("managed")
          else _("the {kind} created at {line}").format(kind=kind, line=log.line(made[0] if made else None)))
    held: dict[int, Event] = {}  # pid -> its latest acquire still unmatched
    stack: list[Event] = []
    for e in log.events:
        if e.get("lock") != lock:
            continue
        if e.kind == "lock.acquire" and e.get("acquired"):
            stack.append(e)
        elif e.kind == "lock.release" and stack:
            mine = [a for a in stack if a.pid == e.pid]
            stack.remove(mine[-1] if mine else stack[0])
    for e in stack:
        held[e.pid] = e
    if not held:
        return on, _("The log shows no process holding it (it may have been taken by code the probe does not see).")
    parts = []
    for pid, took in held.items():
        if pid == b.pid:
            parts.append(_("{who} itself took it at {line} and has not released it: a {kind} cannot be taken "
                           "twice, even by the process that holds it").format(who=b.who, line=log.line(took), kind=kind))
        elif pid in log.alive:
            parts.append(_("{who} took it at {line} and still holds it (see where it is above)").format(
                who=log.name(pid), line=log.line(took)))
        else:
            parts.append(_("{who} took it at {line} and {how} before releasing it").format(
                who=log.name(pid), line=log.line(took), how=log.ended_how(pid)))
    if any(pid not in log.alive for pid in held):
        name = "sem" if "Semaphore" in kind else "lock"
        parts.append(_("a {kind} is not released when its holder ends, so `with {name}:` (or release() in a "
                       "`finally:`) is what frees it however the block ends").format(kind=kind, name=name))
    return on, _("; ").join(parts) + _(".")


def _pipe(log: _Log, b: Blocked, wait: Event) -> tuple[str, str]:
    end = wait.get("end")
    if not end or ":" not in end:
        return _("a pipe"), ""
    pipe, side = end.rsplit(":", 1)
    other = f"{pipe}:{1 - int(side)}"
    made = log.of("pipe.create", pipe=pipe)
    on = _("the pipe created at {line}").format(line=log.line(made[0] if made else None))
    sends = log.of("pipe.send", end=other)
    senders = {e.pid for e in sends}
    creator = made[0].pid if made else None
    holders = set()
    closed = {e.pid for e in log.of("pipe.close", end=other)}
    candidates = {e.pid for e in log.of("pipe.hold", end=other)} | senders
    if creator is not None:
        candidates.add(creator)
        if log.obs.start_method == "fork":  # a forked child gets a copy of every end its parent held
            created = made[0].t
            candidates |= {e.get("child") for e in log.events
                           if e.kind == "process.start" and e.pid == creator and e.t >= created and e.get("child")}
    holders = {p for p in candidates if p in log.alive and p not in closed}
    sent = _("{count} message(s) were sent on its other end").format(count=len(sends)) + (
        _(" (by {names})").format(names=log.names_of(senders)) if senders else "")
    gone = senders - log.alive
    ended = _("; {names} {how}").format(names=log.names_of(gone), how=log.ended_how(next(iter(gone)))) \
        if len(gone) == 1 else (_("; the senders {names} have ended").format(names=log.names_of(gone)) if gone else "")
    if holders:
        keep = ", ".join(_("{who} itself").format(who=b.who) if p == b.pid else log.name(p)
                         for p in sorted(holders, key=log.name))
        return on, _("{sent}{ended}. recv() raises EOFError only once every copy of the sending end is closed, "
                     "and a copy is still open in {keep}: close each process's unused end right after "
                     "start().").format(sent=sent, ended=ended, keep=keep)
    return on, sent + ended + _(".")


def _join(log: _Log, b: Blocked, wait: Event) -> tuple[str, str]:
    child = wait.get("child")
    name = log.name(child) if child else str(wait.get("name"))
    on = _("{name} to end").format(name=name)
    stuck = next((s for s in log.obs.stacks if s.pid == child), None)
    if stuck is not None and any(f.function == "_finalize_join" for t in stuck.threads for f in t):
        puts = [e for e in log.events if e.pid == child and e.kind.endswith(".put")]
        q = puts[-1].get("q") if puts else None
        made = log.of("queue.create", q=q) if q else []
        where = _(" on the Queue created at {line}").format(line=log.line(made[0])) if made else ""
        return on, _("{name} has finished its function but cannot exit until the items it put{where} are "
                     "taken, and nobody takes them while {who} waits in join(): get() the items before "
                     "join().").format(name=name, where=where, who=b.who)
    if child in log.alive:
        return on, _("{name} is still running (see where it is above).").format(name=name)
    if child in log.ended:
        return on, _("{name} {how}, but cannot be collected yet.").format(name=name, how=log.ended_how(child))
    return on, ""


def _result(log: _Log, b: Blocked, wait: Event) -> tuple[str, str]:
    pool = wait.get("pool")
    made = log.of("pool.create", pool=pool)
    on = _("a result of the Pool created at {line}").format(line=log.line(made[0] if made else None))
    ended = [e for e in log.events if e.kind in ("pool.terminate", "pool.exit") and e.get("pool") == pool
             and e.t <= wait.t]
    if ended:
        how = _("left its `with` block (which calls terminate())") if ended[0].kind == "pool.exit" \
            else _("was terminated")
        return on, _("The pool {how} at {line}, before this task had finished: a terminated pool never delivers "
                     "the results still pending.").format(how=how, line=log.line(ended[0]))
    workers = [s for s in log.obs.stacks if s.pid != b.pid]
    busy = [read_stack(log.obs, s) for s in workers]
    running = [x.who for x in busy if x.where]
    if running:
        return on, _("The task is still running in {names} (see above).").format(names=", ".join(running))
    return on, _("No worker was running a task of yours: the result was never produced (did a callback raise?).")


REASONERS = {"queue.get": _queue, "simplequeue.get": _queue, "queue.join": _queue, "lock.acquire": _lock,
             "pipe.recv": _pipe, "process.join": _join, "result.get": _result, "result.wait": _result,
             "result.next": _result,
             "pool.join": _result}


def _at_exit(log: _Log, b: Blocked) -> tuple[str, str]:
    started = {e.get("child") for e in log.events if e.kind == "process.start" and e.pid == b.pid}
    running = [p for p in started if p in log.alive]
    if running:
        return _("its children to end"), ngettext(
            "{names} is still running: a program's end joins every non-daemon child first.",
            "{names} are still running: a program's end joins every non-daemon child first.",
            len(running)).format(names=log.names_of(running))
    feeding = [e for e in log.events if e.pid == b.pid and e.kind.endswith(".put")]
    if feeding:
        return _("its queue to be flushed"), _("It put items on a queue that nobody has taken yet: a process "
                                               "that put to a queue waits at exit until its items are taken.")
    return "", ""


# --------------------------------------------------------------------------- the diagnosis


def diagnose(obs: Observation) -> Diagnosis:
    log = _Log(obs)
    blocked = []
    for stack in obs.stacks:
        b = read_stack(obs, stack)
        wait = log.pending.get(stack.pid)
        if wait is not None and b.where and wait.where == b.where.rsplit("/", 1)[-1]:
            # The log names the object; the stack confirms the process is at that call.
            if b.call is None:
                b = _with(b, call=WAIT_CALLS.get(wait.get("call"), b.call))
            reasoner = REASONERS.get(wait.get("call"))
            if reasoner is not None:
                on, why = reasoner(log, b, wait)
                b = _with(b, on=on, why=why)
        elif b.call == "the end of the program":
            on, why = _at_exit(log, b)
            b = _with(b, on=on, why=why)
        blocked.append(b)
    reasons = _grouped_sentences([b for b in blocked if b.on or b.why])
    for pid, error in log.errors.items():  # a crash nobody's wait explained yet
        if pid not in log.alive and not any(log.name(pid) in r and error.get("error") in r for r in reasons):
            reasons.append(_("{name} {how}.").format(name=log.name(pid), how=log.ended_how(pid)))
    return Diagnosis(tuple(blocked), tuple(reasons))


def _with(b: Blocked, **changes) -> Blocked:
    return Blocked(**{**b.__dict__, **changes})


def _grouped_sentences(blocked: list[Blocked]) -> list[str]:
    """One sentence per distinct wait: processes blocked alike are named together."""
    groups: dict[tuple, list[Blocked]] = {}
    for b in blocked:
        groups.setdefault((b.where, b.on, b.why), []).append(b)
    sentences = []
    for (where, on, why), members in groups.items():
        who = ", ".join(m.who for m in members)
        at = _(" at line {line}").format(line=where.rsplit(":", 1)[1]) if where else ""
        head = (ngettext("{who} waits{at} for {on}", "{who} wait{at} for {on}", len(members)).format(
            who=who, at=at, on=on) if on else _("{who}{at}:").format(who=who, at=at))
        sentences.append(_("{head}. {why}").format(head=head, why=why).strip() if why else head + _("."))
    return sentences
