"""Hidden checks for exercise 4: Pipe (a duplex ping-pong, a one-way pipe, EOF).

Drivers (run in the sandbox) call the student's functions and report plain data;
checks (run in the grader) judge it, together with the probe's log of pipe calls.
The driver most likely to hang (a sender that dies while the parent still holds a copy
of the sending end) is the last one.
"""

import os
import time

from grader.checks import N_, _, check, children, driver, expect, fail, first_at, judge_error, student_calls

NUMBERS = [3, 1, 4, 1, 5, 9, 2, 6]
BIG = "x" * 70_000  # larger than a pipe's buffer: it must still arrive whole
ITEMS = [0, "one", (2, "two"), {"three": 3}, BIG, 5.5, b"six", "last"]
DIE_AFTER = 3
PAUSED_ITEMS = [0, "one", (2, "two"), {"three": 3}, 5.5, b"six", "last"]  # small: a sender never blocks
PAUSE_MAX_S = 3.0  # longest the pausing sender waits for the receiver to wait: only a receiver that never does

# Hang advice is keyed by the call it is about: shown only when a stack is in that call (the
# diagnosis says which copies of the sending end were still open).
HUNG_IN_RECV = {"Connection.recv()": N_("End the receiving loop on EOFError.")}

# ----------------------------------------------------------------------------- helpers run in children


def dying_sender(conn, items):
    """A sender that crashes after DIE_AFTER messages, without a sentinel and without close()."""
    for item in items[:DIE_AFTER]:
        conn.send(item)
    os._exit(1)


class PausingSender:
    """A sender that pauses: it sends half the items, then waits until the parent is seen waiting
    for more (in recv(), or a poll() that found nothing), then sends the rest and closes.

    A pause is what a real sender does (it computes the next message); a receiver that takes an
    empty pipe for the end of the conversation (poll() with a timeout, check-then-act) stops
    there and loses the rest, every time, however fast the machine. A correct receiver blocks
    in recv(), which releases the sender at once.
    """

    def __init__(self):
        import multiprocessing

        self.waiting = multiprocessing.RawValue("i", 0)

    def __call__(self, conn, items):
        half = len(items) // 2
        for item in items[:half]:
            conn.send(item)
        deadline = time.monotonic() + PAUSE_MAX_S
        while not self.waiting.value and time.monotonic() < deadline:
            time.sleep(0.002)
        for item in items[half:]:
            conn.send(item)
        conn.close()


def _noting_waits(call, sender):
    """Run call() while telling `sender` when this process waits on a pipe that has nothing to read."""
    from multiprocessing import connection

    me = os.getpid()
    cls = connection.Connection
    original_poll, original_recv_bytes = cls._poll, cls._recv_bytes

    def poll(conn, timeout):
        ready = original_poll(conn, timeout)
        if os.getpid() == me and not ready:
            sender.waiting.value = 1
        return ready

    def recv_bytes(conn, *a, **k):
        if os.getpid() == me and not original_poll(conn, 0):
            sender.waiting.value = 1  # about to block in recv(): the sender may go on
        return original_recv_bytes(conn, *a, **k)

    cls._poll, cls._recv_bytes = poll, recv_bytes
    try:
        return call()
    finally:
        cls._poll, cls._recv_bytes = original_poll, original_recv_bytes


# ----------------------------------------------------------------------------- drivers


@driver
def ping_pong(student):
    return {"parent": os.getpid(), "replies": student.ping_pong(list(NUMBERS))}


