"""Checks of the schedules test course: one is a function of the schedule alone.

`test_unperturbed` fails exactly when an explored schedule delayed a synchronisation
point, and lists the delays: so a test can see that a failure names its seed, and that
`--seed` replays the very same delays.
"""

from grader.checks import check, driver, expect

N = 10


@driver
def relay(student):
    return student.relay(N)


@check("every item arrives", uses=relay)
def test_items(obs):
    expect(obs.value == list(range(N)), "wrong_result", f"got {obs.value!r}")


@check("no synchronisation point was delayed", uses=relay)
def test_unperturbed(obs):
    delays = sorted((e.get("at"), e.get("ms")) for e in obs.events if e.kind == "schedule.delay")
    expect(not delays, "wrong_result", f"delays: {delays}")
