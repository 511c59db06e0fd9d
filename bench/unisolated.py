"""The baseline "no isolation": an exercise's drivers run on a file in this one process.

`python bench/unisolated.py HIDDEN_MODULE STUDENT_FILE METHOD...` imports the student's
file and the hidden-check module, then calls every driver once per start method, as the
sandboxes would, but with no sandbox, no probe and no pytest session. Its wall time is
the work itself, against which the grader's price of safety is measured. Exceptions are
counted, not judged: this is a stopwatch, not a grader.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import sys
from pathlib import Path


def _load(path: Path, name: str):
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def main(argv: list[str]) -> int:
    hidden, student_file, *methods = argv
    # What the sandbox's probe tells every process: hidden modules find the student's file by it
    # in spawn and forkserver children (exercise 5's late producers do).
    os.environ["GRADER_STUDENT_FILE"] = str(Path(student_file).resolve())
    student = _load(Path(student_file), Path(student_file).stem)
    checks = _load(Path(hidden), Path(hidden).stem)
    drivers = [getattr(checks, n) for n in dir(checks) if getattr(getattr(checks, n), "_grader_driver", False)]
    errors = 0
    for method in methods:
        multiprocessing.set_start_method(method, force=True)
        for driver in drivers:
            try:
                driver(student)
            except BaseException:  # noqa: BLE001 - a driver's failure is still work done
                errors += 1
    print(f"{len(drivers)} drivers x {len(methods)} methods, {errors} raised")
    return 0


if __name__ == "__main__" and multiprocessing.current_process().name == "MainProcess":
    sys.exit(main(sys.argv[1:]))