def _recording_pipes(call, *args):
    """Run call(*args) while noting, in this process, the `duplex` of every Pipe() created
    and whether the sending end of a one-way pipe was still open here when this process
    first waited to receive on its other end.

    (The probe's pipe.create event misses calls made through multiprocessing.Pipe, the
    context method, which it takes for multiprocessing's own: so the driver records them.
    The hook sits beneath Connection.recv(), so a stack dumped at a hang still shows the
    student's recv() waiting in multiprocessing.connection.)
    """
    from multiprocessing import connection

    me = os.getpid()
    original_pipe, original_recv_bytes = connection.Pipe, connection.Connection._recv_bytes
    created, pairs, seen = [], {}, {"recv_with_send_open": None}

    def pipe(duplex=True):
        ends = original_pipe(duplex)
        created.append(bool(duplex))
        if not duplex:
            pairs[id(ends[0])] = ends
        return ends

    def recv_bytes(conn, *a, **k):
        ends = pairs.get(id(conn))
        if os.getpid() == me and ends is not None and ends[0] is conn and seen["recv_with_send_open"] is None:
            seen["recv_with_send_open"] = not ends[1].closed
        return original_recv_bytes(conn, *a, **k)

    connection.Pipe, connection.Connection._recv_bytes = pipe, recv_bytes
    try:
        value = call(*args)
    finally:
        connection.Pipe, connection.Connection._recv_bytes = original_pipe, original_recv_bytes
    return {"parent": me, "got": value, "pipes": created, "recv_with_send_open": seen["recv_with_send_open"]}


@driver
def one_way(student):
    return _recording_pipes(student.one_way, list(ITEMS))


@driver
def pausing_sender(student):
    sender = PausingSender()
    return _noting_waits(lambda: _recording_pipes(student.one_way, list(PAUSED_ITEMS), sender), sender)


@driver
def sender_dies(student):
    return _recording_pipes(student.one_way, list(ITEMS), dying_sender)


# ----------------------------------------------------------------------------- checks: ping-pong

PING_HANG = {"Connection.recv()": N_("Does echo_server() stop (return) when it receives None, and does ping_pong() "
                                   "send None before it joins the child? Does each side recv() only what the "
                                   "other sends?")}


@check("ping-pong: each answer is the square of the number sent", uses=ping_pong, leftovers_ok=True,
       on_timeout=PING_HANG)
def test_ping_pong_answers(obs):
    replies = obs.value["replies"]
    expected = [x * x for x in NUMBERS]
    expect(isinstance(replies, list), "wrong_result",
           _("ping_pong({NUMBERS}) should return the list of answers; it returned {replies!r}.").format(NUMBERS=NUMBERS, replies=replies))
    expect(replies == expected, "wrong_result",
           _("ping_pong({NUMBERS}) returned {replies}; expected {expected} (the square of each number, in "
             "the order sent). Receive one answer per number you send.").format(NUMBERS=NUMBERS, replies=replies, expected=expected))


@check("the answers are sent by the child, over the pipe", uses=ping_pong, leftovers_ok=True, on_timeout=PING_HANG)
def test_answers_come_from_child(obs):
    parent = obs.value["parent"]
    started = children(obs)
    expect(started, "wrong_result",
           _("ping_pong() started no process: start a Process running echo_server on one end of the pipe."))
    sent_by_children = [e for e in student_calls(obs, "pipe.send") if e.pid != parent]
    expect(len(sent_by_children) == len(NUMBERS), "wrong_result",
           _("The child should send one answer per number ({n_NUMBERS}); it called send() "
             "{n_sent_by_children} time(s). echo_server() answers with conn.send(x * x).").format(n_NUMBERS=len(NUMBERS), n_sent_by_children=len(sent_by_children)),
           where=first_at(sent_by_children))


@check("ping, pong, ping, pong: each answer is received before the next number is sent", uses=ping_pong,
       category="ordering", leftovers_ok=True, on_timeout=PING_HANG)
def test_alternates(obs):
    parent = obs.value["parent"]
    calls = [e for e in student_calls(obs, "pipe.send", "pipe.recv") if e.pid == parent]
    sends = recvs = 0
    for e in calls:
        if e.kind == "pipe.send":
            expect(sends == recvs, "ordering",
                   _("ping_pong() sent a number before it had received the answer to the previous one (send at "
                     "{where}). A ping-pong waits for each answer: send(x), then recv(), then the next x.").format(where=e.where),
                   where=e.where)
            sends += 1
        else:
            recvs += 1
    expect(sends >= len(NUMBERS), "wrong_result",
           _("The parent called send() {sends} time(s); expected one per number, then None.").format(sends=sends))


