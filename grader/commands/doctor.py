"""`grade doctor`: what would protect a student's code on this machine, tried for real.

An instructor runs it before grading a class. It reads what the kernel offers (Landlock's
ABI, a writable pids cgroup, whether a dropped uid could run this Python) and then starts
one confined child, as a sandbox would, that tries what a hostile submission tries: write
outside its folder, signal its parent, connect over TCP. The JSON form is the `confinement`
object of the verdict, plus what the trial saw.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile

from .. import confinement
from ..i18n import N_
from ._common import EXIT_PASS

HELP = N_("what confines student code on this machine (Landlock, process cap), tried for real")

_TRIAL = """
import json, os, signal, socket, sys
from grader import confinement
scratch, outside, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
applied = confinement.restrict(scratch, confinement.read_paths([]), False)
tried = {}
def attempt(name, action):
    try:
        action()
        tried[name] = "allowed"
    except PermissionError:
        tried[name] = "refused"
    except OSError as error:
        tried[name] = f"failed: {error.strerror}"
attempt("write outside", lambda: open(outside, "a").close())
attempt("write inside", lambda: open(os.path.join(scratch, "x"), "w").close())
attempt("signal the parent", lambda: os.kill(os.getppid(), 0))
attempt("tcp connect", lambda: socket.create_connection(("127.0.0.1", port), timeout=2).close())
print(json.dumps({"applied": applied, "tried": tried}))
"""


def configure(parser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text")


def trial() -> dict:
    """Run the confined child; what it applied and what the kernel let it do."""
    with tempfile.TemporaryDirectory(prefix="grade-doctor-") as parent:
        scratch = os.path.join(parent, "scratch")
        os.mkdir(scratch)
        outside = os.path.join(parent, "outside.txt")
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(1)
            port = listener.getsockname()[1]
            env = dict(os.environ, GRADE_CONFINE="1")
            try:
                proc = subprocess.run([sys.executable, "-c", _TRIAL, scratch, outside, str(port)],
                                      capture_output=True, text=True, timeout=30, env=env)
                return json.loads(proc.stdout)
            except (OSError, subprocess.SubprocessError, ValueError) as error:
                return {"applied": {}, "tried": {}, "error": str(error)}


def report() -> dict:
    machine = confinement.machine_report()
    machine["uid_drop"] = os.getuid() == 0 and confinement.unprivileged_can_run_python()
    machine["trial"] = trial() if confinement.enabled() else {}
    return machine


def run(args) -> int:
    data = report()
    if args.format == "json":
        print(json.dumps(data, indent=2))
        return EXIT_PASS
    yes = {True: "yes", False: "no"}
    abi = data["landlock_abi"]
    print(f"Landlock ABI:        {abi or 'none'}" + (f" ({data['why']})" if data["why"] else ""))
    print(f"  files confined:    {yes[data['fs']]}")
    print(f"  signals scoped:    {yes[data['signals']]}")
    print(f"  TCP refused:       {yes[data['net']]}")
    print(f"process cap held by: {data['process_cap']}")
    print(f"uid drop possible:   {yes[data['uid_drop']]}" + (
        "" if data["uid_drop"] or os.getuid() != 0 else " (this Python is not runnable by another user)"))
    for name, outcome in data["trial"].get("tried", {}).items():
        print(f"  tried: {name:<18} {outcome}")
    if data["trial"].get("error"):
        print(f"  the trial failed: {data['trial']['error']}")
    return EXIT_PASS