@check("the echo server stops at None and is joined", uses=ping_pong, category="lifecycle", on_timeout=PING_HANG)
def test_server_joined(obs):
    started = children(obs)
    expect(started, "wrong_result", _("ping_pong() started no process."))
    unjoined = [info["name"] for info in started.values() if not info.get("joins")]
    expect(not unjoined, "lifecycle",
           _("The child {unjoined} was never joined: send None so that echo_server returns, then join() it.").format(unjoined=unjoined),
           where=first_at(student_calls(obs, "process.start")))
    crashed = {info["name"]: info.get("exitcode") for info in started.values() if info.get("exitcode")}
    expect(not crashed, "crash",
           _("The echo server ended with exitcode {value}: an exception in the child (its traceback is in "
             "the output). Did it try to answer None? Leave the loop when recv() returns None, before "
             "computing x * x.").format(value=list(crashed.values())[0] if crashed else '?'),
           where=first_at([e for e in student_calls(obs, "pipe.recv") if e.pid != obs.value["parent"]]))


# ----------------------------------------------------------------------------- checks: one-way pipe


def _judge_receiver_error(obs, when):
    """Precise advice for the exceptions a receiving loop typically raises; else the standard crash."""
    error = obs.error
    where = f"{obs.student_file}:{error.line}" if error.line else None
    if error.type == "EOFError":
        fail("crash", _("{when}, recv() raised EOFError and your code did not catch it. EOFError is how recv() says "
                        '"the pipe is empty and no sending end is left open": it is the normal end of the conversation. '
                        "Wrap recv() in try/except EOFError and leave the loop there.\n").format(when=_(when))
                      + error.traceback, where)
    if error.type == "OSError" and "only" in error.message:
        fail("crash", _("{when}, your code raised OSError: {message}. Pipe(duplex=False) returns (receive end, send "
                        "end), in that order: the FIRST end can only recv(), the SECOND can only send(). Give the "
                        "second end to the sender and keep the first to receive.\n").format(when=_(when), message=error.message)
                      + error.traceback, where)
    judge_error(obs)


@check("Pipe(duplex=False): every message arrives, complete and in order", uses=one_way, expects_error=True,
       leftovers_ok=True, on_timeout=HUNG_IN_RECV)
def test_one_way_messages(obs):
    if obs.error is not None:
        _judge_receiver_error(obs, N_("While receiving"))
    got = obs.value["got"]
    expect(isinstance(got, list), "wrong_result", _("one_way() should return a list; it returned {got!r}.").format(got=got))
    shown = [("x" * 10 + f"... ({len(x)} characters)") if isinstance(x, str) and len(x) > 100 else x for x in got]
    expect(len(got) == len(ITEMS), "wrong_result",
           _("one_way() returned {n_got} message(s); the sender sent {n_ITEMS}: {shown!r}. Keep receiving "
             "until recv() raises EOFError.").format(n_got=len(got), n_ITEMS=len(ITEMS), shown=shown))
    wrong = [i for i, (a, b) in enumerate(zip(got, ITEMS, strict=False)) if a != b]
    expect(not wrong, "wrong_result",
           _("Message {value} differs from what was sent: expected every item, in the order sent; got "
             "{shown!r}.").format(value=wrong[0] if wrong else '?', shown=shown))


@check("one_way() uses a one-way pipe: Pipe(duplex=False)", uses=one_way, leftovers_ok=True,
       on_timeout=HUNG_IN_RECV)
def test_uses_one_way_pipe(obs):
    created = obs.value["pipes"]
    expect(created, "wrong_result", _("one_way() created no pipe: call Pipe(duplex=False)."))
    expect(False in created, "wrong_result",
           _("one_way() created a duplex pipe (both ends send and receive); this exercise is about the "
             "one-way kind: Pipe(duplex=False), which returns (receive end, send end)."),
           where=first_at(student_calls(obs, "process.start")))


@check("the parent closes its copy of the sending end before it receives", uses=one_way, category="lifecycle",
       leftovers_ok=True, on_timeout=HUNG_IN_RECV)
def test_parent_closes_send_end(obs):
    expect(obs.value["recv_with_send_open"] is not True, "lifecycle",
           _("one_way() began to recv() while the parent still held its copy of the sending end. That copy "
             'keeps the pipe "open for writing", so recv() can never raise EOFError: had the sender died '
             "without a sentinel, one_way() would wait forever. Call send_end.close() in the parent right "
             "after start()."),
           where=first_at([e for e in student_calls(obs, "pipe.recv") if e.pid == obs.value["parent"]])
           or first_at(student_calls(obs, "process.start")))


@check("the sender runs in a child, and one_way() returns after it has finished", uses=one_way,
       category="lifecycle", on_timeout=HUNG_IN_RECV)
def test_sender_child_joined(obs):
    parent = obs.value["parent"]
    started = children(obs)
    expect(started, "wrong_result", _("one_way() started no process: start a Process running sender_func."))
    sent_by_children = [e for e in student_calls(obs, "pipe.send") if e.pid != parent]
    expect(len(sent_by_children) >= len(ITEMS), "wrong_result",
           _("The child should send the {n_ITEMS} items; it called send() {n_sent_by_children} time(s). "
             "Start the child with target=sender_func and args=(send_end, items).").format(n_ITEMS=len(ITEMS), n_sent_by_children=len(sent_by_children)))
    unjoined = [info["name"] for info in started.values() if not info.get("joins")]
    expect(not unjoined, "lifecycle",
           _("The sender {unjoined} was never joined: join() it before one_way() returns.").format(unjoined=unjoined),
           where=first_at(student_calls(obs, "process.start")))


# ----------------------------------------------------------------------------- checks: a sender that pauses


@check("a sender that pauses halfway: one_way() still receives every message", uses=pausing_sender,
       expects_error=True, leftovers_ok=True, on_timeout=HUNG_IN_RECV)
def test_sender_pauses(obs):
    if obs.error is not None:
        _judge_receiver_error(obs, N_("While the sender paused"))
    got = obs.value["got"]
    expect(isinstance(got, list), "wrong_result", _("one_way() should return a list; it returned {got!r}.").format(got=got))
    half = len(PAUSED_ITEMS) // 2
    expect(got == PAUSED_ITEMS, "wrong_result",
           _("The grader's sender sent {half} messages, paused until your code was waiting for more, then "
             "sent the other {n_PAUSED_ITEMS}; one_way() returned {n_got}: {got!r}. An empty pipe is not the "
             "end of the conversation (a poll() that times out, or one that finds nothing, only says "
             '"nothing yet"): keep calling recv() until it raises EOFError, which comes once every sending '
             "end is closed.").format(half=half, n_PAUSED_ITEMS=len(PAUSED_ITEMS) - half, n_got=len(got), got=got),
           where=first_at([e for e in student_calls(obs, "pipe.recv") if e.pid == obs.value["parent"]]))


# ----------------------------------------------------------------------------- checks: the sender dies (last)

DIED_HANG = {"Connection.recv()": N_("Here the grader's sender dies after 3 messages, without a sentinel: only "
                                   "EOFError can end the receiving loop.")}


@check("no hang when the sender dies early: one_way() returns what arrived", uses=sender_dies,
       expects_error=True, leftovers_ok=True, on_timeout=DIED_HANG)
def test_sender_dies(obs):
    if obs.error is not None:
        _judge_receiver_error(obs, N_("When the sender died early"))
    got = obs.value["got"]
    expected = ITEMS[:DIE_AFTER]
    expect(got != ITEMS, "wrong_result",
           _("one_way() received every item although the grader's sender_func sends only 3 and dies: start "
             "the child with target=sender_func (the parameter), not sender."))
    expect(got == expected, "wrong_result",
           _("The sender sent {expected!r} and died; one_way() returned {got!r}. Return every message that "
             "arrived before recv() raised EOFError.").format(expected=expected, got=got))


@check("the dead sender is joined", uses=sender_dies, category="lifecycle", on_timeout=DIED_HANG)
def test_dead_sender_joined(obs):
    started = children(obs)
    unjoined = [info["name"] for info in started.values() if not info.get("joins")]
    expect(started and not unjoined, "lifecycle",
           _("one_way() returned without joining the sender that died: join() it, whatever its fate."),
           where=first_at(student_calls(obs, "process.start")))
